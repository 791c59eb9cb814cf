"""The Flask application factory: it only wires configuration and blueprints together."""

from flask import Flask, current_app, render_template
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import config as config_module
from gateway import errors, outbound, pruning, store
from gateway.bulk_data import workers as export_workers
from gateway.fhir import api as fhir_api
from gateway.fhir import bulk as fhir_bulk
from gateway.fhir.front import FhirFront
from gateway.health_links import manifest_api as health_links_manifest_api
from gateway.oauth import api as oauth_api
from gateway.oauth import ehr_launch as oauth_ehr_launch
from gateway.oauth import grants_api as oauth_grants_api
from gateway.oauth import openapi
from gateway.oauth import pages as oauth_pages
from gateway.oauth.token_front import TokenFront
from gateway.outbox_sender import init_app as init_outbox_sender
from gateway.portal import access as portal_access
from gateway.portal import account as portal_account
from gateway.portal import digital_id as portal_digital_id
from gateway.portal import exports as portal_exports
from gateway.portal import home as portal_home
from gateway.portal import outbox_html as portal_outbox_html
from gateway.portal import records as portal_records
from gateway.portal import share as portal_share
from gateway.portal import signup as portal_signup
from gateway.portal import verify as portal_verify
from gateway.practice import api as practice_api
from gateway.practice import bring as practice_bring
from gateway.practice import demographics as practice_demographics
from gateway.practice import enrollment as practice_enrollment
from gateway.practice import home as practice_home
from gateway.practice import policy as practice_policy
from gateway.practice import records as practice_records
from gateway.practice import visit_summary as practice_visit_summary
from gateway.web import cors, csrf, locale_dates, read_floors
from gateway.web import headers as web_headers
from gateway.web.sessions import DbSessionInterface
from smart_auth import server as smart_server

# Every door's blueprint, each named after its module (gateway/<package>/<module>.py -> "<package>_<module>").
BLUEPRINTS = (
    fhir_api,
    fhir_bulk,
    portal_home,
    portal_signup,
    portal_outbox_html,
    portal_verify,
    portal_digital_id,
    portal_account,
    portal_records,
    portal_exports,
    portal_access,
    practice_home,
    practice_enrollment,
    practice_policy,
    practice_demographics,
    practice_records,
    practice_visit_summary,
    practice_bring,
    practice_api,
    oauth_api,
    oauth_pages,
    oauth_ehr_launch,
    oauth_grants_api,
    openapi,
    health_links_manifest_api,
    portal_share,
)


def create_app(config=None):
    """Create the gateway app; ``config`` overrides defaults and ``GATEWAY_*`` variables."""
    app = Flask(__name__)
    settings = config_module.load(config)
    app.config.update(settings)
    store.postgres.POOL_MAX = app.config["DATABASE_POOL"]  # before the first PostgreSQL pool opens
    store.connect(app.config["DB"]).close()  # create and migrate before serving
    store.configure(_configured_database)
    outbound.set_slots(app.config["OUTBOUND_SLOTS"])
    pruning.init_app(app)
    app.session_interface = DbSessionInterface()
    cors.init_app(app)  # first: a preflight is answered before any other check
    errors.init_app(app)
    web_headers.init_app(app)
    init_outbox_sender(app)  # queued email and SMS leave after the response
    export_workers.init_app(app)  # Bulk Data export jobs run in this process's worker threads
    csrf.init_app(app)
    read_floors.init_app(app)  # with replicas: a writer's next read sees the write
    locale_dates.init_app(app)
    smart_server.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    app.add_url_rule("/", "index", lambda: render_template("index.html"))
    app.wsgi_app = TokenFront(FhirFront(app.wsgi_app, app.config), app)
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
