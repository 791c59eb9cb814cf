"""Running the app under gunicorn (gthread workers keep connections alive)."""
from gunicorn.app.base import BaseApplication


class GatewayServer(BaseApplication):
    """A gunicorn application that builds the Flask app inside each worker."""

    def __init__(self, config, options):
        self.gateway_config = config
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        return create_app(self.gateway_config)


def options(bind, workers, threads):
    """The gunicorn settings the gateway is served with (bench/floor.py serves its floor with the same)."""
    # secure_scheme_headers={}: gunicorn would otherwise believe X-Forwarded-Proto from any local peer;
    # forwarded headers are trusted in one place only, GATEWAY_TRUSTED_PROXIES (gateway/app.py).
    return {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
            "keepalive": 30, "accesslog": None, "errorlog": "-", "loglevel": "warning", "secure_scheme_headers": {}}


def run(config, bind, workers, threads):
    """Serve until interrupted."""
    from .app import create_app

    create_app(config)  # fail fast on bad configuration, and migrate once before forking
    GatewayServer(config, options(bind, workers, threads)).run()
