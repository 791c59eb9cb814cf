"""The OpenAPI paths of the authorization server's machine endpoints (``gateway/oauth_api.py``).

Token (RFC 6749 section 4.1.3, 6; SMART Backend Services for client_credentials with an RFC 7523 client
assertion), introspection (RFC 7662), revocation (RFC 7009), dynamic registration (RFC 7591), the JWKS and
the discovery documents. Every error is ``{"error", "error_description"}`` (RFC 6749 section 5.2).
"""

from smart_auth import open_registration as reg

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_TEXT = {"type": "string"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description, **headers):
    answer = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = {name: {"schema": _TEXT, "description": text} for name, text in headers.items()}
    return answer


def _error(description, **headers):
    return _json(ref("OAuthError"), description, **headers)


def _form(schema):
    return {"required": True, "content": {FORM: {"schema": schema}}}


SECURITY = {
    "clientSecretBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "client_secret_basic: client_id and client_secret (RFC 6749 2.3.1). "
        "client_secret_post and private_key_jwt send them in the form instead.",
    },
}
CLIENT_AUTH = [{"clientSecretBasic": []}, {}]  # {}: form credentials, an assertion, or a public client_id
_CLIENT_FIELDS = {
    "client_id": _TEXT,
    "client_secret": _TEXT,
    "client_assertion_type": {"type": "string", "description": f"{ASSERTION_TYPE} with an assertion"},
    "client_assertion": {"type": "string", "description": "A JWT signed RS384 or ES384 (RFC 7523)."},
}


def _client_metadata():
    """RFC 7591 client metadata with the bounds open registration enforces (smart_auth/open_registration.py)."""
    texts = {name: {"type": "string", "maxLength": longest} for name, longest in reg.TEXT_LIMITS.items()}
    lists = {
        name: {"type": "array", "maxItems": most, "items": {"type": "string", "maxLength": longest}}
        for name, (most, longest) in reg.LIST_LIMITS.items()
    }
    texts["token_endpoint_auth_method"]["enum"] = list(reg.AUTH_METHODS)
    lists["grant_types"]["items"]["enum"] = list(reg.GRANT_TYPES)
    lists["response_types"]["items"] = {"const": "code"}
    texts["scope"]["description"] = "patient/ scopes and " + ", ".join(reg.PATIENT_SCOPES)
    jwks = {
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "maxItems": reg.MAX_KEYS, "items": {"type": "object"}}},
    }
    return {"type": "object", "properties": {**texts, **lists, "jwks": jwks}}


def _grant(name, required, **fields):
    return {
        "type": "object",
        "required": ["grant_type", *required],
        "properties": {"grant_type": {"const": name}, **fields, **_CLIENT_FIELDS},
    }


SCHEMAS = {
    "OAuthError": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": _TEXT, "error_description": _TEXT, "error_uri": _TEXT},
    },
    "TokenRequest": {
        "oneOf": [
            _grant(
                "authorization_code",
                ["code"],
                code=_TEXT,
                redirect_uri=_TEXT,
                code_verifier={"type": "string", "description": "PKCE (RFC 7636), S256"},
            ),
            _grant(
                "refresh_token",
                ["refresh_token"],
                refresh_token={
                    "type": "string",
                    "description": "A public app may send no client_id: the refresh token names it (SMART 2.x)",
                },
                scope=_TEXT,
            ),
            _grant("client_credentials", ["scope"], scope=_TEXT),
        ]
    },
    "TokenResponse": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {
            "access_token": _TEXT,
            "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer"},
            "scope": _TEXT,
            "refresh_token": _TEXT,
            "id_token": _TEXT,
            "patient": _TEXT,
            "encounter": {"type": "string", "description": "an EHR launch from a visit granted launch/encounter"},
            "need_patient_banner": {"type": "boolean"},
            "smart_style_url": _TEXT,
        },
    },
    "TokenQuery": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": _TEXT,
            "token_type_hint": {
                "type": "string",
                "description": "access_token or refresh_token; empty is ignored, others are unsupported_token_type",
            },
            **_CLIENT_FIELDS,
        },
    },
    "Introspection": {
        "type": "object",
        "required": ["active"],
        "properties": {
            "active": {"type": "boolean"},
            "scope": _TEXT,
            "client_id": _TEXT,
            "token_type": _TEXT,
            "exp": {"type": "integer"},
            "iat": {"type": "integer"},
            "sub": _TEXT,
            "iss": _TEXT,
            "aud": _TEXT,
            "patient": _TEXT,
            "encounter": _TEXT,
            "fhirUser": _TEXT,
            "practice": {**_TEXT, "description": "The practice (Organization id) a backend token is held to"},
            "all_practices": {"type": "boolean", "description": "A backend token of an all-practices client"},
        },
    },
    "ClientMetadata": _client_metadata(),
    "ClientInformation": {
        "type": "object",
        "required": ["client_id"],
        "properties": {
            "client_id": _TEXT,
            "client_secret": _TEXT,
            "client_id_issued_at": {"type": "integer"},
            "client_secret_expires_at": {"type": "integer"},
            "client_type": _TEXT,
            "status": {"type": "string", "enum": ["active", "pending"]},
        },
    },
}

_NO_STORE = {"Cache-Control": "no-store (RFC 6749 5.1)"}
_UNAUTHENTICATED = _error("The client did not authenticate (invalid_client)", **{"WWW-Authenticate": "Basic"})


def _document(summary, schema):
    return {"get": {"summary": summary, "security": [], "responses": {"200": _json(schema, summary)}}}


PATHS = {
    "/oauth/token": {
        "post": {
            "summary": "Exchange a code, a refresh token or (backend services) a client assertion for a token",
            "security": CLIENT_AUTH,
            "requestBody": _form(ref("TokenRequest")),
            "responses": {
                "200": _json(ref("TokenResponse"), "The token", **_NO_STORE),
                "400": _error(
                    "invalid_request, invalid_client, invalid_grant, unsupported_grant_type, "
                    "invalid_scope or unauthorized_client"
                ),
                "401": _UNAUTHENTICATED,
            },
        },
    },
    "/oauth/introspect": {
        "post": {
            "summary": "Whether a token is active, and what it grants (RFC 7662): an app asks about its own tokens, "
            "a resource server about any access token",
            "security": CLIENT_AUTH,
            "requestBody": _form(ref("TokenQuery")),
            "responses": {
                "200": _json(ref("Introspection"), '{"active": false} for unknown or others\' tokens'),
                "400": _error("invalid_request or invalid_client"),
                "401": _UNAUTHENTICATED,
            },
        }
    },
    "/oauth/revoke": {
        "post": {
            "summary": "Revoke one of the calling client's tokens; a refresh token ends its whole family (RFC 7009)",
            "security": CLIENT_AUTH,
            "requestBody": _form(ref("TokenQuery")),
            "responses": {
                "200": _json({"type": "object"}, "Revoked, or not a token of this client (RFC 7009 2.2)"),
                "400": _error("invalid_request or invalid_client"),
                "401": _UNAUTHENTICATED,
            },
        },
    },
    "/oauth/register": {
        "post": {
            "summary": "Dynamic client registration of a patient-facing app (RFC 7591)",
            "security": [],
            "requestBody": {"required": True, "content": {JSON: {"schema": ref("ClientMetadata")}}},
            "responses": {
                "201": _json(ref("ClientInformation"), "The registered client (RFC 7591 3.2.1)"),
                "400": _error("invalid_request, invalid_client_metadata or invalid_redirect_uri (RFC 7591 3.2.2)"),
                "429": _error(
                    "temporarily_unavailable: too many registrations from this address",
                    **{"Retry-After": "Seconds until this address may register again"},
                ),
            },
        }
    },
    "/oauth/jwks": _document("The keys that sign id_tokens", {"type": "object", "required": ["keys"]}),
    "/oauth/smart-style.json": _document("The portal's look for SMART apps (smart_style_url)", {"type": "object"}),
    "/fhir/.well-known/smart-configuration": _document("SMART App Launch discovery", {"type": "object"}),
    "/.well-known/openid-configuration": _document("OpenID Connect discovery", {"type": "object"}),
}
