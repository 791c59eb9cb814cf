"""The authorization server's other endpoints as Authlib subclasses: private_key_jwt client
authentication (RFC 7523), token introspection (RFC 7662), revocation (RFC 7009) and dynamic client
registration (RFC 7591).
"""

import contextvars
import time

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app
from joserfc import jws, jwt
from joserfc.errors import JoseError

from gateway import store
from gateway.store import oauth as oauth_store

from . import client_jwks, clients, discovery, open_registration
from .grants import revoke_family
from .models import TokenRecord
from .tokens import ALL_PRACTICES

MAX_ASSERTION_LIFETIME = 300  # SMART Backend Services: exp no more than five minutes ahead
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
KEYS_UNAVAILABLE = "The client's keys could not be loaded from its jwks_uri."
JKU_NOT_REGISTERED = "The client assertion's jku is not the client's registered jwks_uri."
# The assertion of the request being authenticated: Authlib asks resolve_client_public_key for a client's keys
# with the client alone, and the token request may come through Flask or the lean front (no Flask request).
_assertion = contextvars.ContextVar("client_assertion", default=None)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """``private_key_jwt``: a JWT signed RS384 or ES384 with a key from the client's JWKS."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self):
        super().__init__(validate_jti=True, leeway=30)

    def __call__(self, query_client, request):
        reset = _assertion.set(request.form.get("client_assertion"))
        try:
            return super().__call__(query_client, request)
        finally:
            _assertion.reset(reset)

    def get_audiences(self):
        return [discovery.urls(current_app.config)["token"]]

    def resolve_client_public_key(self, client):
        """The client's keys: inline, or fetched from its jwks_uri (one neutral error whatever went wrong).

        A ``jku`` header is honoured only as the registered jwks_uri, compared exactly and never fetched
        otherwise (SMART App Launch 2.x, client-confidential-asymmetric, "Authentication JWT Header Values":
        jku, when present, "SHALL match the JWKS URL value that the client supplied ... at client registration").
        """
        header = _assertion_header(_assertion.get())
        jku = header.get("jku")
        if jku is not None and (not client.jwks_uri or jku != client.jwks_uri):
            raise InvalidClientError(description=JKU_NOT_REGISTERED)
        if not client.jwks_uri:
            return client.public_keys()
        kid = header.get("kid")
        try:
            return client_jwks.cache.key_set(
                client.jwks_uri,
                current_app.config["ENV"] == "production",
                kid if isinstance(kid, str) else None,
            )
        except client_jwks.KeysUnavailable:
            raise InvalidClientError(description=KEYS_UNAVAILABLE)

    def process_assertion_claims(self, assertion, key):
        try:
            token = jwt.decode(assertion, key, algorithms=discovery.ASSERTION_ALGS)
        except JoseError as exc:
            raise InvalidClientError(description=f"The client assertion does not verify: {exc.error}")
        self.verify_claims(token.claims)
        if (
            not isinstance(token.claims.get("exp"), int)
            or token.claims["exp"] > time.time() + MAX_ASSERTION_LIFETIME + self.leeway
        ):
            raise InvalidClientError(description="The client assertion must expire within five minutes.")
        return token.claims

    def validate_jti(self, claims, jti):
        """Refuse a replayed assertion; the seen ids live in the database so every process sees them."""
        conn = store.current()
        with store.transaction(conn):
            return oauth_store.remember_assertion(
                conn, claims["sub"], str(jti), int(claims["exp"]) + self.leeway, int(time.time())
            )


def _assertion_header(assertion):
    """A client assertion's JOSE header, unverified (the signature is checked later); {} when unreadable."""
    try:
        return jws.extract_compact((assertion or "").encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        return {}


def find_token(token_string, hint):
    """The stored access or refresh token a string stands for (checking the hinted kind first)."""
    conn = store.current()
    lookups = [("access_token", oauth_store.find_access_token), ("refresh_token", oauth_store.find_refresh_token)]
    if hint == "refresh_token":
        lookups.reverse()
    for kind, lookup in lookups:
        row = lookup(conn, token_string)
        if row is not None:
            return TokenRecord(row, kind)
    return None


class SmartIntrospectionEndpoint(IntrospectionEndpoint):
    """RFC 7662: an authenticated client learns whether its own tokens are active and what they grant; a
    resource server (SMART App Launch 2.x, "Token Introspection") may ask about any access token."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        # Every access token here is issued for this gateway's one FHIR base; refresh tokens stay the app's.
        return token.check_client(client) or (client.is_resource_server and token.kind == "access_token")

    def introspect_token(self, token):
        row, config = token.row, current_app.config
        subject = row.get("subject") or row["client_id"]
        payload = {
            "active": True,
            "scope": row["scope"],
            "client_id": row["client_id"],
            "token_type": "Bearer",
            "exp": row["expires_at"],
            "iat": row["issued_at"],
            "sub": subject,
            "iss": discovery.urls(config)["issuer"],
            "aud": config["FHIR_BASE"],
        }
        if token.kind == "refresh_token":
            payload["token_type"] = "refresh_token"
        if row.get("patient_id"):
            payload["patient"] = row["patient_id"]
        if token.kind == "access_token" and row.get("practice_reach") == ALL_PRACTICES:
            payload["all_practices"] = True
        elif token.kind == "access_token" and row.get("practice_reach"):
            payload["practice"] = row["practice_reach"]
        encounter = row.get("encounter_id") or (token.authorization.encounter_id if token.authorization else None)
        if encounter and "launch/encounter" in row["scope"].split():
            payload["encounter"] = encounter
        fhir_user = row.get("fhir_user") or (token.authorization.fhir_user if token.authorization else None)
        if fhir_user and "fhirUser" in row["scope"].split():
            payload["fhirUser"] = f"{config['FHIR_BASE']}/{fhir_user}"
        return payload


class SmartRevocationEndpoint(RevocationEndpoint):
    """RFC 7009: a client revokes one of its tokens; revoking a refresh token ends its whole family."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        conn = store.current()
        if token.kind == "refresh_token":
            revoke_family(conn, token.row["family"])
        else:
            with store.transaction(conn):
                store.revoke_token(conn, request.form["token"])


class SmartRegistrationEndpoint(ClientRegistrationEndpoint):
    """RFC 7591 open registration of patient-facing apps (see open_registration); with
    GATEWAY_REGISTRATION_APPROVAL=1 a new client waits for an operator."""

    def authenticate_token(self, request):
        return True  # SMART apps register themselves; operators can require approval instead

    def extract_client_metadata(self, request):
        """Refuse the wrong shapes, sizes and kinds of client before Authlib reads the metadata."""
        try:
            open_registration.check_metadata(request.payload.data, current_app.config["ENV"] == "production")
        except clients.ClientError as exc:
            raise InvalidClientMetadataError(exc.description)  # RFC 7591 section 3.2.2
        return super().extract_client_metadata(request)

    def get_server_metadata(self):
        """What open registration accepts (client_credentials is the operator's, see open_registration)."""
        return {
            "grant_types_supported": list(open_registration.GRANT_TYPES),
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": list(open_registration.AUTH_METHODS),
        }

    def generate_client_info(self, request):
        info = super().generate_client_info(request)
        if request.payload.data.get("token_endpoint_auth_method", "client_secret_basic") not in SECRET_AUTH_METHODS:
            del info["client_secret"], info["client_secret_expires_at"]  # only secret clients get a secret
        return info

    def save_client(self, client_info, client_metadata, request):
        approval = str(current_app.config.get("REGISTRATION_APPROVAL", "0")).lower() in ("1", "true", "yes")
        try:
            client, _ = clients.register_client(
                store.current(),
                client_metadata.get("client_name") or "Unnamed app",
                client_metadata.get("redirect_uris") or [],
                _kind(client_metadata),
                client_metadata.get("scope") or open_registration.DEFAULT_SCOPE,
                client_metadata.get("jwks"),
                client_metadata.get("jwks_uri"),
                status="pending" if approval else "active",
                client_id=client_info["client_id"],
                client_secret=client_info.get("client_secret"),
                metadata={k: v for k, v in client_metadata.items() if k in ("client_uri", "logo_uri", "contacts")},
            )
        except clients.ClientError as exc:
            raise InvalidClientMetadataError(exc.description)
        return client

    def generate_client_registration_info(self, client, request):
        # RFC 7591 section 3.2.1: the answer holds every registered value, including those the server chose.
        return {"client_type": client.kind, "status": client.status, "scope": client.scope}


def _kind(metadata):
    """The client kind its registered authentication method and grant types describe."""
    method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
    if method == "none":
        return "public"
    if method in SECRET_AUTH_METHODS:
        return "confidential"
    if method == "private_key_jwt":
        return "asymmetric"  # never "backend": open_registration refuses client_credentials
    raise InvalidClientMetadataError(f"token_endpoint_auth_method '{method}' is not supported")
