"""The 503 every door answers while the database cannot be reached, each in its own shape, with ``Retry-After``.

FHIR: an OperationOutcome (gateway/errors.py). OAuth and the JSON APIs: RFC 6749's ``temporarily_unavailable``
(section 4.1.2.1 defines it for the authorization endpoint's redirect, "a 503 Service Unavailable HTTP status code
cannot be returned to the client via an HTTP redirect"; the token, introspection and registration endpoints answer
the same code with the real 503). Pages, the authorization endpoint's included: an HTML page saying to try again.
The authorization endpoint never redirects here, since the client's registered redirect URI is in the database it
cannot read, and redirecting to an unchecked one would make it an open redirector (RFC 6749 sections 4.1.2.1, 10.15).
"""

from flask import Response, current_app, jsonify, request

from gateway.errors import UNAVAILABLE_HEADERS, UNAVAILABLE_MESSAGE, unavailable_outcome
from gateway.fhir.response import fhir_json
from gateway.web.json_errors import description_key


def unavailable_response():
    """This request's 503 (see the module docstring)."""
    path = request.path
    if path == "/fhir" or path.startswith("/fhir/"):
        response = fhir_json(unavailable_outcome(), 503)
    elif (key := description_key(path)) is not None:
        response = jsonify({"error": "temporarily_unavailable", key: UNAVAILABLE_MESSAGE})
        response.status_code = 503
    else:
        # Straight from the template, without render_template's context processors: they read the account,
        # the records and the session from the database that is down.
        page = current_app.jinja_env.get_template("unavailable.html").render(message=UNAVAILABLE_MESSAGE)
        response = Response(page, 503, mimetype="text/html")
    response.headers.extend(UNAVAILABLE_HEADERS)
    return response
