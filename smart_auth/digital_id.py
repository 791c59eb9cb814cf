"""Enrollment by digital ID: the invitee signs in at the configured OpenID provider (IAL2), and a verified identity
that matches the invited chart (smart_auth/identity_match.py) links the account as a correct access code would.

Only the patient's own invitation offers it (a representative's identity is not the chart's), never a re-invitation
to finalize (that asks for the new code). The invitation still decides which chart may be linked; a mismatch links
nothing, counts no failed attempt, and tells staff which field disagreed. The sign-in in progress (state, nonce,
PKCE verifier, invitation) is kept in the person's server-side session by the caller and is used once; the nonce of
every accepted ID token is also recorded in the database, so one token is never accepted twice, even by two
requests racing in one session or by two processes.
"""

import hmac
import logging
import time

from authlib.common.security import generate_token

from gateway import store
from gateway.store import oauth as oauth_store

from . import audit, idp_client, verification
from .enrollment import EnrollmentError, InviteNotFound
from .identity_match import mismatched_fields

PENDING_SECONDS = 600
OTHER_WAYS = "Use the access code from your practice, or get a code by text message, instead."
log = logging.getLogger(__name__)


class DigitalIdError(EnrollmentError):
    status = 400


class ProviderDown(DigitalIdError):
    status = 503

    def __init__(self):
        super().__init__(f"We could not reach the digital ID service just now. {OTHER_WAYS}")


class NotConfirmed(DigitalIdError):
    def __init__(self):
        super().__init__(f"We could not confirm your identity with your digital ID. {OTHER_WAYS}")


class IdentityMismatch(DigitalIdError):
    def __init__(self, practice_name):
        super().__init__(
            f"The details from your digital ID do not match the record at {practice_name}, so your account is not "
            f"linked. {OTHER_WAYS}"
        )


class SignInNotStarted(DigitalIdError):
    def __init__(self):
        super().__init__("This digital ID sign-in was not started here, or it was already used. Start again below.")


class SignInCancelled(DigitalIdError):
    def __init__(self):
        super().__init__(
            f"The digital ID sign-in did not finish. Try again, or {OTHER_WAYS[0].lower()}{OTHER_WAYS[1:]}"
        )


def offered(provider, invite):
    """Whether this invitation may be verified by digital ID: a provider is configured and it is the patient's own."""
    return bool(
        provider
        and invite["relation"] == "self"
        and invite["status"] == "invited"
        and not invite["finalize"]
        and not invite["by_patient"]
    )


def begin(ctx, provider, account, invite_uid):
    """Start a sign-in for one of the account's invitations; return (provider URL, pending sign-in for the session)."""
    invite = verification.invite_for_account(ctx.db, account, invite_uid)
    if not offered(provider, invite):
        raise InviteNotFound("No such invitation.")
    verification.ready_to_verify(account, invite)
    pending = {
        "state": generate_token(43),
        "nonce": generate_token(43),
        "verifier": generate_token(64),
        "invite": invite["uid"],
        "account": account["id"],
        "until": int(time.time()) + PENDING_SECONDS,
    }
    try:
        url = idp_client.authorization_url(provider, pending["state"], pending["nonce"], pending["verifier"])
    except idp_client.ProviderUnavailable as exc:
        log.warning("digital ID provider unavailable: %s", exc)
        raise ProviderDown() from exc
    return url, pending


def first_use_of_nonce(db, issuer, nonce, expires_at):
    """Record an accepted ID token's nonce; False when it was accepted before (a replay)."""
    with store.transaction(db):
        return oauth_store.remember_assertion(db, f"idp:{issuer}", nonce, int(expires_at), int(time.time()))


def pending_invite(ctx, account, pending, state):
    """The invitation of the sign-in this callback finishes; SignInNotStarted unless it is this session's own."""
    if (
        not isinstance(pending, dict)
        or pending.get("account") != account["id"]
        or int(pending.get("until") or 0) < time.time()
        or not hmac.compare_digest(str(state or "").encode(), str(pending.get("state")).encode())
    ):
        raise SignInNotStarted()
    return verification.invite_for_account(ctx.db, account, pending["invite"])


def finish(ctx, provider, account, pending, state, code, error=None):
    """Finish the sign-in: check the ID token and the match, then link like a correct access code; return the link."""
    invite = pending_invite(ctx, account, pending, state)
    verification.ready_to_verify(account, invite)
    if not offered(provider, invite):
        raise InviteNotFound("No such invitation.")
    if error or not code:
        raise SignInCancelled()
    actor = audit.account_actor(account)
    try:
        token = idp_client.exchange_code(provider, code, pending["verifier"])
        claims = idp_client.verified_claims(provider, token, pending["nonce"])
        if not first_use_of_nonce(ctx.db, provider.issuer, claims["nonce"], claims["exp"]):
            raise idp_client.TokenRejected("token not accepted (nonce used before)")
        claims = idp_client.with_userinfo(provider, token, claims)
    except idp_client.ProviderUnavailable as exc:
        log.warning("digital ID provider unavailable: %s", exc)
        raise ProviderDown() from exc
    except idp_client.TokenRejected as exc:
        audit.record(ctx.db, "digital ID refused", actor, invite, detail=exc.reason)
        raise NotConfirmed() from exc
    fields = mismatched_fields(store.chart_row(ctx.db, "patients", invite["patient_id"]), claims)
    if fields:
        audit.record(ctx.db, "digital ID not matched", actor, invite, detail=f"{', '.join(fields)} did not match")
        raise IdentityMismatch(invite["practice_name"])
    return verification.link_verified(ctx, account, invite, "digital ID")
