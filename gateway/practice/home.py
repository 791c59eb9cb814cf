"""The practice console's front door: staff log in and see their practice's patients."""

from flask import Blueprint, flash, redirect, render_template, session, url_for

from gateway import store
from gateway.web.auth import current_staff, login_page, staff_required

bp = Blueprint("practice_home", __name__, url_prefix="/practice")


@bp.app_context_processor
def practice_context():
    return {"staff": current_staff() if session.get("staff_id") else None}


@bp.route("/login", methods=["GET", "POST"])
def login():
    return login_page("practice/login.html", "practice_home.home", "staff")


@bp.post("/logout")
def logout():
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("practice_home.login"))


@bp.get("/")
@staff_required
def home():
    patients = store.chart_rows(store.current(), "patients", practice_id=current_staff()["practice_id"])
    practice = store.chart_row(store.current(), "practices", current_staff()["practice_id"])
    return render_template("practice/home.html", patients=patients, practice=practice)
