"""Named errors raised inside the gateway; one handler per door turns them into responses."""

# Defined in the store, which raises them and imports nothing above it; re-exported for the doors.
from gateway.store.errors import ChartError, GatewayError  # noqa: F401


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
    from werkzeug.exceptions import HTTPException

    from gateway.fhir.response import fhir_json
    from gateway.web.json_errors import http_error_json

    @app.errorhandler(GatewayError)
    def gateway_error(exc):
        response = fhir_json(operation_outcome(exc.message, exc.code), exc.status)
        if isinstance(exc, Unauthorized):
            challenge = 'Bearer realm="fhir"'
            if exc.error:
                challenge += f', error="{exc.error}", error_description="{exc.message}"'
            response.headers["WWW-Authenticate"] = challenge
        return response

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
