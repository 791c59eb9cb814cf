"""Authlib grants for SMART App Launch, each a small subclass that supplies storage and SMART's rules.

- authorization code with PKCE (S256 only; required of every client), ``aud`` = the FHIR base;
- refresh tokens with rotation, where reusing a rotated token revokes its whole family;
- client_credentials for SMART Backend Services (private_key_jwt, system/ scopes only);
- OpenID Connect id_tokens (RS256) carrying ``fhirUser``.
"""

import time

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from authlib.oidc.core.util import create_half_hash
from flask import current_app

from gateway import store
from gateway.store import oauth as oauth_store

from . import discovery, keys
from .models import AuthorizationCode, TokenRecord

CODE_TTL = 120
USER_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


def revoke_family(conn, family):
    with store.transaction(conn):
        oauth_store.revoke_family(conn, family)


def same_aud(aud, fhir_base):
    """SMART's ``aud`` check: the FHIR base URL, ignoring one trailing slash."""
    return bool(aud) and aud.rstrip("/") == fhir_base.rstrip("/")


class SmartCodeChallenge(CodeChallenge):
    """PKCE as SMART 2 wants it: S256 only (``plain`` refused), required of every app, public or confidential.

    SMART App Launch 2.2, "Obtain authorization code": apps SHALL use PKCE (RFC 7636) with S256 and servers SHALL
    require it; a secret does not protect a code stolen from the redirect, the verifier does.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Every app must send a PKCE code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")  # RFC 7636 section 4.5, for every client
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """The authorization code grant; codes are stored hashed, live two minutes and work once."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_AUTH_METHODS

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        data, state = self.request.payload.data, self.request.payload.state
        if not same_aud(data.get("aud"), current_app.config["FHIR_BASE"]):
            # SMART App Launch 2.0.0 section 2.0.5: a wrong aud must never yield a code.
            raise InvalidRequestError(
                "aud must be this server's FHIR base URL.", redirect_uri=redirect_uri, state=state
            )
        if data.get("launch") and "launch" not in (self.request.scope or "").split():
            raise InvalidScopeError(
                "An EHR launch must ask for the 'launch' scope.", redirect_uri=redirect_uri, state=state
            )
        return redirect_uri

    def save_authorization_code(self, code, request):
        authorization, data, now = request.user, request.payload.data, int(time.time())
        conn = store.current()
        with store.transaction(conn):
            oauth_store.delete_expired_codes(conn, now - 3600)
            oauth_store.save_code(
                conn,
                code,
                {
                    "client_id": request.client.client_id,
                    "redirect_uri": request.payload.redirect_uri,
                    "scope": authorization.scope,
                    "context": authorization.to_json(),
                    "family": authorization.family,
                    "code_challenge": data.get("code_challenge"),
                    "code_challenge_method": data.get("code_challenge_method"),
                    "nonce": data.get("nonce"),
                    "auth_time": authorization.auth_time or now,
                    "expires_at": now + CODE_TTL,
                },
            )

    def validate_token_request(self):
        """Authlib's checks (client, code, redirect_uri, then PKCE); a redemption that fails after the code was
        found still uses the code up, so a wrong code_verifier or redirect_uri gets one try, not many."""
        self.found_code = None
        try:
            super().validate_token_request()
        except OAuth2Error:
            if self.found_code is not None:
                conn = store.current()
                with store.transaction(conn):
                    oauth_store.claim_code(conn, self.found_code["code_hash"], int(time.time()))
            raise

    def query_authorization_code(self, code, client):
        """Find the code; a second use revokes what the first one issued (RFC 6749 4.1.2).

        The code is used up by ``server.save_token``, in the one write transaction that stores its tokens,
        so that of two requests racing with one code exactly one gets tokens and the other revokes them.
        """
        conn, now = store.current(), int(time.time())
        row = oauth_store.find_code(conn, code)
        if row is None or row["client_id"] != client.client_id:
            return None
        if row["used_at"] is not None:
            revoke_family(conn, row["family"])
            return None
        if row["expires_at"] <= now:
            return None
        self.found_code = row
        return AuthorizationCode(row)

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: the code was used up when its tokens were stored (server.save_token)."""

    def authenticate_user(self, authorization_code):
        return authorization_code.authorization


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh with rotation: each refresh token works once and a new one comes back."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_token_endpoint_client(self):
        """A public app may refresh without naming itself: SMART App Launch 2.x, "Refresh access token": "For
        public apps, authentication is not possible (and thus not required)" (fhirclient 2.x sends no client_id).
        The refresh token then names its client; any other client still authenticates as its kind requires."""
        client = self._public_client_of_token()
        if client is None:
            return super().authenticate_token_endpoint_client()
        self.server.send_signal("after_authenticate_client", client=client, grant=self)
        return client

    def _public_client_of_token(self):
        """The public client a refresh token was issued to, when the request carries no client identity at all."""
        data = self.request.payload.data
        if self.request.headers.get("Authorization") or any(
            data.get(key) for key in ("client_id", "client_secret", "client_assertion")
        ):
            return None
        row = self._refresh_row(data.get("refresh_token") or "")
        client = self.server.query_client(row["client_id"]) if row else None
        return client if client is not None and client.auth_method == "none" else None

    def authenticate_refresh_token(self, refresh_token):
        """Check the token and use it up; presenting a used one revokes its family (OAuth 2.0 BCP 4.14.2)."""
        conn, now = store.current(), int(time.time())
        row = self._refresh_row(refresh_token)
        if row is None or row["revoked"] or row["expires_at"] <= now:
            return None
        if row["used_at"] is not None:
            revoke_family(conn, row["family"])
            return None
        if row["client_id"] != self.request.client.client_id:
            return None
        wanted = set((self.request.payload.scope or "").split())
        if not wanted <= set(row["scope"].split()):
            raise InvalidScopeError("A refresh cannot ask for more than was granted.")
        if not _still_authorized(conn, row):
            return None
        # Used up by server.save_token, in the transaction that stores the new tokens (see query_authorization_code).
        return TokenRecord(row, "refresh_token")

    def _refresh_row(self, refresh_token):
        """The stored row of the presented refresh token, read once per request (the grant is the request's)."""
        if getattr(self, "_row_of", (None,))[0] != refresh_token:
            self._row_of = (refresh_token, oauth_store.find_refresh_token(store.current(), refresh_token))
        return self._row_of[1]

    def authenticate_user(self, refresh_token):
        return refresh_token.authorization

    def revoke_old_credential(self, refresh_token):
        """Nothing to do: the old token was used up when the new ones were stored (server.save_token)."""


def _still_authorized(conn, row):
    """The consent behind a refresh token, and the account's link to the record, must still stand."""
    if row["grant_id"] is not None:
        grant = oauth_store.grant_by_id(conn, row["grant_id"])
        if grant is None or grant["revoked_at"] is not None:
            return False
        return oauth_store.account_link_active(conn, row["subject"], row["patient_id"])
    return True


class BackendServicesGrant(grants.ClientCredentialsGrant):
    """SMART Backend Services: a signed client assertion buys a system/ token; no refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt"]

    def authenticate_token_endpoint_client(self):
        """RFC 6749 section 5.2: a client that tried the Authorization header (HTTP Basic, which no backend client
        may use) gets 401 and a Basic challenge (InvalidClientError's headers at 401), not Authlib's 400."""
        try:
            return super().authenticate_token_endpoint_client()
        except InvalidClientError as error:
            if self.request.headers.get("Authorization"):
                error.status_code = 401
            raise

    def validate_token_request(self):
        super().validate_token_request()
        if self.request.client.practice_reach is None:
            raise UnauthorizedClientError(
                "This backend client is bound to no practice: an operator binds it with "
                "`fhir-gateway client bind CLIENT_ID --practice ID` (or --all-practices)"
            )
        requested = (self.request.payload.scope or "").split()
        refused = [s for s in requested if not self.request.client.may_request(s)]
        if refused:
            raise InvalidScopeError(f"Not allowed for this client: {' '.join(refused)}")


def _signing_key():
    return keys.signing_key(store.current(), current_app.config["SECRET_KEY"])


class _SmartIdToken:
    """id_tokens signed RS256 with the server's current key; ``fhirUser`` names the user's FHIR resource."""

    def encode_id_token(self, token, request):
        """Authlib's id_token claims (OpenIDToken.encode_id_token: the client's, the code's nonce and auth_time,
        at_hash, the user's), signed by the active key as one lookup and one RSA signature (keys.sign_jwt)."""
        claims = self.get_compatible_claims(request)
        if request.authorization_code:
            claims.update(self.get_authorization_code_claims(request.authorization_code))
        # OpenID Connect Core 1.0 section 3.1.3.6: the left half of the access token's SHA-256, base64url.
        claims["at_hash"] = create_half_hash(token["access_token"], keys.ALG).decode("ascii")
        claims.update(self.generate_user_info(request.user, token["scope"]))
        return _signing_key().sign_jwt(claims)

    def get_client_claims(self, client):
        now = int(time.time())
        return {
            "iss": discovery.urls(current_app.config)["issuer"],
            "aud": client.client_id,
            "iat": now,
            "exp": now + keys.ID_TOKEN_TTL,
        }

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user.subject)
        if user.fhir_user and "fhirUser" in scope.split():
            info["fhirUser"] = f"{current_app.config['FHIR_BASE']}/{user.fhir_user}"
        return info


class SmartOpenIDCode(_SmartIdToken, OpenIDCode):
    """The id_token of the authorization code grant (with the request's nonce and the login's auth_time)."""

    def exists_nonce(self, nonce, request):
        return oauth_store.nonce_used(store.current(), request.payload.client_id, nonce)


class SmartOpenIDRefresh(_SmartIdToken, OpenIDToken):
    """A fresh id_token on refresh when the refreshed scope still has ``openid``.

    OpenID Connect Core 1.0 section 12.2: the same ``iss``, ``sub`` and ``aud`` as the first id_token, a new
    ``iat``, ``auth_time`` still the original login's, and no ``nonce``. ``fhirUser`` follows the refreshed scope.
    """

    def get_compatible_claims(self, request):
        claims = super().get_compatible_claims(request)
        if request.user is not None and request.user.auth_time:
            claims["auth_time"] = request.user.auth_time
        return claims
