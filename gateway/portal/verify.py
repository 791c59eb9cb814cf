"""Identity verification after login: the practice's PIN, or an SMS code to the phone on file (or a digital ID:
gateway/portal/digital_id.py); and "Finalize access to your records" (date of birth and the new PIN) after a
re-invitation."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from gateway import store
from gateway.portal.wording import whose_record
from gateway.web.auth import account_required, current_account
from gateway.web.enrollment_context import enrollment_context, outbox_visible
from gateway.web.sessions import rotate_session
from smart_auth import digital_id, idp_client, verification
from smart_auth.enrollment import EnrollmentError, InviteNotFound
from smart_auth.limits import TooManyAttempts

bp = Blueprint("portal_verify", __name__, url_prefix="/portal/verify")
bp.add_app_template_global(whose_record)  # every portal page may name whose record it is about


@bp.app_context_processor
def enrollment_nav():
    """Portal pages show the invitations waiting for this account, and the demo outbox link."""
    account = current_account() if session.get("account_id") else None
    pending = verification.pending_invites(store.current(), account) if account else []
    return {"pending_invites": pending, "outbox_link": outbox_visible()}


def _invite(invite_uid):
    try:
        return verification.invite_for_account(store.current(), current_account(), invite_uid)
    except InviteNotFound:
        abort(404)


def verify_page(invite, errors=(), status=200, code_sent=None, typed_pin=""):
    """The invitation's identity page: the ways to verify it, with ``errors`` on top."""
    code_sent = session.get("sms_code_for") == invite["uid"] if code_sent is None else code_sent
    return render_template(
        "portal/enroll/verify.html",
        invite=invite,
        errors=list(errors),
        code_sent=code_sent,
        minutes=verification.CODE_MINUTES,
        typed_pin=typed_pin,
        digital_id_name=_digital_id_offer(invite),
    ), status


def _digital_id_offer(invite):
    """The provider's name when this invitation may be verified with a digital ID, else None."""
    provider = idp_client.configured(current_app.config)
    return (provider.name or "your digital ID provider") if digital_id.offered(provider, invite) else None


@bp.get("/<invite_uid>")
@account_required
def page(invite_uid):
    return verify_page(_invite(invite_uid))


def show_linked_record(invite, link_id):
    """The account now sees the record: new session id (privilege changed), and that record on screen."""
    session.pop("sms_code_for", None)
    session["record_link_id"] = link_id
    rotate_session(session)
    flash(f"Your account is now linked to the record at {invite['practice_name']}.", "info")
    return redirect(url_for("portal_records.overview"))


def _attempt(invite, check):
    try:
        link_id = check()
    except TooManyAttempts as exc:
        return verify_page(invite, [str(exc)], 429)
    except EnrollmentError as exc:
        fresh = verification.invite_for_account(store.current(), current_account(), invite["uid"])
        # The typed code stays in the form, so a mistyped date of birth is corrected without retyping it.
        return verify_page(fresh, [str(exc)], getattr(exc, "status", 400), typed_pin=request.form.get("pin", ""))
    return show_linked_record(invite, link_id)


@bp.post("/<invite_uid>/pin")
@account_required
def pin(invite_uid):
    invite = _invite(invite_uid)
    return _attempt(
        invite,
        lambda: verification.verify_access_code(
            enrollment_context(),
            current_account(),
            invite_uid,
            request.form.get("pin", ""),
            request.form.get("birth_date"),
        ),
    )


@bp.post("/<invite_uid>/sms")
@account_required
def send_code(invite_uid):
    """Text a code if the typed number is the one on file; the page says the same either way."""
    invite = _invite(invite_uid)
    try:
        verification.send_sms_code(enrollment_context(), current_account(), invite_uid, request.form.get("phone", ""))
    except TooManyAttempts as exc:
        return verify_page(invite, [str(exc)], 429)
    except EnrollmentError as exc:
        return verify_page(invite, [str(exc)], getattr(exc, "status", 400))
    session["sms_code_for"] = invite_uid
    flash(
        f"If that number is the one your practice has on file, we are texting it a 6-digit code. "
        f"It expires in {verification.CODE_MINUTES} minutes.",
        "info",
    )
    return redirect(url_for("portal_verify.page", invite_uid=invite_uid) + "#code")


@bp.post("/<invite_uid>/code")
@account_required
def code(invite_uid):
    invite = _invite(invite_uid)
    return _attempt(
        invite,
        lambda: verification.verify_sms_code(
            enrollment_context(), current_account(), invite_uid, request.form.get("code", "")
        ),
    )
