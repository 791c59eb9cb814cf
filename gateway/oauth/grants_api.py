"""The portal's JSON view of consent grants: the apps an account has allowed, and withdrawing one."""

import functools

from flask import Blueprint, jsonify

from gateway import store
from gateway.web.auth import current_account
from smart_auth import consent

bp = Blueprint("oauth_grants_api", __name__, url_prefix="/portal/api/grants")
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer; a bigger id names no grant (and overflows the driver)


def account_required(view):
    """Answer 401 in JSON without a portal login (a program cannot follow the pages' redirect to a form)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_account() is None:
            return jsonify(error="login_required", error_description="Log in to the portal first."), 401
        return view(*args, **kwargs)

    return wrapped


@bp.get("")
@account_required
def list_grants():
    return jsonify(grants=consent.grants_of(store.current(), current_account()["uid"]))


@bp.delete("/<int:grant_id>")
@account_required
def revoke(grant_id):
    """Withdraw a grant (send the page's CSRF token as X-CSRF-Token); its tokens stop working at once."""
    if grant_id > MAX_ROW_ID or not consent.revoke(store.current(), current_account()["uid"], grant_id):
        return jsonify(error="not_found", error_description="No such grant on this account."), 404
    return "", 204
