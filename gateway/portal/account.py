"""Account settings (the account's own name, email, phone) and the Profile page (the chart's demographics).

The article's cross-over rule: name, email and phone belong to the account and chart edits never change
them; sex, date of birth, race, ethnicity and preferred language come from the chart, read-only here.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gateway import store
from gateway.web.auth import account_required, current_account, current_record
from gateway.web.enrollment_context import enrollment_context
from mappers import codes
from smart_auth import registration
from smart_auth.accounts import AccountError

bp = Blueprint("portal_account", __name__, url_prefix="/portal")


@bp.route("/settings", methods=["GET", "POST"])
@account_required
def settings():
    account = current_account()
    if request.method == "GET":
        return render_template("portal/enroll/settings.html", errors=[], form=account)
    form = {k: request.form.get(k, "") for k in ("name", "phone", "email")}
    try:
        sent = registration.update_settings(enrollment_context(), account, form["name"], form["phone"], form["email"])
    except AccountError as exc:
        return render_template("portal/enroll/settings.html", errors=exc.problems, form=form), 400
    flash(
        "Your settings are saved."
        + (
            f" We are sending a link to {form['email'].strip()}: your account uses that address once you confirm it."
            if sent
            else ""
        ),
        "info",
    )
    return redirect(url_for("portal_account.settings"))


def demographics(patient):
    """The chart's demographics in words, as the Profile page shows them."""

    def word(table, code):
        return table.get((code or "").lower(), table.get(code or "", code)) if code else "Not recorded"

    return [
        ("Sex", word(codes.GENDER, patient["sex"]).capitalize()),
        ("Date of birth", patient["birth_date"]),
        ("Race", word(codes.RACE_CHOICES, patient["race_code"])),
        ("Ethnicity", word(codes.ETHNICITY_CHOICES, patient["ethnicity_code"])),
        ("Preferred language", word(codes.LANGUAGE, patient["preferred_language"])),
    ]


@bp.get("/profile")
@account_required
def profile():
    record = current_record()
    patient = store.chart_rows(store.current(), "patients", uid=record["patient_uid"])[0] if record else None
    return render_template(
        "portal/enroll/profile.html",
        patient=patient,
        facts=demographics(patient) if patient else [],
        nav_section="profile",
        nav_title="Profile",
    )
