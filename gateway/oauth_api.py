"""The authorization server's machine endpoints: token, introspection, revocation, registration, JWKS,
and the discovery documents. Each route is one call into Authlib or ``smart_auth``.
"""
from flask import Blueprint, current_app, jsonify, request

from smart_auth import discovery, keys
from smart_auth.server import current_server

from . import csrf
from .access import db_conn
from .json_input import request_json

bp = Blueprint("oauth_api", __name__)
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}


@bp.after_request
def allow_browser_apps(response):
    """Browser-based (public) apps call these endpoints from their own origin (SMART: CORS on token)."""
    response.headers.update(CORS_HEADERS)
    return response


def _options():
    return "", 204


@bp.route("/oauth/token", methods=["POST", "OPTIONS"])
@csrf.exempt
def token():
    if request.method == "OPTIONS":
        return _options()
    return current_server().create_token_response()


@bp.post("/oauth/introspect")
@csrf.exempt
def introspect():
    return current_server().create_endpoint_response("introspection")


@bp.route("/oauth/revoke", methods=["POST", "OPTIONS"])
@csrf.exempt
def revoke():
    if request.method == "OPTIONS":
        return _options()
    return current_server().create_endpoint_response("revocation")


@bp.post("/oauth/register")
@csrf.exempt
def register():
    if not request.is_json:
        return jsonify(error="invalid_request", error_description="Send the client metadata as a JSON object."), 400
    problem = metadata_type_problem(request_json())
    if problem:
        return jsonify(error="invalid_client_metadata", error_description=problem), 400
    return current_server().create_endpoint_response("client_registration")


# RFC 7591 section 2: the JSON type of each metadata field (Authlib and our rules assume them and crash otherwise).
METADATA_STRINGS = ("client_name", "client_uri", "logo_uri", "scope", "tos_uri", "policy_uri", "jwks_uri",
                    "software_id", "software_version", "software_statement", "token_endpoint_auth_method")
METADATA_ARRAYS = ("redirect_uris", "grant_types", "response_types", "contacts")


def metadata_type_problem(metadata):
    """The sentence saying which field of the registration body has the wrong JSON type, or None."""
    if not isinstance(metadata, dict):
        return "Send the client metadata as a JSON object."
    for name in METADATA_STRINGS:
        if name in metadata and not isinstance(metadata[name], str):
            return f"{name} must be a string."
    for name in METADATA_ARRAYS:
        value = metadata.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return f"{name} must be an array of strings."
    keys = metadata["jwks"].get("keys") if isinstance(metadata.get("jwks"), dict) else None
    if "jwks" in metadata and not (isinstance(keys, list) and all(isinstance(key, dict) for key in keys)):
        return "jwks must be a JSON Web Key Set: an object whose keys is an array of objects."
    return None


@bp.get("/oauth/jwks")
def jwks():
    return _json(keys.jwks(db_conn()), max_age=300)


@bp.get("/oauth/smart-style.json")
def smart_style():
    """The style an app may use to look at home in the portal (SMART ``smart_style_url``)."""
    return _json({"color_background": "#ffffff", "color_error": "#b00020", "color_highlight": "#0b5cad",
                  "color_modal_backdrop": "rgba(0,0,0,0.5)", "color_success": "#1b7f3b", "color_text": "#1a1a1a",
                  "dim_border_radius": "6px", "dim_font_size": "16px", "dim_spacing_size": "16px",
                  "font_family_body": "system-ui, sans-serif", "font_family_heading": "system-ui, sans-serif"},
                 max_age=3600)


@bp.get("/fhir/.well-known/smart-configuration")
def smart_configuration():
    return _json(discovery.smart_configuration(current_app.config), max_age=3600)


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    return _json(discovery.openid_configuration(current_app.config), max_age=3600)


def _json(body, max_age):
    response = jsonify(body)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response
