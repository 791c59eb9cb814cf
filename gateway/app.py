"""The Flask application factory: it only wires configuration and blueprints together."""
from flask import Flask, render_template

from smart_auth import server as smart_server

from . import config as config_module
from . import csrf, errors, fhir_api, portal, portal_records, practice, store
from . import ehr_launch, grants_api, oauth_api, oauth_pages, openapi
from . import portal_account, portal_signup, portal_verify, practice_api, practice_demographics, practice_enrollment
from .fhir_front import FhirFront
from .sessions import DbSessionInterface


def create_app(config=None):
    """Create the gateway app; ``config`` overrides defaults and ``GATEWAY_*`` variables."""
    app = Flask(__name__)
    settings = config_module.load(config)
    app.config.update(settings)
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    store.connect(app.config["DB"]).conn.close()  # create and migrate before serving
    app.session_interface = DbSessionInterface()
    errors.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(fhir_api.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(practice.bp)
    app.register_blueprint(portal_signup.bp)
    app.register_blueprint(portal_verify.bp)
    app.register_blueprint(portal_account.bp)
    app.register_blueprint(practice_enrollment.bp)
    app.register_blueprint(practice_demographics.bp)
    app.register_blueprint(practice_api.bp)
    smart_server.init_app(app)
    app.register_blueprint(oauth_api.bp)
    app.register_blueprint(oauth_pages.bp)
    app.register_blueprint(ehr_launch.bp)
    app.register_blueprint(grants_api.bp)
    app.register_blueprint(openapi.bp)
    portal_records.init_app(app)
    app.add_url_rule("/", "index", lambda: render_template("index.html"))
    app.wsgi_app = FhirFront(app.wsgi_app, app.config)
    return app
