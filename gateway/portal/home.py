"""The patient portal's front door: log in, log out, the home page and the record switcher.

Enrollment pages and the record pages are separate blueprints that build on these helpers.
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from gateway import store
from gateway.web.auth import account_required, current_account, current_record, login_page, safe_next
from smart_auth import accounts, proxy_policy, verification

bp = Blueprint("portal_home", __name__, url_prefix="/portal")


@bp.app_context_processor
def portal_context():
    """Every portal page knows the account, its records and the record on screen."""
    account = current_account()
    if account is None:
        return {"account": None, "records": [], "record": None}
    record = current_record()
    withheld = []
    if record is not None and record["relation"] != "self":
        # Say so on every page: a parent of a teenager must not read "No screenings are on file" as the truth.
        withheld = proxy_policy.withheld_words(
            proxy_policy.access_of(store.current(), account["uid"], record["patient_uid"])
        )
    return {
        "account": account,
        "records": accounts.linked_records(store.current(), account["id"]),
        "record": record,
        "record_withheld": withheld,
    }


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_page("portal/login.html", "portal_home.home", "account")


@bp.post("/logout")
def logout():
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("portal_home.login"))


@bp.get("/")
@account_required
def home():
    """The account's home; before any record is linked, an open invitation goes straight to verification.

    The seed article's order: sign up, confirm the email, log in, and verify identity right away.
    """
    account = current_account()
    if not accounts.linked_records(store.current(), account["id"]):
        waiting = [i for i in verification.pending_invites(store.current(), account) if i["status"] == "invited"]
        if waiting:
            return redirect(url_for("portal_verify.page", invite_uid=waiting[0]["uid"]))
    return render_template("portal/home.html")


@bp.post("/switch")
@account_required
def switch():
    """Put another linked record on screen (only records this account is linked to)."""
    wanted = request.form.get("link_id", type=int)
    links = accounts.linked_records(store.current(), current_account()["id"])
    if not any(link["id"] == wanted for link in links):
        flash("That record is not linked to your account.", "error")
    else:
        session["record_link_id"] = wanted
    return redirect(safe_next(request.form.get("next"), url_for("portal_home.home")))
