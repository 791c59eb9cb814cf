"""The Flask application factory: it only wires configuration and blueprints together."""
from flask import Flask, current_app, render_template
from werkzeug.middleware.proxy_fix import ProxyFix

from smart_auth import server as smart_server

from . import config as config_module
from . import csrf, errors, fhir_api, outbound, portal, portal_records, practice, pruning, store
from . import web_headers
from . import ehr_launch, grants_api, oauth_api, oauth_pages, openapi
from . import portal_account, portal_signup, portal_verify, practice_api, practice_demographics, practice_enrollment
from .fhir_front import FhirFront
from .outbox_sender import init_app as init_outbox_sender
from .sessions import DbSessionInterface


def create_app(config=None):
    """Create the gateway app; ``config`` overrides defaults and ``GATEWAY_*`` variables."""
    app = Flask(__name__)
    settings = config_module.load(config)
    app.config.update(settings)
    store.connect(app.config["DB"]).close()  # create and migrate before serving
    store.configure(_configured_database)
    outbound.set_slots(app.config["OUTBOUND_SLOTS"])
    pruning.init_app(app)
    app.session_interface = DbSessionInterface()
    errors.init_app(app)
    web_headers.init_app(app)
    init_outbox_sender(app)  # queued email and SMS leave after the response
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
    trust_proxies(app)
    return app


def trust_proxies(app):
    """Believe the X-Forwarded-* headers of exactly the configured number of proxies (none by default).

    Without this every client behind a TLS proxy shares the proxy's address (one client could lock out
    all); with it, a client cannot claim another address by sending the header itself.
    """
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _configured_database():
    """The database path of the app handling this request (store.current() asks for it)."""
    return current_app.config["DB"]
