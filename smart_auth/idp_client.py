"""The gateway as an OpenID Connect relying party of one identity provider ("Verify with a digital ID").

Authlib's OAuth 2 client builds the authorization request (code flow, PKCE S256, ``state``, ``nonce``,
``acr_values``) and exchanges the code (client_secret_basic); Authlib's ``CodeIDToken`` checks the ID token's claims
after joserfc has checked its signature against the provider's JWK Set, as Authlib's own OpenID client does. Every
call to the provider goes through gateway/outbound.py (deadline, size cap, no redirects, public addresses only in
production): Authlib is handed a small session that makes its token request there.

The discovery document and the JWK Set are cached by Cache-Control (5 minutes by default, an hour at most), per
process: they are only caches. An unknown ``kid`` refetches the keys at most every 30 seconds (key rotation).
"""

import logging
import threading
import time
import urllib.parse
from dataclasses import dataclass

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jws import JWSRegistry, extract_compact

from gateway import outbound

from .client_jwks import JwksCache, KeysUnavailable, lifetime

DEADLINE = 5.0
MAX_BYTES = 64 * 1024
LEEWAY = 60  # seconds of clock skew allowed on exp and iat
MAX_AGE = 600  # an ID token issued longer ago than this is refused (OIDC Core 3.1.3.7 item 10)
CALLBACK_PATH = "/portal/verify/digital-id/callback"
ALGORITHMS = ["RS256", "PS256", "ES256"]  # asymmetric only: "none" and HS256 (signed with our own secret) refused
log = logging.getLogger(__name__)


class ProviderUnavailable(Exception):
    """The provider's discovery document, keys or token endpoint could not be used (the reason is logged)."""


class TokenRejected(Exception):
    """The provider's answer failed a check; ``reason`` says which, for staff (never a claim's value)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    """One configured identity provider and how the gateway is registered there."""

    issuer: str
    client_id: str
    client_secret: str
    name: str
    acr_values: tuple
    vot_values: tuple
    scope: str
    redirect_uri: str
    public_only: bool


def configured(config):
    """The Provider of the app's settings, or None when "Verify with a digital ID" is off."""
    if not config.get("IDP_ISSUER"):
        return None
    return Provider(
        issuer=config["IDP_ISSUER"],
        client_id=config["IDP_CLIENT_ID"],
        client_secret=config.get("IDP_CLIENT_SECRET") or "",
        name=config.get("IDP_NAME") or "",
        acr_values=tuple(str(config["IDP_ACR_VALUES"]).split()),
        vot_values=tuple(str(config.get("IDP_VOT_VALUES") or "").split()),
        scope=config.get("IDP_SCOPE") or "openid",
        # Fixed: never taken from the request, so the code can only come back here (RFC 6749 section 10.6).
        redirect_uri=config["BASE_URL"] + CALLBACK_PATH,
        public_only=config.get("ENV") == "production",
    )


class _MetadataCache:
    """Discovery documents by issuer, each until its Cache-Control lifetime ends."""

    def __init__(self, clock=time.monotonic):
        self.clock, self._entries, self._lock = clock, {}, threading.Lock()

    def get(self, provider):
        with self._lock:
            entry = self._entries.get(provider.issuer)
        if entry and self.clock() < entry[1]:
            return entry[0]
        metadata, ttl = _discover(provider)
        with self._lock:
            self._entries[provider.issuer] = (metadata, self.clock() + ttl)
        return metadata

    def clear(self):
        with self._lock:
            self._entries.clear()


metadata_cache = _MetadataCache()
keys_cache = JwksCache()


def _get(url, public_only):
    answer = outbound.request(
        "GET",
        url,
        public_only=public_only,
        deadline=DEADLINE,
        max_bytes=MAX_BYTES,
        headers={"Accept": "application/json"},
    )
    if answer.status != 200:
        raise ProviderUnavailable(f"{url} answered {answer.status}")
    return answer


def _discover(provider):
    """Fetch and check the provider's discovery document (OpenID Connect Discovery 1.0 sections 4 and 4.3)."""
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = _get(url, provider.public_only)
        metadata = answer.json()
    except (outbound.OutboundError, ValueError) as exc:
        raise ProviderUnavailable(f"discovery: {exc}") from exc
    if not isinstance(metadata, dict) or metadata.get("issuer") != provider.issuer:
        raise ProviderUnavailable("discovery: the document names another issuer")  # section 4.3: must be identical
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = metadata.get(key)
        if not isinstance(value, str) or urllib.parse.urlsplit(value).scheme not in _schemes(provider):
            raise ProviderUnavailable(f"discovery: no usable {key}")
    return metadata, lifetime(answer.headers.get("Cache-Control", ""))


def _schemes(provider):
    return ("https",) if provider.public_only else ("https", "http")


def authorization_url(provider, state, nonce, code_verifier):
    """Where to send the person to sign in (raises ProviderUnavailable when discovery fails)."""
    metadata = metadata_cache.get(provider)
    client = OAuth2Client(
        None,
        client_id=provider.client_id,
        scope=provider.scope,
        redirect_uri=provider.redirect_uri,
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        metadata["authorization_endpoint"],
        state=state,
        code_verifier=code_verifier,
        nonce=nonce,
        acr_values=" ".join(provider.acr_values),
    )
    return url


class _OutboundSession:
    """What Authlib's client needs of a requests session (``post``), made through gateway/outbound.py."""

    def __init__(self, public_only):
        self.public_only = public_only

    def post(self, url, data=None, headers=None, auth=None, **_):
        body = urllib.parse.urlencode(data or {})
        url, headers, body = auth.prepare("POST", url, dict(headers or {}), body)
        answer = outbound.request(
            "POST",
            url,
            public_only=self.public_only,
            deadline=DEADLINE,
            max_bytes=MAX_BYTES,
            headers=headers,
            data=body,
        )
        return _Answer(answer)


class _Answer:
    """An outbound.Response in the shape Authlib reads a token response from."""

    def __init__(self, answer):
        self.status_code, self._answer = answer.status, answer

    def json(self):
        return self._answer.json()

    def raise_for_status(self):
        if self.status_code >= 400:
            raise ProviderUnavailable(f"token endpoint answered {self.status_code}")


def exchange_code(provider, code, code_verifier):
    """Trade the authorization code for the provider's tokens; TokenRejected or ProviderUnavailable when refused."""
    metadata = metadata_cache.get(provider)
    client = OAuth2Client(
        _OutboundSession(provider.public_only),
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        redirect_uri=provider.redirect_uri,
        token_endpoint_auth_method="client_secret_basic" if provider.client_secret else "none",
    )
    try:
        return client.fetch_token(
            metadata["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=code_verifier
        )
    except OAuth2Error as exc:
        raise TokenRejected(f"code not accepted ({exc.error})") from exc
    except (outbound.OutboundError, ValueError) as exc:
        raise ProviderUnavailable(f"token endpoint: {exc}") from exc


def verified_claims(provider, token, nonce, now=None):
    """The ID token's claims once signature, iss, aud, exp, iat, nonce and acr (and vot) pass; else TokenRejected."""
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise TokenRejected("no ID token")
    decoded = _signed(provider, id_token)
    options = {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
    }
    params = {"nonce": nonce, "client_id": provider.client_id, "access_token": token.get("access_token")}
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    now = int(time.time() if now is None else now)
    try:
        claims.validate(now=now, leeway=LEEWAY)
    except ExpiredTokenError as exc:
        raise TokenRejected("token not accepted (exp)") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        raise TokenRejected(f"token not accepted ({exc.claim})") from exc
    if claims["iat"] < now - MAX_AGE - LEEWAY:
        raise TokenRejected("token not accepted (iat)")
    if claims.get("acr") not in provider.acr_values:
        raise TokenRejected("no IAL2 assurance (acr)")
    if provider.vot_values and claims.get("vot") not in provider.vot_values:
        raise TokenRejected("no accepted vector of trust (vot)")  # RFC 8485 section 5.1
    return dict(claims)


IDENTITY_CLAIMS = ("given_name", "family_name", "birthdate", "address")


def with_userinfo(provider, token, claims):
    """The verified claims, completed from the UserInfo endpoint when the ID token lacks identity claims.

    Some providers (Login.gov among them) release the verified name, birth date and address only there. The answer
    is about the ID token's person only when its ``sub`` is the same (OIDC Core 5.3.4), and it fills only claims
    the ID token left out; ``acr`` and the rest still come from the signed ID token.
    """
    url = metadata_cache.get(provider).get("userinfo_endpoint")
    if all(name in claims for name in IDENTITY_CLAIMS[:3]) or not url or not token.get("access_token"):
        return claims
    if urllib.parse.urlsplit(str(url)).scheme not in _schemes(provider):
        return claims
    try:
        answer = outbound.request(
            "GET",
            url,
            public_only=provider.public_only,
            deadline=DEADLINE,
            max_bytes=MAX_BYTES,
            headers={"Accept": "application/json", "Authorization": f"Bearer {token['access_token']}"},
        )
        info = answer.json() if answer.status == 200 else None
    except (outbound.OutboundError, ValueError) as exc:
        raise ProviderUnavailable(f"userinfo: {exc}") from exc
    if not isinstance(info, dict):
        raise ProviderUnavailable("userinfo: no JSON object")
    if info.get("sub") != claims.get("sub"):
        raise TokenRejected("userinfo not accepted (sub)")
    return {**{k: info[k] for k in IDENTITY_CLAIMS if k in info}, **claims}


def _signed(provider, id_token):
    """The ID token's header and claims once its signature verifies with one of the provider's keys."""
    metadata = metadata_cache.get(provider)
    try:
        kid = extract_compact(id_token.encode()).headers().get("kid")
    except (JoseError, ValueError) as exc:
        raise TokenRejected("token not accepted (format)") from exc
    try:
        keys = keys_cache.key_set(metadata["jwks_uri"], provider.public_only, kid)
    except KeysUnavailable as exc:
        raise ProviderUnavailable(f"keys: {exc}") from exc
    try:
        return jwt.decode(id_token, keys, registry=JWSRegistry(algorithms=ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise TokenRejected("token not accepted (signature)") from exc
