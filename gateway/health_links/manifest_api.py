"""The public door of SMART Health Links: ``POST /shl/<id>`` (the manifest), ``GET /shl/file/<token>`` (a file
location it handed out) and ``GET /shl/<id>?recipient=…`` (a ``U`` link's file). No login: the unguessable id
(256 bits) is the capability. Viewers are web apps, so every answer allows any origin (never credentials,
gateway/web/cors.py), and none may be cached.
"""

import time

from flask import Blueprint, current_app, jsonify, request

from gateway import store
from gateway.health_links import manifest
from gateway.health_links.sharing import BadManifestRequest, NotActive, WrongPasscode
from gateway.web.auth import client_address
from gateway.web.csrf import exempt
from smart_auth import limits

bp = Blueprint("health_links_manifest_api", __name__, url_prefix="/shl")
BODY_MAX = 4096  # a manifest request is three short fields
JOSE = "application/jose"
GONE = "This link is not active: it may have expired, been revoked or run out of passcode attempts."


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status, message, **extra):
    return jsonify({"error": message, **extra}), status


def _limited():
    """Count this request against its address's budget; an answer to send when it is spent, else None."""
    config = current_app.config
    try:
        limits.reserve(
            store.current(), (limits.key("shl", client_address()), config["SHL_LIMIT"], config["SHL_WINDOW"])
        )
    except limits.TooManyAttempts as exc:
        response, status = _error(429, str(exc))
        response.headers["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response, status
    return None


def _body():
    if (request.content_length or 0) > BODY_MAX:
        return None
    data = request.stream.read(BODY_MAX + 1)
    return None if len(data) > BODY_MAX else data


@bp.post("/<manifest_id>")
@exempt
def manifest_request(manifest_id):
    """SHL Manifest Request: a JSON body with ``recipient`` (and ``passcode``, ``embeddedLengthMax``)."""
    refused = _limited()
    if refused:
        return refused
    body = _body()
    if body is None:
        return _error(413, f"The request body is larger than {BODY_MAX} bytes.")
    config = current_app.config
    try:
        answer = manifest.answer_manifest(
            store.current(), config["SECRET_KEY"], manifest_id, body, config["BASE_URL"], int(time.time())
        )
    except NotActive:
        return _error(404, GONE)
    except BadManifestRequest as exc:
        return _error(400, str(exc))
    except WrongPasscode as exc:  # STU1: 401 with the attempts left in "remainingAttempts"
        return _error(401, "The passcode is missing or not right.", remainingAttempts=exc.remaining)
    return jsonify(answer)


@bp.get("/<manifest_id>")
def direct_file(manifest_id):
    """A ``U`` link's file, fetched without a manifest (``?recipient=`` is required)."""
    refused = _limited()
    if refused:
        return refused
    try:
        jwe = manifest.direct_file(store.current(), manifest_id, request.args.get("recipient"), int(time.time()))
    except NotActive:
        return _error(404, GONE)
    except BadManifestRequest as exc:
        return _error(400, str(exc))
    return current_app.response_class(jwe, mimetype=JOSE)


@bp.get("/file/<location>")
def file_location(location):
    """A file a manifest answer named by location (short-lived: FILE_TTL seconds)."""
    refused = _limited()
    if refused:
        return refused
    try:
        jwe = manifest.file_at(store.current(), location, int(time.time()))
    except NotActive:
        return _error(404, GONE)
    return current_app.response_class(jwe, mimetype=JOSE)
