"""Running the app under gunicorn (gthread workers keep connections alive)."""

import orjson
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from gateway.errors import operation_outcome

# gunicorn's largest request line (its default is 4,094): a FHIR search with a few dozen codes needs more.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190
_DIAGNOSTICS = {
    400: ("invalid", "The request is not valid HTTP/1.1"),
    414: (
        "too-costly",
        f"The request line is longer than {LIMIT_REQUEST_LINE} bytes: send a long search as "
        "POST [type]/_search with a form body",
    ),
    431: (
        "too-costly",
        f"The request has more than {LIMIT_REQUEST_FIELDS} headers or a header longer than "
        f"{LIMIT_REQUEST_FIELD_SIZE} bytes",
    ),
}


class _Recorder:
    """Stands in for the client socket while gunicorn writes its HTML error page, keeping only the status line."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def sendall(self, data):
        self.data += data


class FhirErrorWorker(ThreadWorker):
    """A gthread worker whose own error answers (a request over its limits, malformed HTTP) are FHIR
    OperationOutcomes: gunicorn answers them before the app sees the request, in HTML."""

    def handle_error(self, req, client, addr, exc):
        recorder = _Recorder()
        super().handle_error(req, recorder, addr, exc)  # gunicorn's status choice and logging, kept as they are
        status_line = recorder.data.split(b"\r\n", 1)[0].decode("latin-1")
        status = int(status_line.split()[1]) if status_line.count(" ") >= 2 else 500
        code, message = _DIAGNOSTICS.get(status, ("exception", "The server could not answer this request"))
        if 400 <= status < 500 and status not in _DIAGNOSTICS:
            code, message = "invalid", status_line.split(" ", 2)[2]
        body = orjson.dumps(operation_outcome(message, code))
        head = (
            f"{status_line}\r\nConnection: close\r\nContent-Type: application/fhir+json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")


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
        from gateway.app import create_app

        return create_app(self.gateway_config)


def options(bind, workers, threads):
    """The gunicorn settings the gateway is served with (bench/floor.py serves its floor with the same)."""
    # secure_scheme_headers={}: gunicorn would otherwise believe X-Forwarded-Proto from any local peer;
    # forwarded headers are trusted in one place only, GATEWAY_TRUSTED_PROXIES (gateway/app.py).
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gateway.server.FhirErrorWorker",
        "keepalive": 30,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "secure_scheme_headers": {},
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
    }


def run(config, bind, workers, threads):
    """Serve until interrupted."""
    from gateway.app import create_app

    create_app(config)  # fail fast on bad configuration, and migrate once before forking
    GatewayServer(config, options(bind, workers, threads)).run()
