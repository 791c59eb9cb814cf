"""A lean WSGI front for the token endpoint: ``POST /oauth/token`` with a form body, without Flask's request.

Flask's request context, session, routing, ``after_request`` hooks (Talisman's headers above all) and response
object cost about as much as the grant itself (issue 16). This front builds Authlib's OAuth2Request straight
from the WSGI environ and runs the very grant code the Flask route runs (``SmartAuthorizationServer.token_answer``:
client authentication, the grant's checks, PKCE, the id_token, ``save_token``), inside an app context so that
``current_app`` and ``store.current()`` are the app's. Unlike the FHIR front it answers errors too: a token
request has effects (a code tried is used up, a replay revokes its family), so it must not run twice.

It takes only the plain shape: POST, no query string, ``application/x-www-form-urlencoded`` with a
Content-Length within MAX_CONTENT_LENGTH. Anything else goes to the Flask route, which answers as before
(a 413, a query string's parameters, another body type). The headers Flask's ``after_request`` hooks add to a
token answer (CORS for browser apps, the security headers) are taken once per URL scheme from those hooks.
"""

import sys
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler the form parser uses
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from werkzeug.datastructures import EnvironHeaders, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import InternalServerError, SecurityError
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header
from werkzeug.wsgi import get_host

from gateway.errors import UNAVAILABLE_HEADERS, UNAVAILABLE_MESSAGE, unavailable
from smart_auth.server import current_server

PATH = "/oauth/token"
FORM = "application/x-www-form-urlencoded"
_NO_ARGS = ImmutableMultiDict()


class FormPayload(OAuth2Payload):
    """The request's parameters: the form body (the front takes no query string, so Flask's ``values``)."""

    def __init__(self, form):
        self._form = form

    @property
    def data(self):
        return self._form

    @property
    def datalist(self):
        return {key: self._form.getlist(key) for key in self._form}


class TokenRequest(OAuth2Request):
    """Authlib's OAuth2Request read from a WSGI environ, as FlaskOAuth2Request reads it from Flask's request."""

    def __init__(self, environ):
        # Authlib reads the URL only for its https check (scheme and host name); the path is always PATH.
        url = f"{environ['wsgi.url_scheme']}://{get_host(environ)}{environ.get('SCRIPT_NAME', '')}{PATH}"
        super().__init__("POST", url, headers=EnvironHeaders(environ))
        self._form = read_form(environ)
        self.payload = FormPayload(self._form)

    @property
    def args(self):
        return _NO_ARGS

    @property
    def form(self):
        return self._form


def read_form(environ):
    """The urlencoded body as werkzeug's form parser reads it (formparser._parse_urlencoded), and as Flask's request
    does with ``silent``: a body that is not UTF-8 is an empty form."""
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    try:
        return MultiDict(parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote"))
    except ValueError:
        return MultiDict()


class TokenFront:
    """WSGI middleware: answer ``POST /oauth/token`` form requests directly, hand the rest to ``app``."""

    def __init__(self, app, flask_app):
        self.app, self.flask_app = app, flask_app
        self.limit = flask_app.config["MAX_CONTENT_LENGTH"]
        self.pruner = flask_app.extensions.get("pruning")
        self._hook_headers = {}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST" or not self._plain(environ):
            return self.app(environ, start_response)
        with self.flask_app.app_context():
            try:
                request = TokenRequest(environ)
            except (InsecureTransportError, SecurityError):  # the body is still unread: Flask answers it as before
                return self.app(environ, start_response)
            status, payload, headers = self._answer(request)
        start_response(
            f"{status} {HTTP_STATUS_CODES[status].upper()}",  # werkzeug's status line
            [*headers, *self.hook_headers(environ["wsgi.url_scheme"]), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _plain(self, environ):
        """A form body of announced length within the limit, and no query string."""
        if environ.get("QUERY_STRING") or environ.get("HTTP_TRANSFER_ENCODING"):
            return False
        length = environ.get("CONTENT_LENGTH")
        if not length or not length.isdigit() or (self.limit is not None and int(length) > self.limit):
            return False
        return parse_options_header(environ.get("CONTENT_TYPE", ""))[0] == FORM

    def _answer(self, request):
        """(status, body bytes, headers) as the Flask route renders them: Authlib's answer in Flask's JSON
        (AuthorizationServer.handle_response), an unexpected error as Flask's 500 handler does."""
        try:
            if self.pruner is not None:
                self.pruner.maybe_run()  # the before_request hook the Flask route would have run
            status, body, headers = current_server().token_answer(request)
            return status, self.flask_app.json.dumps(body).encode(), headers
        except Exception as exc:
            app = self.flask_app
            if unavailable(exc):  # the database is down: 503 as every door answers (gateway/web/unavailable.py)
                body = {"error": "temporarily_unavailable", "error_description": UNAVAILABLE_MESSAGE}
                return 503, app.json.dumps(body).encode(), [("Content-Type", "application/json"), *UNAVAILABLE_HEADERS]
            propagate = app.config["PROPAGATE_EXCEPTIONS"]
            if propagate or (propagate is None and (app.testing or app.debug)):
                raise  # as Flask's handle_exception does
            app.logger.error("Exception on %s [POST]", PATH, exc_info=sys.exc_info())
            error = {"error": "server_error", "error_description": InternalServerError.description}
            response = app.json.response(error)  # gateway/web/json_errors.py's jsonify
            return 500, response.get_data(), [("Content-Type", response.content_type)]

    def hook_headers(self, scheme):
        """The headers the app's ``after_request`` hooks add to a token answer over ``scheme``, asked once."""
        found = self._hook_headers.get(scheme)
        if found is None:
            app = self.flask_app
            with app.test_request_context(PATH, method="POST", base_url=f"{scheme}://gateway.invalid"):
                before = app.response_class(status=200, mimetype="application/json")
                marked = app.process_response(app.response_class(status=200, mimetype="application/json"))
            found = [(k, v) for k, v in marked.headers.items() if (k, v) not in before.headers.items()]
            self._hook_headers[scheme] = found
        return found
