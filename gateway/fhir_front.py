"""A lean WSGI front for the FHIR API's hot GETs: read, search and Patient/$everything.

Flask's request context, routing and response objects cost about 150 µs a request, as much as
serving the stored JSON itself (bench/: the gateway read at 0.32 of the bare-WSGI floor). This front
answers those three shapes by calling the very handlers the Flask routes call (fhir_api's
``read_response``, ``search_response``, ``everything_response``) with the same access check and the
same disclosure log. Everything else, and any request that raises (401, 403, 404, 400, 406, a 304 to
work out...), goes to the Flask app, which answers it from scratch and renders the error, so errors
have one implementation.
"""
from urllib.parse import parse_qsl

from werkzeug.wsgi import get_current_url

from mappers import REGISTRY

from . import disclosures, store
from .access import bearer_token
from .fhir_api import Call, everything_response, read_response, search_response
from .fhir_response import FHIR_JSON, wants_json

CONTENT_TYPE = ("Content-Type", FHIR_JSON + "; charset=utf-8")


class FhirFront:
    """WSGI middleware: serve hot FHIR GETs directly, hand the rest to ``app`` (the Flask wsgi_app)."""

    def __init__(self, app, config):
        self.app, self.db, self.base = app, config["DB"], config["FHIR_BASE"]

    def __call__(self, environ, start_response):
        route = _route(environ) if environ["REQUEST_METHOD"] == "GET" else None
        if route is None:
            return self.app(environ, start_response)
        try:
            answer = self._answer(environ, *route)
        except Exception:  # noqa: BLE001 - Flask answers it again and renders the error (see module doc)
            answer = None
        if answer is None:
            return self.app(environ, start_response)
        status, headers, body = answer
        start_response("200 OK", [CONTENT_TYPE, ("Content-Length", str(len(body))), *headers.items()])
        return [body]

    def _answer(self, environ, handler, *params):
        """(status, headers, body) of a 200, or None to let Flask answer."""
        # WSGI hands the query string over as latin-1; decode its bytes as UTF-8, as werkzeug does.
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
        args = parse_qsl(query, keep_blank_values=True)
        fmt = next((v for k, v in args if k == "_format"), None)
        if not wants_json(fmt, environ.get("HTTP_ACCEPT")) or environ.get("HTTP_IF_NONE_MATCH"):
            return None
        conn = store.current(self.db)
        token = bearer_token(conn, environ.get("HTTP_AUTHORIZATION", ""))
        call = Call(conn, token, self.base, args, lambda name: environ.get(_cgi(name), ""),
                    lambda: get_current_url(environ))
        if handler is search_response:
            params = (*params, args)
        status, headers, body = handler(call, *params)
        if status != 200:
            return None
        if call.disclosed:
            disclosures.log_api_read(self.db, token, *call.disclosed)
        return status, headers, body


def _cgi(name):
    return "HTTP_" + name.upper().replace("-", "_")


def _route(environ):
    """(handler, path parameters) for the shapes this front serves, else None."""
    parts = environ.get("PATH_INFO", "").split("/")
    if len(parts) < 3 or parts[0] or parts[1] != "fhir" or parts[2] not in REGISTRY:
        return None
    if len(parts) == 3:
        return search_response, parts[2]
    if len(parts) == 4 and parts[3] and parts[3][0] not in "$_":
        return read_response, parts[2], parts[3]
    if len(parts) == 5 and parts[2] == "Patient" and parts[4] == "$everything" and parts[3]:
        return everything_response, parts[3]
    return None
