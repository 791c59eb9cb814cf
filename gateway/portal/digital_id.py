""" "Verify with a digital ID": send the invitee to the configured OpenID provider and take them back.

The sign-in in progress lives in the server-side session, so the callback only finishes a sign-in this browser
started (a code and state carried to another session find nothing there); it is popped on the way back, so a
callback works once. The callback address is fixed by GATEWAY_BASE_URL. The rules are in smart_auth/digital_id.py.
"""

from flask import Blueprint, abort, current_app, redirect, render_template, request, session

from gateway import store
from gateway.portal.verify import show_linked_record, verify_page
from gateway.web.auth import account_required, current_account
from gateway.web.enrollment_context import enrollment_context
from smart_auth import digital_id, idp_client, verification
from smart_auth.enrollment import EnrollmentError, InviteNotFound

bp = Blueprint("portal_digital_id", __name__, url_prefix="/portal/verify")
SESSION_KEY = "digital_id"


def _provider():
    provider = idp_client.configured(current_app.config)
    if provider is None:
        abort(404)
    return provider


def _invite(invite_uid):
    try:
        return verification.invite_for_account(store.current(), current_account(), invite_uid)
    except InviteNotFound:
        abort(404)


@bp.post("/<invite_uid>/digital-id")
@account_required
def start(invite_uid):
    provider, invite = _provider(), _invite(invite_uid)
    try:
        url, pending = digital_id.begin(enrollment_context(), provider, current_account(), invite_uid)
    except InviteNotFound:
        abort(404)
    except EnrollmentError as exc:
        return verify_page(invite, [str(exc)], exc.status)
    session[SESSION_KEY] = pending
    return redirect(url, 303)


@bp.get("/digital-id/callback")
@account_required
def callback():
    provider, ctx, account = _provider(), enrollment_context(), current_account()
    pending, state = session.pop(SESSION_KEY, None), request.args.get("state")
    try:
        invite = digital_id.pending_invite(ctx, account, pending, state)
    except EnrollmentError as exc:
        return render_template("portal/enroll/digital_id_problem.html", message=str(exc)), 400
    try:
        link_id = digital_id.finish(
            ctx, provider, account, pending, state, request.args.get("code"), request.args.get("error")
        )
    except InviteNotFound:
        abort(404)
    except EnrollmentError as exc:
        fresh = verification.invite_for_account(ctx.db, account, invite["uid"])
        return verify_page(fresh, [str(exc)], exc.status)
    return show_linked_record(invite, link_id)
