"""The invitation link's landing page, sign-up, email confirmation and password reset.

No page here says whether an email has an account: sign-up and "forgot password" answer the same way
for every address, and only the mailbox learns more.
"""

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for

from gateway import store
from gateway.store import outbox as outbox_store
from gateway.web.auth import account_required, client_address, current_account
from gateway.web.enrollment_context import enrollment_context, outbox_visible
from gateway.web.sessions import rotate_session
from smart_auth import limits, links, registration, verification
from smart_auth.accounts import AccountError
from smart_auth.notify import attachments_of

bp = Blueprint("portal_signup", __name__, url_prefix="/portal")
# Per client address and per email named, never site-wide: a stranger can slow one mailbox's messages
# but cannot stop everyone's sign-up or reset.
ADDRESS_LIMIT, EMAIL_LIMIT, FORM_WINDOW = 10, 3, 15 * 60


def _limited(kind, email):
    """Count one submission of a public form from this address for ``email``; raise TooManyAttempts past a limit."""
    limits.reserve(
        store.current(),
        (limits.key(f"{kind}-addr", client_address()), ADDRESS_LIMIT, FORM_WINDOW),
        (limits.key(f"{kind}-email", (email or "").strip()), EMAIL_LIMIT, FORM_WINDOW),
    )


def _link_problem(exc):
    expired = isinstance(exc, links.LinkExpired)
    return render_template("portal/enroll/link_problem.html", message=str(exc), expired=expired), 410


@bp.get("/invite/<token>")
def invite(token):
    """'Access your records': keep the invitation in the session, then sign up or log in."""
    try:
        found = verification.open_invite_link(enrollment_context(), token)
    except links.LinkInvalid as exc:
        return _link_problem(exc)
    session["invite_token"] = token
    return render_template(
        "portal/enroll/invite.html",
        practice_name=found["practice_name"],
        login_url=url_for("portal_home.login", next=url_for("portal_signup.claim")),
    )


@bp.route("/invite/claim", methods=["GET", "POST"])
@account_required
def claim():
    """Attach the invitation kept in this session to the logged-in account, then verify identity."""
    token = session.pop("invite_token", None)
    if not token:
        return redirect(url_for("portal_home.home"))
    try:
        claimed = verification.claim_invite(enrollment_context(), token, current_account())
    except links.LinkInvalid as exc:
        return _link_problem(exc)
    return redirect(url_for("portal_verify.page", invite_uid=claimed["uid"]))


def _tied(exc):
    """Each problem with the id of the field it belongs to, so the summary can link to the field."""
    field_of = {problem: field for field, problems in exc.fields.items() for problem in problems}
    return [{"text": problem, "field": field_of.get(problem)} for problem in exc.problems]


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if request.method == "GET":
        return render_template("portal/enroll/signup.html", errors=[], form={})
    form = {k: request.form.get(k, "") for k in ("email", "name")}
    try:
        _limited("signup", form["email"])
        account = registration.sign_up(
            enrollment_context(),
            form["email"],
            request.form.get("password", ""),
            form["name"],
            session.get("invite_token"),
        )
    except limits.TooManyAttempts as exc:
        return render_template("portal/enroll/signup.html", errors=[str(exc)], form=form), 429
    except AccountError as exc:
        return render_template("portal/enroll/signup.html", errors=_tied(exc), fields=exc.fields, form=form), 400
    if account is not None:
        session.pop("invite_token", None)
    return render_template("portal/enroll/signup_done.html", email=form["email"].strip())


@bp.get("/confirm/<token>")
def confirm(token):
    """'Confirm my account' (and a changed email): mark the address confirmed."""
    try:
        registration.confirm_email(enrollment_context(), token)
    except links.LinkInvalid as exc:
        return _link_problem(exc)
    except AccountError as exc:
        return render_template("portal/enroll/link_problem.html", message=str(exc), expired=False), 409
    flash("Your email address is confirmed.", "info")
    return redirect(url_for("portal_home.home") if current_account() else url_for("portal_home.login"))


@bp.post("/confirm/resend")
@account_required
def resend_confirmation():
    try:
        _limited("confirm-resend", current_account()["email"])
    except limits.TooManyAttempts as exc:
        flash(str(exc), "error")
    else:
        registration.send_confirmation(enrollment_context(), current_account())
        flash(f"We are sending a new confirmation email to {current_account()['email']}.", "info")
    return redirect(
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else url_for("portal_home.home")
    )


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    if request.method == "GET":
        return render_template("portal/enroll/forgot.html", errors=[], sent_to=None)
    email = request.form.get("email", "").strip()
    try:
        _limited("forgot", email)
    except limits.TooManyAttempts as exc:
        return render_template("portal/enroll/forgot.html", errors=[str(exc)], sent_to=None), 429
    registration.request_password_reset(enrollment_context(), email)
    return render_template("portal/enroll/forgot.html", errors=[], sent_to=email)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    ctx = enrollment_context()
    try:
        registration.account_for_reset(ctx, token)
        if request.method == "GET":
            return render_template("portal/enroll/reset.html", errors=[], token=token)
        registration.reset_password(ctx, token, request.form.get("password", ""))
    except links.LinkInvalid as exc:
        return _link_problem(exc)
    except AccountError as exc:
        return render_template("portal/enroll/reset.html", errors=exc.problems, token=token), 400
    # The reset ended every session of the account; this browser starts afresh too (new id, no login).
    session.pop("account_id", None)
    rotate_session(session)
    flash(
        "Your password is changed, and every device that was logged in to your account is logged out. "
        "Log in with the new one.",
        "info",
    )
    return redirect(url_for("portal_home.login"))


@bp.get("/outbox")
def outbox():
    """The demo's mailbox: what the gateway would have emailed or texted (never in production)."""
    if not outbox_visible():
        abort(404)
    from gateway.store import enrollment as enrollment_store

    # Only the demo's kept messages are shown whole: a queued text (an SMS provider but no SMTP) holds a live code.
    messages = [
        dict(m, files=attachments_of(m)) if m["status"] == "outbox" else dict(m, body_text=None, files=[])
        for m in enrollment_store.messages(store.current(), limit=50)
    ]
    return render_template("portal/enroll/outbox.html", messages=messages)


@bp.get("/outbox/<int:message_id>/<int:number>")
def outbox_attachment(message_id, number):
    """Download an attachment of a demo outbox message (a record the demo would have emailed)."""
    if not outbox_visible():
        abort(404)
    message = outbox_store.message_by_id(store.current(), message_id)
    files = attachments_of(message) if message and message["status"] == "outbox" else []
    if not 1 <= number <= len(files):
        abort(404)
    file = files[number - 1]
    return Response(
        file["data"],
        mimetype=file["media_type"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file['filename'])}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
