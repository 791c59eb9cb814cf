"""The OpenAPI 3.1 description of the gateway's non-FHIR JSON APIs, served at ``GET /openapi.json``.

It covers the practice API, the portal's grants API and the authorization server's machine endpoints
(``gateway/openapi_oauth.py``). A test checks that the paths it lists are exactly the routes of those
blueprints, and schemathesis checks the answers against it, so it cannot drift from the code.
"""

from flask import Blueprint, current_app, jsonify

from gateway.health_links import openapi_paths as openapi_shl
from gateway.oauth import openapi_paths as openapi_oauth
from gateway.practice.api import FIELD_LIMITS, MAX_PEOPLE
from gateway.web.sessions import COOKIE
from smart_auth.accounts import RELATIONS

bp = Blueprint("openapi", __name__)
JSON = "application/json"
BLUEPRINTS = (
    "practice_api",
    "oauth_grants_api",
    "oauth_api",
    "openapi",
    "health_links_manifest_api",
)  # the routes this document describes


@bp.get("/openapi.json")
def openapi_json():
    response = jsonify(document(current_app.config))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema, description):
    return {"description": description, "content": {JSON: {"schema": schema}}}


def practice_error(description):
    return json_body(ref("PracticeError"), description)


def nullable(schema):
    return {**schema, "type": [schema["type"], "null"]}


def document(config):
    """The whole OpenAPI document, with the deployment's base URL as its server."""
    schemas = {**PRACTICE_SCHEMAS, **GRANT_SCHEMAS, **openapi_oauth.SCHEMAS, **openapi_shl.SCHEMAS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fhir-gateway JSON APIs",
            "version": "1",
            "description": "The practice enrollment API, the portal's consent-grants API and the SMART "
            "authorization server's token, introspection, revocation and registration "
            "endpoints, and the SMART Health Links manifest door. The FHIR API itself is described by /fhir/metadata.",
        },
        "servers": [{"url": config["BASE_URL"]}],
        "paths": {**PRACTICE_PATHS, **GRANT_PATHS, **openapi_oauth.PATHS, **openapi_shl.PATHS, **OWN_PATH},
        "components": {"schemas": schemas, "securitySchemes": {**SECURITY, **openapi_oauth.SECURITY}},
    }


SECURITY = {
    "practiceToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An access token with user/Patient or system/Patient scopes: r to read, "
        "u to change who may see a chart (patient/ scopes never qualify). A user/ token acts for its staff user's "
        "practice, a system/ token for its backend client's practice (or every one, for an all-practices client).",
    },
    "portalSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": "A portal login session (the cookie set by /portal/login).",
    },
    "csrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "The session's CSRF token, as the portal pages carry it.",
    },
}

_TEXT = {"type": "string"}
_STAMP = {"type": "string", "description": "UTC time, ISO 8601"}
PRACTICE_SCHEMAS = {
    "PracticeError": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {
                "type": "string",
                "enum": [
                    "invalid_request",
                    "invalid_token",
                    "insufficient_scope",
                    "not_found",
                    "conflict",
                    "method_not_allowed",
                    "request_too_large",
                    "unsupported_media_type",
                ],
            },
            "message": _TEXT,
            "problems": {"type": "array", "items": _TEXT},
        },
    },
    "Invitee": {
        "type": "object",
        "required": ["relation"],
        "properties": {
            "relation": {"type": "string", "enum": list(RELATIONS)},
            "email": nullable({"type": "string", "format": "email", "maxLength": FIELD_LIMITS["email"]}),
            "phone": nullable({"type": "string", "maxLength": FIELD_LIMITS["phone"]}),
            "text_link": {"type": "boolean", "description": "Also text the link (the default when only a phone)."},
        },
    },
    "InviteRequest": {
        "type": "object",
        "required": ["people"],
        "properties": {"people": {"type": "array", "minItems": 1, "maxItems": MAX_PEOPLE, "items": ref("Invitee")}},
    },
    "Invite": {
        "type": "object",
        "required": ["id", "patient", "relation", "status", "access_code"],
        "properties": {
            "id": _TEXT,
            "patient": _TEXT,
            "relation": _TEXT,
            "email": nullable(_TEXT),
            "phone": nullable(_TEXT),
            "status": _TEXT,
            "access_code": nullable({"type": "string", "description": "The PIN, while usable."}),
            "created_at": _STAMP,
            "sent_at": nullable(_STAMP),
            "finalize": {"type": "boolean"},
        },
    },
    "Invites": {
        "type": "object",
        "required": ["invites"],
        "properties": {"invites": {"type": "array", "items": ref("Invite")}},
    },
    "Party": {
        "type": "object",
        "required": ["relation", "status"],
        "properties": {
            "relation": _TEXT,
            "email": nullable(_TEXT),
            "phone": nullable(_TEXT),
            "status": _TEXT,
            "label": _TEXT,
            "account_email": nullable(_TEXT),
            "access_code": nullable(_TEXT),
            "invite": nullable(_TEXT),
            "link": nullable(_TEXT),
            "invited_at": nullable(_STAMP),
        },
    },
    "EnrollmentStatus": {
        "type": "object",
        "required": ["patient", "people"],
        "properties": {"patient": _TEXT, "people": {"type": "array", "items": ref("Party")}},
    },
    "RevokedLink": {
        "type": "object",
        "required": ["link", "patient", "status"],
        "properties": {"link": _TEXT, "patient": _TEXT, "status": {"const": "revoked"}, "revoked_at": _STAMP},
    },
}


def _practice(summary, ok, *errors, body=None, example=None, **extra):
    """One practice API operation: bearer token, its success answer and its error answers."""
    responses = {
        **ok,
        "401": {
            **practice_error("No, an unknown or an expired bearer token."),
            "headers": {"WWW-Authenticate": {"schema": _TEXT}},
        },
        "403": practice_error(
            "The token lacks the Patient scope, is not a staff user's, or is a system/ token bound to no practice."
        ),
    }
    responses.update({status: practice_error(text) for status, text in errors})
    operation = {"summary": summary, "security": [{"practiceToken": []}], "responses": responses, **extra}
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body), "example": example}}}
    return operation


def _path_param(name, description, **schema):
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_NOT_FOUND = ("404", "No such patient, invitation or link at the token's practice.")
_BAD_BODY = ("400", "The body is not JSON of the documented shape, or a row has a problem (listed).")
_CONFLICT = ("409", "The invitation or link is not in a state that allows this (already cancelled, revoked ...).")
_PATIENT = _path_param("patient_uid", "The Patient resource id.")
_INVITE = _path_param("invite_uid", "The invitation id.")
PRACTICE_PATHS = {
    "/practice/api/patients/{patient_uid}/enrollment": {
        "parameters": [_PATIENT],
        "get": _practice(
            "Who has, or was offered, portal access to a chart",
            {"200": json_body(ref("EnrollmentStatus"), "Status")},
            _NOT_FOUND,
        ),
    },
    "/practice/api/patients/{patient_uid}/invites": {
        "parameters": [_PATIENT],
        "post": _practice(
            "Invite people to a chart; each invite's access code is in the answer",
            {"201": json_body(ref("Invites"), "The new invitations")},
            _BAD_BODY,
            _NOT_FOUND,
            body="InviteRequest",
            example={"people": [{"relation": "self", "email": "patient@example.com", "phone": "555-010-0001"}]},
        ),
    },
    "/practice/api/invites/{invite_uid}": {
        "parameters": [_INVITE],
        "get": _practice("One invitation", {"200": json_body(ref("Invite"), "The invitation")}, _NOT_FOUND),
    },
    "/practice/api/invites/{invite_uid}/{action}": {
        "parameters": [_INVITE, _path_param("action", "What to do", enum=["resend", "cancel", "reinvite"])],
        "post": _practice(
            "Resend (same PIN, new link), cancel, or reinvite (new PIN, old one stops working)",
            {
                "200": json_body(ref("Invite"), "The invitation (resend, cancel)"),
                "201": json_body(ref("Invite"), "The new invitation (reinvite)"),
            },
            _NOT_FOUND,
            _CONFLICT,
        ),
    },
    "/practice/api/links/{link_uid}/revoke": {
        "parameters": [_path_param("link_uid", "The account-to-chart link id.")],
        "post": _practice(
            "End an account's access to a chart and every token it was issued",
            {"200": json_body(ref("RevokedLink"), "The revoked link")},
            _NOT_FOUND,
            _CONFLICT,
        ),
    },
}

GRANT_SCHEMAS = {
    "Grant": {
        "type": "object",
        "required": ["id", "client_id", "app", "patient", "scope"],
        "properties": {
            "id": {"type": "integer"},
            "client_id": _TEXT,
            "app": _TEXT,
            "patient": _TEXT,
            "person": _TEXT,
            "practice": _TEXT,
            "scope": _TEXT,
            "granted_at": {"type": "integer"},
            "updated_at": {"type": "integer"},
        },
    },
    "Grants": {
        "type": "object",
        "required": ["grants"],
        "properties": {"grants": {"type": "array", "items": ref("Grant")}},
    },
}
_LOGIN = json_body(ref("OAuthError"), "No portal login")
GRANT_PATHS = {
    "/portal/api/grants": {
        "get": {
            "summary": "The apps this account has allowed to read records",
            "security": [{"portalSession": []}],
            "responses": {"200": json_body(ref("Grants"), "Active grants"), "401": _LOGIN},
        }
    },
    "/portal/api/grants/{grant_id}": {
        "delete": {
            "summary": "Withdraw a grant; its tokens stop working at once",
            "security": [{"portalSession": [], "csrfToken": []}],
            "parameters": [
                {
                    "name": "grant_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                }
            ],
            "responses": {
                "204": {"description": "Withdrawn"},
                "400": json_body(ref("OAuthError"), "Missing or wrong X-CSRF-Token"),
                "401": _LOGIN,
                "404": json_body(ref("OAuthError"), "No such active grant on this account"),
            },
        }
    },
}

OWN_PATH = {
    "/openapi.json": {
        "get": {
            "summary": "This description",
            "security": [],
            "responses": {"200": json_body({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.1")},
        }
    }
}
