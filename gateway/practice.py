"""The practice console's front door: staff log in and see their practice's patients."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from smart_auth import accounts
from smart_auth.limits import TooManyAttempts

from . import store
from .sessions import rotate_session
from .web_auth import client_address, current_staff, db, safe_next, staff_required

bp = Blueprint("practice", __name__, url_prefix="/practice")


@bp.app_context_processor
def practice_context():
    return {"staff": current_staff() if session.get("staff_id") else None}


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"), url_for("practice.home"))
    if request.method == "GET":
        return render_template("practice/login.html", next=next_url, errors=[], email="")
    email = request.form.get("email", "")
    try:
        staff = accounts.authenticate(db(), email, request.form.get("password", ""), client_address(), kind="staff")
    except (accounts.LoginFailed, TooManyAttempts) as exc:
        status = 401 if isinstance(exc, accounts.LoginFailed) else 429
        return render_template("practice/login.html", next=next_url, errors=[str(exc)], email=email), status
    session.pop("account_id", None)
    session["staff_id"] = staff["id"]
    rotate_session(session)
    return redirect(next_url)


@bp.post("/logout")
def logout():
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("practice.login"))


@bp.get("/")
@staff_required
def home():
    patients = store.chart_rows(db(), "patients", practice_id=current_staff()["practice_id"])
    practice = store.chart_row(db(), "practices", current_staff()["practice_id"])
    return render_template("practice/home.html", patients=patients, practice=practice)
