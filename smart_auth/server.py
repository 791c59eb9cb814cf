"""The SMART authorization server: Authlib's Flask AuthorizationServer with our grants, endpoints,
token generator and token storage. Each app gets its own server (``init_app``); views find it with
``current_server()``.
"""

import secrets
import time
import uuid

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidScopeError
from flask import current_app

from gateway import store
from gateway.store import oauth as oauth_store

from . import clients, discovery, keys
from .endpoints import PrivateKeyJWT, SmartIntrospectionEndpoint, SmartRegistrationEndpoint, SmartRevocationEndpoint
from .grants import (
    AuthorizationCodeGrant,
    BackendServicesGrant,
    RefreshTokenGrant,
    SmartCodeChallenge,
    SmartOpenIDCode,
    SmartOpenIDRefresh,
)
from .scopes import InvalidScope, parse_scopes

ACCESS_TTL = 3600  # Inferno runs for an hour on one token (checklist section 6)
OFFLINE_REFRESH_TTL = 90 * 86400  # offline_access: three months, renewed by each refresh
ONLINE_REFRESH_TTL = 12 * 3600  # online_access: the length of a portal session
EXTENSION = "smart_auth"


class SmartAuthorizationServer(AuthorizationServer):
    """Authlib's server, taught to accept a prepared OAuth2Request and to check SMART scope syntax."""

    def create_oauth2_request(self, request):
        return request if isinstance(request, OAuth2Request) else super().create_oauth2_request(request)

    def token_answer(self, request):
        """(status, body, headers) of a token request: Authlib's ``create_token_response`` without the Flask
        response, so the Flask route and the lean front (gateway/oauth/token_front.py) answer alike."""
        try:
            grant = self.get_token_grant(request)
            grant.validate_token_request()
            return grant.create_token_response()
        except OAuth2Error as error:
            return error(self.get_error_uri(request, error))

    def validate_requested_scope(self, scope):
        try:
            parse_scopes(scope or "")
        except InvalidScope as exc:
            raise InvalidScopeError(str(exc).replace('"', "'"))


def query_client(client_id):
    return clients.query_client(store.current(), client_id)


def refresh_lifetime(granted_scope):
    """How long a refresh token lives for a grant, or None when the grant asked for no refresh token."""
    granted = set(granted_scope.split())
    if "offline_access" in granted:
        return OFFLINE_REFRESH_TTL
    return ONLINE_REFRESH_TTL if "online_access" in granted else None


def encounter_of(user, scope):
    """The launch's encounter, while ``launch/encounter`` stays in the (possibly refreshed, narrower) scope."""
    return user.encounter_id if user.encounter_id and "launch/encounter" in (scope or "").split() else None


def generate_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
    """The token response: the OAuth fields plus SMART's launch context (patient, encounter, banner, style).

    An EHR launch from a visit gives ``encounter`` (SMART App Launch 2.2, "Launch context arrives with your
    access_token"), never an Encounter in ``fhirContext``: section "fhirContext" does not permit Patient or
    Encounter there unless with a ``role`` other than ``launch``, and the visit is the launch context itself.
    """
    if grant_type == "client_credentials":
        scope = scope or client.scope
    token = {
        "access_token": secrets.token_urlsafe(32),
        "token_type": "Bearer",
        "expires_in": expires_in or ACCESS_TTL,
        "scope": scope or "",
    }
    if user is not None:
        if user.patient_id:
            token["patient"] = user.patient_id
        if encounter_of(user, token["scope"]):
            token["encounter"] = user.encounter_id
        token["need_patient_banner"] = user.need_patient_banner
        token["smart_style_url"] = discovery.urls(current_app.config)["smart_style"]
        if include_refresh_token and refresh_lifetime(user.scope):
            token["refresh_token"] = secrets.token_urlsafe(32)
    return token


def _spent_credential(request):
    """(claim function, stored hash, family) of the code or refresh token this request spends, or None."""
    if request.authorization_code is not None:
        row = request.authorization_code.row
        return oauth_store.claim_code, row["code_hash"], row["family"]
    if request.refresh_token is not None:
        row = request.refresh_token.row
        return oauth_store.claim_refresh_token, row["token_hash"], row["family"]
    return None


def save_token(token, request):
    """Use up the code or refresh token spent and store the new access token (and refresh token) by hash,
    tied to the authorization they came from: one write transaction, one take of the write lock.

    Claiming in the same transaction as the inserts means of N requests racing with one credential exactly
    one stores tokens; each other one finds it used and revokes the family, winner's tokens included, since
    those are already committed (RFC 6749 section 4.1.2; RFC 9700 section 4.14.2 for refresh tokens).
    """
    user, client, now = request.user, request.client, int(time.time())
    family = user.family if user else str(uuid.uuid4())
    conn = store.current()
    spent = _spent_credential(request)
    with oauth_store.exchange_transaction(conn):
        if spent is not None and not spent[0](conn, spent[1], now):
            oauth_store.revoke_family(conn, spent[2])
            lost = True
        else:
            lost = False
            _insert_tokens(conn, token, user, client, family, now)
    if lost:
        raise InvalidGrantError()


def _insert_tokens(conn, token, user, client, family, now):
    """Insert the access token and, when the response carries one, the refresh token (hashes only)."""
    store.save_token(
        conn,
        token["access_token"],
        client.client_id,
        token["scope"],
        user.patient_id if user else None,
        user.subject if user else None,
        now,
        now + token["expires_in"],
        family,
        user.grant_id if user else None,
        user.fhir_user if user else None,
        encounter_of(user, token["scope"]) if user else None,
        practice_reach=None if user else client.practice_reach,
    )
    if "refresh_token" in token:
        oauth_store.save_refresh_token(
            conn,
            token["refresh_token"],
            {
                "family": family,
                "client_id": client.client_id,
                "scope": user.scope,
                "context": user.to_json(),
                "grant_id": user.grant_id,
                "patient_id": user.patient_id,
                "subject": user.subject,
                "issued_at": now,
                "expires_at": now + refresh_lifetime(user.scope),
            },
        )


def init_app(app):
    """Build this app's authorization server and make sure an id_token signing key exists."""
    server = SmartAuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_token_generator("default", generate_token)
    server.register_client_auth_method("private_key_jwt", PrivateKeyJWT())
    server.register_grant(AuthorizationCodeGrant, [SmartCodeChallenge(required=True), SmartOpenIDCode()])
    server.register_grant(RefreshTokenGrant, [SmartOpenIDRefresh()])
    server.register_grant(BackendServicesGrant)
    server.register_endpoint(SmartIntrospectionEndpoint)
    server.register_endpoint(SmartRevocationEndpoint)
    server.register_endpoint(SmartRegistrationEndpoint)
    app.extensions[EXTENSION] = server
    db = store.connect(app.config["DB"])
    try:
        keys.ensure_signing_key(db, app.config["SECRET_KEY"])
    finally:
        db.close()
    return server


def current_server():
    """The authorization server of the app handling this request."""
    return current_app.extensions[EXTENSION]
