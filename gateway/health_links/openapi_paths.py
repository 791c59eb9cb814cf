"""The OpenAPI paths of the SMART Health Links door (``manifest_api.py``), for ``GET /openapi.json``.

SMART Health Links STU1: the manifest request and response, a file location, and a ``U`` link's direct file.
Errors are ``{"error"}`` in words; a wrong passcode adds ``remainingAttempts``.
"""

from gateway.health_links.manifest_api import BODY_MAX
from gateway.health_links.sharing import RECIPIENT_MAX

JSON, JOSE = "application/json", "application/jose"
_ID = {"type": "string", "description": "The link's unguessable id (256 bits, base64url)"}


def _error(description, **headers):
    answer = {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/ShlError"}}}}
    if headers:
        answer["headers"] = {
            name: {"schema": {"type": "string"}, "description": text} for name, text in headers.items()
        }
    return answer


def _jose(description):
    return {"description": description, "content": {JOSE: {"schema": {"type": "string"}}}}


_LIMITED = _error("Too many requests from this address", **{"Retry-After": "Seconds to wait"})
_GONE = _error("No such link, or it expired, was revoked or ran out of passcode attempts")
SCHEMAS = {
    "ShlError": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "remainingAttempts": {"type": "integer", "minimum": 0}},
    },
    "ShlManifestRequest": {
        "type": "object",
        "required": ["recipient"],
        "properties": {
            "recipient": {"type": "string", "minLength": 1, "maxLength": RECIPIENT_MAX, "pattern": r"\S"},
            "passcode": {"type": "string"},
            "embeddedLengthMax": {"type": "integer", "minimum": 0},
        },
    },
    "ShlManifest": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "status": {"enum": ["finalized", "can-change", "no-longer-valid"]},
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["contentType"],
                    "properties": {
                        "contentType": {"type": "string"},
                        "location": {"type": "string"},
                        "embedded": {"type": "string"},
                        "lastUpdated": {"type": "string"},
                    },
                },
            },
        },
    },
}
PATHS = {
    "/shl/{manifest_id}": {
        "post": {
            "summary": "SHL manifest request: who is asking (and the passcode of a P link)",
            "security": [],
            "parameters": [{"name": "manifest_id", "in": "path", "required": True, "schema": _ID}],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/ShlManifestRequest"}}},
            },
            "responses": {
                "200": {
                    "description": "The manifest",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/ShlManifest"}}},
                },
                "400": _error("The body is not JSON, or a field is missing or of the wrong type"),
                "401": _error("The passcode is missing or wrong; remainingAttempts says how many are left"),
                "404": _GONE,
                "413": _error(f"The body is larger than {BODY_MAX} bytes"),
                "429": _LIMITED,
            },
        },
        "get": {
            "summary": "A U link's one encrypted file (compact JWE)",
            "security": [],
            "parameters": [
                {"name": "manifest_id", "in": "path", "required": True, "schema": _ID},
                {"name": "recipient", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}},
            ],
            "responses": {
                "200": _jose("The file"),
                "400": _error("recipient is missing or too long"),
                "404": _GONE,
                "429": _LIMITED,
            },
        },
    },
    "/shl/file/{location}": {
        "get": {
            "summary": "A file a manifest named by location (valid for 5 minutes)",
            "security": [],
            "parameters": [{"name": "location", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _jose("The file"), "404": _GONE, "429": _LIMITED},
        }
    },
}
