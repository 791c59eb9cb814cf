"""An account's own life: sign up, confirm the email, reset a forgotten password, change settings.

No answer here says whether an email has an account: sign-up with a taken email and a reset request for
an unknown one look exactly like the real thing to the person at the screen; only the mailbox learns more.
"""

import hashlib

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from gateway.store.chart import utc_now
from gateway.store.errors import IntegrityError

from . import audit, links, messages
from .accounts import (
    AccountError,
    create_account,
    hash_password,
    normalize_email,
    password_problems,
    weak_password_error,
)
from .verification import claim_invite, pending_invites

RESET_MINUTES = links.LIFETIMES["reset"] // 60


def _checked(email, password):
    """The trimmed email, else one AccountError naming every failed field at once (email and password)."""
    fields = {}
    try:
        email = normalize_email(email)
    except AccountError as exc:
        fields.update(exc.fields)
    problems = password_problems(password)
    if problems:
        fields.update(weak_password_error(problems).fields)
    if fields:
        every = [problem for field in fields.values() for problem in field]
        raise AccountError(" ".join(every), every, fields)
    return email


def sign_up(ctx, email, password, name=None, invite_token=None):
    """Create an unconfirmed account and email a 'Confirm my account' link; attach the invitation if any.

    Raises AccountError for a malformed email or a weak password (a message per unmet rule). For an email
    that already has an account it sends that address a note instead and returns None, like success.
    """
    email = _checked(email, password)
    try:
        account = create_account(ctx.db, email, password, name=(name or "").strip() or None)
    except AccountError:
        subject, text, html = messages.already_registered(
            f"{ctx.base_url}/portal/login", f"{ctx.base_url}/portal/forgot"
        )
        ctx.notifier.email(email, subject, text, html, "already registered")
        return None
    if invite_token:
        try:
            claim_invite(ctx, invite_token, account, new_account=True)
        except links.LinkInvalid:
            pass  # the account stands; the person asks the practice for a fresh link
    send_confirmation(ctx, account)
    return account


def send_confirmation(ctx, account, email=None):
    """Email a link that confirms ``email`` (default: the account's own) for the account."""
    email = email or account["email"]
    token = links.make_token(ctx.secret, "confirm", {"a": account["uid"], "e": email})
    url = links.url(ctx.base_url, "confirm", token)
    subject, text, html = (messages.confirm_email if email == account["email"] else messages.confirm_new_email)(url)
    ctx.notifier.email(email, subject, text, html, "confirm email")


def confirm_email(ctx, token):
    """Confirm the address a link names (switching the account to it when it was a change); return the account."""
    payload = links.read_token(ctx.secret, "confirm", token)
    account = enrollment_store.account_by_uid(ctx.db, str(payload.get("a")))
    if account is None:
        raise links.LinkInvalid("This link is not valid.")
    changes = {"email_confirmed_at": account["email_confirmed_at"] or utc_now()}
    if payload.get("e") != account["email"]:
        changes.update(email=payload.get("e"), email_confirmed_at=utc_now())
    try:
        with store.transaction(ctx.db):
            account_store.update_account(ctx.db, account["id"], changes, utc_now())
    except IntegrityError:
        raise AccountError("Another account already uses that email address.")
    if not account["email_confirmed_at"] or "email" in changes:
        invites = pending_invites(ctx.db, account) or [None]
        for invite in invites:
            audit.record(
                ctx.db,
                "confirmed",
                audit.account_actor(account),
                invite,
                account_id=account["id"],
                detail=payload.get("e"),
            )
    return account_store.account_by_id(ctx.db, account["id"])


def _fingerprint(account):
    """Changes whenever the password does, which makes a reset link single-use."""
    return hashlib.sha256(account["password_hash"].encode()).hexdigest()[:16]


def request_password_reset(ctx, email):
    """Email a reset link when the address has an account; say nothing either way."""
    account = account_store.account_by_email(ctx.db, (email or "").strip())
    if account is None:
        return
    token = links.make_token(ctx.secret, "reset", {"a": account["uid"], "h": _fingerprint(account)})
    subject, text, html = messages.reset_email(links.url(ctx.base_url, "reset", token), RESET_MINUTES)
    ctx.notifier.email(account["email"], subject, text, html, "password reset")


def account_for_reset(ctx, token):
    """The account a reset link is for, or LinkInvalid / LinkExpired (also once it has been used)."""
    payload = links.read_token(ctx.secret, "reset", token)
    account = enrollment_store.account_by_uid(ctx.db, str(payload.get("a")))
    if account is None or payload.get("h") != _fingerprint(account):
        raise links.LinkInvalid("This link has already been used or is not valid.")
    return account


def reset_password(ctx, token, password):
    """Set a new password from a reset link and log the account out everywhere; the link stops working.

    Ending every session matters when the reset is the owner taking the account back from someone who
    knew the old password. Returns the account.
    """
    account = account_for_reset(ctx, token)
    problems = password_problems(password)
    if problems:
        raise AccountError(
            "The password needs " + ", ".join(problems) + ".", [f"The password needs {p}." for p in problems]
        )
    with store.transaction(ctx.db):
        account_store.update_account(ctx.db, account["id"], {"password_hash": hash_password(password)}, utc_now())
        account_store.end_sessions_of_account(ctx.db, account["id"])
    return account_store.account_by_id(ctx.db, account["id"])


def update_settings(ctx, account, name, phone, email):
    """Change the account's own name and phone; a new email is used only once confirmed from its inbox.

    Returns True when a confirmation was sent to a new address. Chart edits never touch these fields.
    """
    with store.transaction(ctx.db):
        account_store.update_account(
            ctx.db,
            account["id"],
            {"name": (name or "").strip() or None, "phone": (phone or "").strip() or None},
            utc_now(),
        )
    email = (email or "").strip()
    if email and email.lower() != account["email"].lower():
        send_confirmation(ctx, account, normalize_email(email))
        return True
    return False
