"""Who is logged in to the web pages: portal accounts and practice staff, and the record on screen."""

import functools
from urllib.parse import urlsplit

from flask import flash, g, redirect, request, session, url_for

from gateway import records, store
from gateway.store import accounts as account_store
from smart_auth import accounts


def safe_next(target, default):
    """Only follow a ``next`` that stays on this site (no open redirects)."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return default


def current_account():
    """The logged-in portal account, or None."""
    if "account" not in g:
        account_id = session.get("account_id")
        g.account = account_store.account_by_id(store.current(), account_id) if account_id else None
    return g.account


def current_staff():
    """The logged-in practice staff user, or None."""
    if "staff" not in g:
        staff_id = session.get("staff_id")
        g.staff = account_store.staff_by_id(store.current(), staff_id) if staff_id else None
    return g.staff


def account_required(view):
    """Send visitors without a portal login to the login page, then back."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_account() is None:
            return redirect(url_for("portal_home.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def record_required(view):
    """A logged-in account with a record on screen; puts the account, record and its token on ``g``."""

    @account_required
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.record = current_record()
        g.token = records.portal_token(current_account(), g.record) if g.record else None
        if g.token is None:
            flash("No records are linked to your account yet.", "info")
            return redirect(url_for("portal_home.home"))
        return view(*args, **kwargs)

    return wrapped


def staff_required(view):
    """Send visitors without a practice login to the practice login page, then back."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_staff() is None:
            return redirect(url_for("practice_home.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def current_record():
    """The linked record on screen for the logged-in account (the switcher's choice), or None."""
    account = current_account()
    if account is None:
        return None
    links = accounts.linked_records(store.current(), account["id"])
    chosen = session.get("record_link_id")
    return next((link for link in links if link["id"] == chosen), links[0] if links else None)


def client_address():
    """The client's address for attempt limits (behind GATEWAY_TRUSTED_PROXIES, ProxyFix has already set it)."""
    return request.remote_addr or "unknown"


def login_page(template, home_endpoint, kind):
    """Show and handle a login form for portal accounts (kind "account") or staff (kind "staff")."""
    from flask import render_template

    from gateway.web.sessions import rotate_session
    from smart_auth.limits import TooManyAttempts

    next_url = safe_next(request.values.get("next"), url_for(home_endpoint))
    if request.method == "GET":
        return render_template(template, next=next_url, errors=[], email="")
    email = request.form.get("email", "")
    try:
        user = accounts.authenticate(
            store.current(), email, request.form.get("password", ""), client_address(), kind=kind
        )
    except (accounts.LoginFailed, TooManyAttempts) as exc:
        status = 401 if isinstance(exc, accounts.LoginFailed) else 429
        return render_template(template, next=next_url, errors=[str(exc)], email=email), status
    # One person, one role per session: logging in as one drops the other.
    session.pop("staff_id" if kind == "account" else "account_id", None)
    session["account_id" if kind == "account" else "staff_id"] = user["id"]
    rotate_session(session)
    return redirect(next_url)
