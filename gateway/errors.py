"""Named errors raised inside the gateway; one handler per door turns them into responses."""

import sqlite3

import orjson
import psycopg

# Defined in the store, which raises them and imports nothing above it; re-exported for the doors.
from gateway.store.errors import RETRY_AFTER_SECONDS, ChartError, GatewayError, unavailable  # noqa: F401

UNAVAILABLE_MESSAGE = (
    "The service is briefly unavailable (its database cannot take the request now). Try again in a few seconds."
)
# Every door's 503 carries these: when to try again (RFC 9110 section 10.2.3), and no cache keeps the failure.
UNAVAILABLE_HEADERS = (("Retry-After", str(RETRY_AFTER_SECONDS)), ("Cache-Control", "no-store"))


class InvalidSearch(GatewayError):
    status = 400
    code = "invalid"


class SearchTooCostly(InvalidSearch):
    """A request over one of the search limits (parameters, values, characters, includes): 400 naming it."""

    code = "too-costly"


class NotFound(GatewayError):
    status = 404
    code = "not-found"


class Unauthorized(GatewayError):
    """No usable access token: 401 with a ``WWW-Authenticate`` challenge (RFC 6750 section 3)."""

    status = 401
    code = "login"

    def __init__(self, message, error=None):
        super().__init__(message)
        self.error = error


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"


class NotAcceptable(GatewayError):
    status = 406
    code = "not-supported"


def operation_outcome(message, code="processing", severity="error"):
    """A FHIR OperationOutcome with one issue."""
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code, "diagnostics": message}]}


def unavailable_outcome():
    """The OperationOutcome body of a FHIR 503: issue type ``transient`` (FHIR R4 issue-type: the same request may
    succeed once the underlying issue is resolved). Its child ``no-store`` (the persistent store is unavailable) is
    narrower, but a client acting on the top-level code would not recognise it without the code system's hierarchy."""
    return orjson.dumps(operation_outcome(UNAVAILABLE_MESSAGE, "transient"))


_HTTP_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    414: "too-costly",
    415: "not-supported",
}


def init_app(app):
    """Answer every error under /fhir with an OperationOutcome; other paths keep Flask's pages."""
    from flask import render_template, request
    from werkzeug.exceptions import HTTPException, InternalServerError

    from gateway.fhir.response import fhir_json
    from gateway.web.json_errors import http_error_json
    from gateway.web.unavailable import unavailable_response

    @app.errorhandler(GatewayError)
    def gateway_error(exc):
        response = fhir_json(operation_outcome(exc.message, exc.code), exc.status)
        if isinstance(exc, Unauthorized):
            challenge = 'Bearer realm="fhir"'
            if exc.error:
                challenge += f', error="{exc.error}", error_description="{exc.message}"'
            response.headers["WWW-Authenticate"] = challenge
        return response

    @app.errorhandler(sqlite3.OperationalError)
    @app.errorhandler(psycopg.OperationalError)  # psycopg_pool's PoolTimeout too
    def database_error(exc):
        if not unavailable(exc):
            raise exc  # a bug (a missing table, bad SQL), not an outage: Flask's 500
        app.logger.warning("503 for %s %s: %s", request.method, request.path, exc)
        return unavailable_response()

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        # An outage met before any route ran (opening the session) reaches Flask as a 500 holding the cause.
        if unavailable(exc.original_exception):
            return database_error(exc.original_exception)
        return http_error(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        json_answer = http_error_json(exc)
        if json_answer is not None:
            return json_answer
        if not request.path.startswith("/fhir"):
            return render_template("error.html", status=exc.code, title=exc.name, message=exc.description), exc.code
        message = {
            404: f"Nothing is served at {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: "The request body is too large",
        }.get(exc.code, exc.description)
        response = fhir_json(operation_outcome(message, _HTTP_ISSUE_CODES.get(exc.code, "processing")), exc.code)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
