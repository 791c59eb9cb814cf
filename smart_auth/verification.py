"""Invitee side of enrollment: follow the invitation link, then prove identity with the PIN or an SMS code.

Five wrong PINs or codes lock an invitation until staff re-invite. A successful check links the account to
the chart with the invitation's relation. Answers never say whether a typed phone number is the one on file.
"""

import hmac
import secrets
import time

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from gateway.store.chart import utc_now

from . import audit, limits, links, messages, pins, representatives
from .accounts import link_account_to_chart
from .enrollment import EnrollmentError, InviteNotFound

MAX_FAILURES = 5
CODE_MINUTES = 10
SMS_LIMIT, SMS_WINDOW = 3, 15 * 60


def now():
    """Seconds since the epoch (tests move this clock, not the whole process's)."""
    return time.time()


class VerificationFailed(EnrollmentError):
    """A wrong PIN, code or date of birth; ``remaining`` tries before the invitation locks."""

    status = 400

    def __init__(self, message, remaining):
        super().__init__(message)
        self.remaining = remaining


class InviteLocked(EnrollmentError):
    status = 423

    def __init__(self):
        super().__init__("Too many wrong codes: this invitation is locked. Ask your practice to invite you again.")


class EmailNotConfirmed(EnrollmentError):
    status = 403

    def __init__(self):
        super().__init__("Confirm your email address first: use the link in the email we sent you.")


def open_invite_link(ctx, token):
    """The open invitation an 'Access your records' link names, or LinkExpired / LinkInvalid."""
    payload = links.read_token(ctx.secret, "invite", token)
    invite = enrollment_store.invite_by_uid(ctx.db, str(payload.get("i")))
    if invite is None:
        raise links.LinkInvalid(NO_LONGER_VALID)
    current = hmac.compare_digest(str(payload.get("n")).encode(), invite["link_nonce"].encode())
    if invite["status"] == "invited" and current:
        return invite
    raise links.LinkInvalid(_why_not_open(invite, current))


NO_LONGER_VALID = "This link is no longer valid. Ask your practice for a new invitation."
NEWER_SENT = "A newer invitation was sent after this one. Use the link in the latest email or text message."
USED = "This link has already been used. Log in to continue."


def _why_not_open(invite, current):
    """Why a link no longer opens its invitation, truly: used, replaced by a newer one, or closed."""
    if invite["status"] == "linked" or (invite["status"] == "invited" and invite["claimed_at"]):
        return USED
    if invite["status"] == "superseded" or (invite["status"] == "invited" and not current):
        return NEWER_SENT  # a resend (new link, same PIN) or a re-invitation (new link and PIN)
    return NO_LONGER_VALID


def claim_invite(ctx, token, account, new_account=False):
    """Attach the invitation a link names to ``account``; the link is used up (its nonce changes)."""
    invite = open_invite_link(ctx, token)
    now = utc_now()
    with store.transaction(ctx.db):  # claimed and audited together (see _link)
        enrollment_store.update_invite(
            ctx.db,
            invite["id"],
            {"account_id": account["id"], "claimed_at": now, "link_nonce": secrets.token_urlsafe(12)},
            now,
        )
        invite = enrollment_store.invite_by_id(ctx.db, invite["id"])
        audit.record(ctx.db, "registered" if new_account else "attached", audit.account_actor(account), invite)
    return invite


def pending_invites(db, account):
    """The invitations waiting for this account to verify (or locked), oldest first."""
    return enrollment_store.pending_invites_of_account(db, account["id"])


def invite_for_account(db, account, invite_uid):
    """An invitation attached to this account, else InviteNotFound (the same for one that is not theirs)."""
    invite = enrollment_store.invite_by_uid(db, invite_uid or "")
    if invite is None or invite["account_id"] != account["id"]:
        raise InviteNotFound("No such invitation.")
    return invite


def ready_to_verify(account, invite):
    """Raise unless the account's email is confirmed and the invitation is still open."""
    _ready(account, invite)


def _ready(account, invite):
    if not account["email_confirmed_at"]:
        raise EmailNotConfirmed()
    _still_open(invite)


def _still_open(invite):
    if invite["status"] == "locked":
        raise InviteLocked()
    if invite["status"] != "invited":
        raise EnrollmentError("This invitation is no longer open. Ask your practice for a new one.")


def verify_access_code(ctx, account, invite_uid, typed_pin, birth_date=None):
    """Check the practice's PIN (and, to finalize a re-invitation, the date of birth); link on success."""
    invite = invite_for_account(ctx.db, account, invite_uid)
    _ready(account, invite)
    failures = _count_attempt(ctx, invite)
    ok = pins.pin_matches(ctx.secret, invite["pin_sealed"], typed_pin)
    if invite["finalize"]:
        ok = hmac.compare_digest((birth_date or "").strip().encode(), invite["birth_date"].encode()) and ok
    if not ok:
        _fail(ctx, account, invite, "date of birth or access code" if invite["finalize"] else "access code", failures)
    return _link(ctx, account, invite, "access code")


def send_sms_code(ctx, account, invite_uid, typed_phone):
    """Text a 6-digit code when ``typed_phone`` is the number on file; the caller says the same either way.

    Sends are limited per invitation (SMS_LIMIT per SMS_WINDOW), counting mismatches too, so numbers cannot
    be guessed and nobody's phone can be flooded. Returns whether a code went out (for tests, not for pages).
    """
    invite = invite_for_account(ctx.db, account, invite_uid)
    _ready(account, invite)
    limits.reserve(ctx.db, (limits.key("sms-send", invite["uid"]), SMS_LIMIT, SMS_WINDOW))
    on_file = invite["phone"] or (invite["chart_phone"] if invite["relation"] == "self" else None)
    actor = audit.account_actor(account)
    if not pins.phones_match(on_file, typed_phone):
        audit.record(ctx.db, "failed attempt", actor, invite, detail="phone number did not match")
        return False
    code = pins.new_sms_code()
    with store.transaction(ctx.db):
        enrollment_store.update_invite(
            ctx.db,
            invite["id"],
            {
                "sms_code_hash": pins.code_hash(ctx.secret, invite["uid"], code),
                "sms_code_expires_at": int(now()) + CODE_MINUTES * 60,
            },
            utc_now(),
        )
    ctx.notifier.sms(on_file, messages.sms_code(code, CODE_MINUTES), "security code", invite["id"])
    audit.record(ctx.db, "code sent", actor, invite)
    return True


def verify_sms_code(ctx, account, invite_uid, typed_code):
    """Check the texted code (10 minutes, one use); link on success."""
    invite = invite_for_account(ctx.db, account, invite_uid)
    _ready(account, invite)
    failures = _count_attempt(ctx, invite)
    live = invite["sms_code_hash"] and (invite["sms_code_expires_at"] or 0) > now()
    if not live or not pins.code_matches(ctx.secret, invite["uid"], invite["sms_code_hash"], typed_code):
        _fail(ctx, account, invite, "security code" if live else "security code (none current)", failures)
    return _link(ctx, account, invite, "security code")


def _count_attempt(ctx, invite):
    """Count this attempt before checking it (so parallel tries cannot outrun the lock); return the count."""
    with store.transaction(ctx.db):
        failures = enrollment_store.reserve_code_attempt(ctx.db, invite["id"], MAX_FAILURES, utc_now())
    if failures is None:
        fresh = enrollment_store.invite_by_id(ctx.db, invite["id"])
        _still_open(fresh)
        raise InviteLocked()  # still open, but its last tries are being checked in parallel
    return failures


def _fail(ctx, account, invite, what, failures):
    if failures >= MAX_FAILURES:
        with store.transaction(ctx.db):
            enrollment_store.lock_invite(ctx.db, invite["id"], utc_now())
    actor = audit.account_actor(account)
    audit.record(ctx.db, "failed attempt", actor, invite, detail=f"wrong {what}")
    if failures >= MAX_FAILURES:
        audit.record(ctx.db, "locked", actor, invite, detail=f"{MAX_FAILURES} wrong codes")
        raise InviteLocked()
    remaining = MAX_FAILURES - failures
    raise VerificationFailed(
        f"That {what.split(' (')[0]} does not match. {remaining} {'try' if remaining == 1 else 'tries'} left.",
        remaining,
    )


def link_verified(ctx, account, invite, method):
    """Link the account to the invitation's chart once identity is proven by ``method``; return the link id."""
    return _link(ctx, account, invite, method)


def _link(ctx, account, invite, method):
    # One transaction: a process killed half-way must leave the link, the closed invitation and their audit all
    # there or none of them (tests/gateway/test_faults_kill.py found links with an open invitation and no audit).
    now, actor = utc_now(), audit.account_actor(account)
    with store.transaction(ctx.db):
        link_id = link_account_to_chart(ctx.db, account["id"], invite["patient_id"], invite["relation"])
        account_store.set_link_share(ctx.db, link_id, invite["sections"], invite["access_until"])
        enrollment_store.uncount_code_attempt(ctx.db, invite["id"], now)
        enrollment_store.update_invite(
            ctx.db,
            invite["id"],
            {"status": "linked", "link_id": link_id, "closed_at": now, "sms_code_hash": None, "link_nonce": "used"},
            now,
        )
        audit.record(ctx.db, "verified", actor, invite, detail=f"by {method}")
        audit.record(ctx.db, "linked", actor, invite, detail=invite["relation"])
    if invite["relation"] != "self":
        representatives.tell_patient_of_link(ctx, account, invite)
    return link_id
