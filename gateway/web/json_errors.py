"""JSON answers for HTTP errors (unknown path, wrong method, CSRF refusal) on the gateway's JSON APIs.

A program calling an API cannot read the HTML error page the other paths get. The OAuth endpoints and the
portal's grants API use RFC 6749's ``{"error", "error_description"}``; the practice API keeps the
``{"error", "message"}`` shape its own errors have always had.
"""

from flask import jsonify, request

OAUTH_STYLE = (
    "/shl/",
    "/portal/api/",
    "/oauth/token",
    "/oauth/introspect",
    "/oauth/revoke",
    "/oauth/register",
    "/openapi.json",
)
PRACTICE_STYLE = ("/practice/api/",)
ERROR_CODES = {
    400: "invalid_request",
    401: "login_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def description_key(path):
    """The key that carries the sentence in this path's error bodies, or None for a page path."""
    if path.startswith(PRACTICE_STYLE):
        return "message"
    return "error_description" if path.startswith(OAUTH_STYLE) else None


def http_error_json(exc):
    """The JSON response for an HTTP error on a JSON API path, or None when the path serves pages."""
    key = description_key(request.path)
    if key is None:
        return None
    response = jsonify({"error": ERROR_CODES.get(exc.code, "server_error"), key: exc.description})
    response.status_code = exc.code
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response
