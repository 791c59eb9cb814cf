"""The Flask application factory: it only wires configuration and blueprints together."""
from flask import Flask

from . import config as config_module
from . import errors, fhir_api, store


def create_app(config=None):
    """Create the gateway app; ``config`` overrides defaults and ``GATEWAY_*`` variables."""
    app = Flask(__name__)
    settings = config_module.load(config)
    app.config.update(settings)
    store.connect(app.config["DB"]).conn.close()  # create and migrate before serving
    errors.init_app(app)
    app.register_blueprint(fhir_api.bp)
    return app
