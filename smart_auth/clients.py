"""OAuth clients (SMART apps): registering, listing, removing and approving them, and the Client model
Authlib asks about redirect URIs, secrets, grant types and scopes.

Kinds: ``public`` (no secret, PKCE), ``confidential`` (a secret, sent by HTTP Basic or in the form),
``asymmetric`` (private_key_jwt with RS384/ES384 keys, JWKS inline or by URL), ``backend`` (SMART
Backend Services: client_credentials with private_key_jwt, system/ scopes only) and ``resource-server`` (a
secret, no grants: it only introspects tokens, see smart_auth.endpoints).
"""

import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway import store
from gateway.store import oauth as oauth_store

from .scopes import InvalidScope, parse_scope
from .tokens import ALL_PRACTICES

KINDS = {
    "public": "none",
    "confidential": "client_secret_basic",
    "asymmetric": "private_key_jwt",
    "backend": "private_key_jwt",
    "resource-server": "client_secret_basic",
}
SECRET_KINDS = ("confidential", "resource-server")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
USER_GRANT_TYPES = ["authorization_code", "refresh_token"]
BACKEND_SCOPE = "system/*.rs"
DISPLAY_NAME = 100


class ClientError(ValueError):
    """Client metadata the server refuses (RFC 7591 ``invalid_client_metadata``)."""

    @property
    def description(self):
        """The message as an OAuth ``error_description``: RFC 6749 section 5.2 allows printable ASCII without
        '"' and '\\' only, and a refusal may quote what the client sent."""
        return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in str(self))


def secret_hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Client(ClientMixin):
    """A registered app, as Authlib's ClientMixin wants it."""

    client_id: str
    name: str
    kind: str
    auth_method: str
    redirect_uris: list = field(default_factory=list)
    grant_types: list = field(default_factory=list)
    scope: str = ""
    launch_uri: str | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    secret_hash: str | None = None
    status: str = "active"
    # A backend client's practice (its Organization id) or ALL_PRACTICES; None for other kinds, and for a backend
    # client from before backend clients were bound, in a database of several practices (it gets no token).
    practice_reach: str | None = None

    @classmethod
    def from_row(cls, row):
        return cls(
            row["client_id"],
            row["name"],
            row["kind"],
            row["auth_method"],
            json.loads(row["redirect_uris"]),
            json.loads(row["grant_types"]),
            row["scope"],
            row["launch_uri"],
            json.loads(row["jwks"]) if row["jwks"] else None,
            row["jwks_uri"],
            row["secret_hash"],
            row["status"],
            row.get("practice_reach"),
        )

    @property
    def display_name(self):
        """The name as pages show it: bounded, for clients stored before registration bounded names."""
        return self.name if len(self.name) <= DISPLAY_NAME else self.name[: DISPLAY_NAME - 1] + "…"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None  # SMART requires redirect_uri on every authorization request

    def get_allowed_scope(self, scope):
        """The requested scopes this client may ask for, in request order (others are dropped)."""
        return " ".join(s for s in (scope or "").split() if self.may_request(s))

    def may_request(self, scope):
        """Whether one scope is within this client's registered scopes (all of its kind when none)."""
        parsed = _parse(scope)
        if self.kind == "backend":
            return parsed is not None and parsed.context == "system" and _covered(parsed, self.scope or BACKEND_SCOPE)
        if parsed is not None and parsed.context == "system":
            return False
        if not self.scope or scope in self.scope.split():
            return True
        return parsed is not None and _covered(parsed, self.scope)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris  # exact match (RFC 6749 section 3.1.2.3)

    def check_client_secret(self, client_secret):
        if not self.secret_hash:
            return False
        return hmac.compare_digest(self.secret_hash, secret_hash(client_secret))

    @property
    def is_resource_server(self):
        """Whether this client may introspect every token of this gateway (and can get none itself)."""
        return self.kind == "resource-server"

    def check_endpoint_auth_method(self, method, endpoint):
        if self.kind in SECRET_KINDS:
            return method in SECRET_METHODS
        return method == self.auth_method

    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types

    def public_keys(self):
        """The client's inline public keys for private_key_jwt (a jwks_uri is fetched by smart_auth.client_jwks)."""
        return KeySet.import_key_set(self.jwks or {"keys": []})


def _parse(scope):
    try:
        return parse_scope(scope)
    except InvalidScope:
        return None


def _covered(parsed, registered):
    for other in (_parse(s) for s in registered.split()):
        if (
            other is not None
            and other.context == parsed.context
            and other.resource_type in ("*", parsed.resource_type)
            and parsed.interactions <= other.interactions
            and (not other.query or other.query == parsed.query)
        ):
            return True
    return False


def _check_redirect_uri(uri):
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or (parts.scheme in ("http", "https") and not parts.netloc):
        raise ClientError(f"redirect URI '{uri}' must be an absolute URI without a fragment")


def _check_signs_in(kind, redirect_uris, launch_uri, scope):
    if kind == "resource-server":
        if redirect_uris or launch_uri:
            raise ClientError("a resource server signs no one in: it takes no redirect URI or launch URI")
        if scope:
            raise ClientError("a resource server gets no tokens, so it takes no scopes")
    elif kind != "backend" and not redirect_uris:
        raise ClientError("a client that signs users in needs at least one redirect URI")


def _grant_types(kind):
    if kind == "resource-server":
        return []
    return ["client_credentials"] if kind == "backend" else USER_GRANT_TYPES


def _check_scope(kind, scope):
    for item in (scope or "").split():
        try:
            parsed = parse_scope(item)
        except InvalidScope as exc:
            raise ClientError(str(exc))
        if (kind == "backend") != (parsed is not None and parsed.context == "system"):
            raise ClientError(f"'{item}': backend clients take system/ scopes only, and only they take them")


def _check_keys(kind, jwks, jwks_uri):
    if kind not in ("asymmetric", "backend"):
        if jwks or jwks_uri:
            raise ClientError("only asymmetric and backend clients register keys")
        return
    if not (jwks or jwks_uri):
        raise ClientError(f"a {kind} client needs its public keys: jwks or jwks_uri")
    if jwks_uri and urlsplit(jwks_uri).scheme not in ("http", "https"):
        raise ClientError("jwks_uri must be an http(s) URL")
    if jwks:
        try:
            keys = KeySet.import_key_set(jwks)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ClientError(f"jwks is not a JWK Set: {exc}")
        if any(key.is_private for key in keys.keys):
            raise ClientError("jwks must hold public keys only")


BOUND = "a backend client is registered for one practice (--practice ID) or, by the operator, for all (--all-practices)"


def _practice_reach(db, kind, practice, all_practices):
    """What a new client's system/ tokens reach: a practice's Organization id, ALL_PRACTICES, or None (not backend)."""
    if kind != "backend":
        if practice or all_practices:
            raise ClientError("only backend clients are bound to a practice")
        return None
    if bool(practice) == bool(all_practices):
        raise ClientError(BOUND)
    return ALL_PRACTICES if all_practices else practice_id(db, practice)


def practice_id(db, practice):
    """The Organization id of a practice named by that id or by its row number; ClientError when none has it."""
    found = store.chart_rows(db, "practices", uid=str(practice))
    if not found and str(practice).isascii() and str(practice).isdigit():
        found = store.chart_rows(db, "practices", id=int(practice))
    if not found:
        raise ClientError(f"no practice has the id '{practice}'")
    return found[0]["uid"]


def register_client(
    db,
    name,
    redirect_uris=(),
    kind="public",
    scope="",
    jwks=None,
    jwks_uri=None,
    launch_uri=None,
    status="active",
    metadata=None,
    client_id=None,
    client_secret=None,
    practice=None,
    all_practices=False,
):
    """Register an app; return ``(Client, client_secret or None)``. Raise ClientError for bad metadata.

    A backend client names exactly one of ``practice`` (its Organization id or row id) and ``all_practices``.
    """
    if kind not in KINDS:
        raise ClientError(f"client type must be one of {', '.join(KINDS)}")
    if not (name or "").strip():
        raise ClientError("a client needs a name")
    redirect_uris = list(redirect_uris or [])
    _check_signs_in(kind, redirect_uris, launch_uri, scope)
    for uri in redirect_uris + ([launch_uri] if launch_uri else []):
        _check_redirect_uri(uri)
    _check_scope(kind, scope)
    _check_keys(kind, jwks, jwks_uri)
    reach = _practice_reach(db, kind, practice, all_practices)
    secret = (client_secret or secrets.token_urlsafe(32)) if kind in SECRET_KINDS else None
    row = {
        "client_id": client_id or str(uuid.uuid4()),
        "secret_hash": secret_hash(secret) if secret else None,
        "name": name.strip(),
        "kind": kind,
        "auth_method": KINDS[kind],
        "redirect_uris": json.dumps(redirect_uris),
        "launch_uri": launch_uri,
        "scope": scope or (BACKEND_SCOPE if kind == "backend" else ""),
        "grant_types": json.dumps(_grant_types(kind)),
        "jwks": json.dumps(jwks) if jwks else None,
        "jwks_uri": jwks_uri,
        "metadata": json.dumps(metadata or {}),
        "status": status,
        "created_at": int(time.time()),
        "practice_reach": reach,
    }
    with store.transaction(db):
        oauth_store.insert_client(db, row)
    return Client.from_row(row), secret


def client_info(client, secret=None):
    """The client as RFC 7591 metadata (with its secret only when just issued)."""
    info = {
        "client_id": client.client_id,
        "client_name": client.name,
        "client_type": client.kind,
        "token_endpoint_auth_method": client.auth_method,
        "grant_types": client.grant_types,
        "redirect_uris": client.redirect_uris,
        "scope": client.scope,
        "status": client.status,
    }
    if client.launch_uri:
        info["launch_uri"] = client.launch_uri
    if client.jwks_uri:
        info["jwks_uri"] = client.jwks_uri
    if client.jwks:
        info["jwks"] = client.jwks
    if client.kind == "backend":
        info["practice"] = None if client.practice_reach == ALL_PRACTICES else client.practice_reach
        info["all_practices"] = client.practice_reach == ALL_PRACTICES
    if secret:
        info["client_secret"] = secret
        info["client_secret_expires_at"] = 0
    return info


def query_client(conn, client_id):
    """The active client with this id, or None (pending and removed clients do not work)."""
    row = oauth_store.client_by_id(conn, client_id) if client_id else None
    return Client.from_row(row) if row and row["status"] == "active" else None


def list_clients(db):
    return [Client.from_row(row) for row in oauth_store.list_clients(db)]


def launchable_clients(db):
    """Active apps with a launch URL: those a practice can open from a chart (EHR launch)."""
    return [Client.from_row(row) for row in oauth_store.clients_with_launch_uri(db)]


def remove_client(db, client_id):
    """Remove a client and revoke every token it holds; return whether it existed."""
    with store.transaction(db):
        found = oauth_store.set_client_status(db, client_id, "removed")
        if found:
            oauth_store.revoke_client_tokens(db, client_id)
    return found


def bind_client(db, client_id, practice=None, all_practices=False):
    """Bind a backend client to one practice or to all, ending the tokens it holds (they carry the old reach)."""
    row = oauth_store.client_by_id(db, client_id)
    if row is None or row["status"] == "removed":
        raise ClientError(f"no client has the id '{client_id}'")
    if row["kind"] != "backend":
        raise ClientError("only backend clients are bound to a practice")
    reach = _practice_reach(db, "backend", practice, all_practices)
    with store.transaction(db):
        oauth_store.set_client_practice_reach(db, client_id, reach)
        oauth_store.revoke_client_tokens(db, client_id)
    return Client.from_row(oauth_store.client_by_id(db, client_id))


def approve_client(db, client_id):
    """Let a dynamically registered client that waits for approval work; return whether it existed."""
    row = oauth_store.client_by_id(db, client_id)
    if row is None or row["status"] == "removed":
        return False
    with store.transaction(db):
        oauth_store.set_client_status(db, client_id, "active")
    return True
