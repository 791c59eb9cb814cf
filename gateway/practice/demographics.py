"""Editing a chart's demographics in the practice console, through the store (so FHIR is re-projected).

Name, date of birth and phone changes do not reach portal accounts (those are the account's own); sex,
date of birth, race, ethnicity and language show on the patient's Profile page, read from the chart.
"""

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gateway import disclosures, store
from gateway.errors import ChartError
from gateway.practice.enrollment import patient_of_practice
from gateway.web.auth import current_staff, staff_required
from mappers import codes

bp = Blueprint("practice_demographics", __name__, url_prefix="/practice")
FIELDS = ("first_name", "last_name", "birth_date", "phone", "sex", "race_code", "ethnicity_code", "preferred_language")
SEXES = {"F": "Female", "M": "Male", "O": "Other", "U": "Unknown"}
RACES = codes.RACE_CHOICES
ETHNICITIES = codes.ETHNICITY_CHOICES
FIELD_WORDS = {
    "first_name": "first name",
    "last_name": "last name",
    "birth_date": "date of birth",
    "phone": "phone",
    "sex": "sex",
    "race_code": "race",
    "ethnicity_code": "ethnicity",
    "preferred_language": "preferred language",
}


def check_demographics(form):
    """Return (changes, problems) for a demographics form."""
    changes = {k: (form.get(k) or "").strip() for k in FIELDS}
    problems = [
        f"Enter the {label}."
        for key, label in (("first_name", "first name"), ("last_name", "last name"))
        if not changes[key]
    ]
    try:
        if dt.date.fromisoformat(changes["birth_date"]) > dt.date.today():
            problems.append("The date of birth cannot be in the future.")
    except ValueError:
        problems.append("Enter the date of birth as YYYY-MM-DD.")
    for key, allowed in (
        ("sex", SEXES),
        ("race_code", RACES),
        ("ethnicity_code", ETHNICITIES),
        ("preferred_language", codes.LANGUAGE),
    ):
        if changes[key] and changes[key] not in allowed:
            problems.append(f"Choose a listed value for {key.replace('_code', '').replace('_', ' ')}.")
    # The chart requires a sex (patients.sex NOT NULL); "Not recorded" is FHIR's administrative gender
    # "unknown" (and us-core-birthsex UNK), which the chart writes as U.
    changes["sex"] = changes["sex"] or "U"
    return {k: (v or None) for k, v in changes.items()}, problems


def _form(patient, values, errors=(), status=200):
    return render_template(
        "practice/enroll/demographics.html",
        patient=patient,
        values=values,
        errors=list(errors),
        sexes=SEXES,
        races=RACES,
        ethnicities=ETHNICITIES,
        languages=codes.LANGUAGE,
    ), status


@bp.route("/patients/<patient_uid>/demographics", methods=["GET", "POST"])
@staff_required
def edit(patient_uid):
    patient = patient_of_practice(patient_uid)
    if request.method == "GET":
        return _form(patient, patient)
    changes, problems = check_demographics(request.form)
    if problems:
        return _form(patient, changes, problems, 400)
    try:
        store.update_row(store.current(), "patients", patient["id"], changes)
    except ChartError as exc:
        return _form(patient, changes, [exc.message], 400)
    _log_edit(patient, changes)
    flash("The chart's demographics are saved.", "info")
    return redirect(url_for("practice_enrollment.chart", patient_uid=patient_uid))


def _log_edit(patient, changes):
    # Audited like a staff view (disclosures.log_staff, shown in the console's access history): who and when,
    # and which fields changed but not their values, as the log keeps no chart data.
    changed = [words for key, words in FIELD_WORDS.items() if changes[key] != patient[key]]
    what = f"changed the chart's {', '.join(changed)}" if changed else "saved the chart's demographics unchanged"
    disclosures.log_staff(current_staff(), patient["uid"], what)
