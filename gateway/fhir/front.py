"""A lean WSGI front for the FHIR API's hot GETs: read, search and Patient/$everything.

Flask's request context, routing and response objects cost about 150 µs a request, as much as
serving the stored JSON itself (bench/: the gateway read at 0.32 of the bare-WSGI floor). This front
answers those three shapes through the very path the Flask routes take (fhir_handlers' ``admit``, the
handler, ``answer``), so the access check, negotiation and disclosure log are the same code. Everything
else, and any request that raises (401, 403, 404, 400, 406...) or is not a plain 200 (a conditional read),
goes to the Flask app, which answers it from scratch and renders the error, so errors have one
implementation. The exception is an outage of the database: asking Flask again would wait for the database a second
time, so the front answers that 503 itself, with the body and headers Flask's handler uses (gateway/errors.py).
"""

import functools
from urllib.parse import parse_qsl

from gateway.errors import UNAVAILABLE_HEADERS, unavailable, unavailable_outcome
from gateway.fhir import handlers
from gateway.fhir.handlers import FhirRequest
from gateway.fhir.response import FHIR_JSON
from gateway.web import cors
from mappers import REGISTRY

CONTENT_TYPE = ("Content-Type", FHIR_JSON + "; charset=utf-8")


class FhirFront:
    """WSGI middleware: serve hot FHIR GETs directly, hand the rest to ``app`` (the Flask wsgi_app)."""

    def __init__(self, app, config):
        self.app, self.config = app, config

    def __call__(self, environ, start_response):
        route = _route(environ) if environ["REQUEST_METHOD"] == "GET" else None
        if route is None:
            return self.app(environ, start_response)
        try:
            response = self._answer(environ, *route)
        except Exception as exc:  # noqa: BLE001 - Flask answers it again and renders the error (see module doc)
            if unavailable(exc):
                return _unavailable(start_response)
            response = None
        if response is None:
            return self.app(environ, start_response)
        body = response.body
        start_response(
            "200 OK", [CONTENT_TYPE, ("Content-Length", str(len(body))), *response.headers.items(), *cors.HEADERS]
        )
        return [body]

    def _answer(self, environ, handler, *params):
        """The FhirResponse of a 200, or None to let Flask answer."""
        if environ.get("HTTP_IF_NONE_MATCH"):
            return None  # a 304 is Flask's to work out
        # WSGI hands the query string over as latin-1; decode its bytes as UTF-8, as werkzeug does.
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
        request = FhirRequest(
            "GET",
            environ.get("PATH_INFO", ""),
            parse_qsl(query, keep_blank_values=True),
            lambda name: environ.get(_cgi(name), ""),
        )
        response = handlers.answer(handlers.admit(self.config, request), handler, *params)
        return response if response.status == 200 else None


def _unavailable(start_response):
    body = unavailable_outcome()
    headers = [CONTENT_TYPE, ("Content-Length", str(len(body))), *UNAVAILABLE_HEADERS, *cors.HEADERS]
    start_response("503 Service Unavailable", headers)
    return [body]


@functools.lru_cache(maxsize=64)  # a handful of header names, asked on every request
def _cgi(name):
    return "HTTP_" + name.upper().replace("-", "_")


def _route(environ):
    """(handler, path parameters) for the shapes this front serves, else None."""
    parts = environ.get("PATH_INFO", "").split("/")
    if len(parts) < 3 or parts[0] or parts[1] != "fhir" or parts[2] not in REGISTRY:
        return None
    if len(parts) == 3:
        return handlers.search_get, parts[2]
    if len(parts) == 4 and parts[3] and parts[3][0] not in "$_":
        return handlers.read, parts[2], parts[3]
    if len(parts) == 5 and parts[2] == "Patient" and parts[4] == "$everything" and parts[3]:
        return handlers.everything, parts[3]
    return None
