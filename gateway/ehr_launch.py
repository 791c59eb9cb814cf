"""EHR launch from the practice console: staff open a registered app for one of their practice's charts."""
from flask import Blueprint, abort, current_app, redirect, render_template, request

from smart_auth import clients
from smart_auth.launch import launch_app

from . import store
from .web_auth import current_staff, db, staff_required

bp = Blueprint("ehr_launch", __name__, url_prefix="/practice/launch")


def _chart(patient_uid):
    """The chart, if it belongs to the signed-in staff user's practice (else the same 404 as unknown)."""
    rows = store.chart_rows(db(), "patients", uid=patient_uid)
    if not rows or rows[0]["practice_id"] != current_staff()["practice_id"]:
        abort(404)
    return rows[0]


@bp.get("/<patient_uid>")
@staff_required
def choose(patient_uid):
    return render_template("ehr/launch.html", patient=_chart(patient_uid), apps=clients.launchable_clients(db()))


@bp.post("/<patient_uid>")
@staff_required
def launch(patient_uid):
    patient = _chart(patient_uid)
    client = clients.query_client(db().conn, request.form.get("client_id"))
    if client is None or not client.launch_uri:
        abort(404)
    return redirect(launch_app(db(), client, current_staff()["uid"], patient["uid"], current_app.config["FHIR_BASE"]))
