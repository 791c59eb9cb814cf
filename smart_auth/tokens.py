"""Issuing and checking bearer access tokens (opaque, random, stored hashed)."""

import secrets
import time
from dataclasses import dataclass

from gateway import store

from . import proxy_policy
from .scopes import parse_scopes

DEFAULT_TTL = 3600
# A system/ token's practice reach: one practice's Organization id, or this for every practice (an operator's
# choice: `fhir-gateway client add --all-practices`). A system/ token without a reach sees nothing.
ALL_PRACTICES = "*"
CLI_CLIENT = "cli"  # the client id of a token the operator issues with `fhir-gateway token issue`


class InvalidToken(Exception):
    """A bearer token that is unknown, expired or revoked (RFC 6750 ``invalid_token``)."""


class NoPractice(Exception):
    """A system/ token bound to no practice: one from before backend clients were bound, with several practices."""


class MissingToken(Exception):
    """A request without ``Authorization: Bearer <token>`` (RFC 6750 section 3.1: no error code)."""


@dataclass(frozen=True)
class AccessToken:
    """What a valid bearer token grants: the client, its parsed scopes and the patient in context."""

    client_id: str
    scope: str
    scopes: tuple
    patient_id: str | None
    subject: str | None
    expires_at: int
    practice_reach: str | None = None
    # Sensitive categories the person behind the token may not see (smart_auth.proxy_policy).
    withheld: tuple = ()
    # None, or the (type, parameter, value) kinds a caregiver the patient invited may see (proxy_policy).
    shared: tuple | None = None


UNBOUND = (
    "This system token is bound to no practice: an operator binds its client with "
    "`fhir-gateway client bind CLIENT_ID --practice ID` (or --all-practices)"
)


def practice_reach(token):
    """The practice (Organization id) whose charts a system/ token sees, None for every practice; else NoPractice."""
    if token.practice_reach == ALL_PRACTICES:
        return None
    if not token.practice_reach:
        raise NoPractice(UNBOUND)
    return token.practice_reach


def issue_access_token(db, client_id, scope, patient_id=None, subject=None, ttl=DEFAULT_TTL, practice_reach=None):
    """Create a token for ``scope`` (validated) and return it; only its hash is stored.

    ``practice_reach`` (an Organization id or ALL_PRACTICES) is what system/ scopes reach; they need one.
    """
    scopes = parse_scopes(scope)
    if any(s.context == "patient" for s in scopes) and not patient_id:
        raise ValueError("patient/ scopes need a patient context")
    if any(s.context == "system" for s in scopes) and not practice_reach:
        raise ValueError("system/ scopes need a practice (or all practices)")
    token = secrets.token_urlsafe(32)
    now = int(time.time())
    with store.transaction(db):
        store.save_token(
            db, token, client_id, scope, patient_id, subject, now, now + int(ttl), practice_reach=practice_reach
        )
    return token


def authenticate(conn, token):
    """Return the AccessToken a bearer token stands for, or raise InvalidToken."""
    record = store.find_token(conn, token) if token else None
    if record is None or record["revoked"] or record["expires_at"] <= time.time():
        raise InvalidToken("the access token is unknown, expired or revoked")
    # A person's app sees exactly what the person sees in the portal: the proxy rule, asked on every request,
    # ends a representative's tokens with their link (or at the child's 18th birthday) and limits the rest.
    access = (
        proxy_policy.access_of(conn, record["subject"], record["patient_id"])
        if record["patient_id"] and record["subject"]
        else None
    )
    if access is not None and not access.allowed:
        raise InvalidToken("the access token is unknown, expired or revoked")
    return AccessToken(
        record["client_id"],
        record["scope"],
        parse_scopes(record["scope"]),
        record["patient_id"],
        record["subject"],
        record["expires_at"],
        record["practice_reach"],
        access.withheld if access else (),
        access.shared if access else None,
    )


def bearer_credentials(header):
    """The token an ``Authorization`` header value carries, or None when it carries no bearer token.

    RFC 6750 section 2.1: ``Bearer 1*SP b64token``; the scheme is case-insensitive (RFC 7235 section 2.1).
    """
    scheme, _, credentials = (header or "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return None
    return credentials


def authenticate_header(conn, header):
    """The AccessToken of an ``Authorization`` header value; MissingToken or InvalidToken when there is none."""
    credentials = bearer_credentials(header)
    if credentials is None:
        raise MissingToken("send an OAuth 2.0 bearer token (Authorization: Bearer ...)")
    return authenticate(conn, credentials)


def revoke_account_access(db, patient_id, account_uid):
    """End every token an account holds for one patient's record (link revoked, consent withdrawn).

    ``patient_id`` is the chart's FHIR id. Access tokens, refresh tokens and the account's consent grants
    for that record all end; return how many tokens were revoked.
    """
    from gateway.store import oauth as oauth_store
    from gateway.store.tokens import revoke_tokens_for

    with store.transaction(db):
        revoked = revoke_tokens_for(db, patient_id, account_uid)
        revoked += oauth_store.revoke_refresh_tokens_for(db, patient_id, account_uid)
        for grant_id in oauth_store.revoke_grants_for(db, patient_id, account_uid, int(time.time())):
            revoked += oauth_store.revoke_grant_tokens(db, grant_id)
        return revoked
