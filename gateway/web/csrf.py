"""CSRF protection for every form: a per-session token, checked in constant time on each unsafe request."""

import hmac
import secrets

from flask import abort, current_app, request, session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def csrf_token():
    """This session's CSRF token (created on first use); templates put it in a hidden field."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def exempt(view):
    """Mark a view that authenticates by other means (client credentials, bearer tokens)."""
    view.csrf_exempt = True
    return view


def check_csrf():
    """Refuse unsafe requests to non-exempt views whose token does not match the session's."""
    if request.method in SAFE_METHODS or request.path.startswith("/fhir"):
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, "csrf_exempt", False):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(
            400,
            description="This form has expired or did not come from this site. Please go back, reload "
            "the page and try again.",
        )


def init_app(app):
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
