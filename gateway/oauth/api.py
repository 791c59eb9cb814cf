"""The authorization server's machine endpoints: token, introspection, revocation, registration, JWKS,
and the discovery documents. Each route is one call into Authlib or ``smart_auth``.
"""

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from gateway import store
from gateway.web import csrf
from smart_auth import discovery, keys, limits, open_registration
from smart_auth.clients import ClientError
from smart_auth.server import current_server

bp = Blueprint("oauth_api", __name__)  # browser apps' CORS on these doors: gateway/web/cors.py


@bp.post("/oauth/token")
@csrf.exempt
def token():
    """Requests the lean front leaves to Flask (a query string, another body type): the same answer."""
    server = current_server()
    return server.handle_response(*server.token_answer(server.create_oauth2_request(request)))


@bp.post("/oauth/introspect")
@csrf.exempt
def introspect():
    return current_server().create_endpoint_response("introspection")


@bp.post("/oauth/revoke")
@csrf.exempt
def revoke():
    return current_server().create_endpoint_response("revocation")


@bp.post("/oauth/register")
@csrf.exempt
def register():
    config = current_app.config
    try:
        open_registration.count_attempt(
            store.current(), request.remote_addr, int(config["REGISTRATION_LIMIT"]), int(config["REGISTRATION_WINDOW"])
        )
        open_registration.read_metadata(request.mimetype, _registration_body())
    except limits.TooManyAttempts as exc:
        response = jsonify(error="temporarily_unavailable", error_description=f"{exc} (registrations from one address)")
        return response, 429, {"Retry-After": str(max(1, int(exc.retry_after)))}
    except open_registration.RegistrationRequestError as exc:
        return jsonify(error="invalid_request", error_description=str(exc)), 400
    except ClientError as exc:
        # RFC 7591 section 3.2.2
        return jsonify(error="invalid_client_metadata", error_description=exc.description), 400
    return current_server().create_endpoint_response("client_registration")


def _registration_body():
    """The request body, refused unread when it announces more than registration allows."""
    if (request.content_length or 0) > open_registration.MAX_BODY:
        raise ClientError(f"the client metadata is larger than {open_registration.MAX_BODY // 1024} KB")
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ClientError(f"the client metadata is larger than {open_registration.MAX_BODY // 1024} KB")


@bp.get("/oauth/jwks")
def jwks():
    return _json(keys.jwks(store.current()), max_age=300)


@bp.get("/oauth/smart-style.json")
def smart_style():
    """The style an app may use to look at home in the portal (SMART ``smart_style_url``)."""
    return _json(
        {
            "color_background": "#ffffff",
            "color_error": "#b00020",
            "color_highlight": "#0b5cad",
            "color_modal_backdrop": "rgba(0,0,0,0.5)",
            "color_success": "#1b7f3b",
            "color_text": "#1a1a1a",
            "dim_border_radius": "6px",
            "dim_font_size": "16px",
            "dim_spacing_size": "16px",
            "font_family_body": "system-ui, sans-serif",
            "font_family_heading": "system-ui, sans-serif",
        },
        max_age=3600,
    )


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
