"""EHR launch from the practice console: staff open a registered app for one of their practice's charts."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from gateway import store
from gateway.practice.enrollment import patient_of_practice
from gateway.web.auth import current_staff, staff_required
from smart_auth import clients
from smart_auth import launch as launches
from smart_auth.launch import launch_app

bp = Blueprint("oauth_ehr_launch", __name__, url_prefix="/practice/launch")


@bp.get("/<patient_uid>")
@staff_required
def choose(patient_uid):
    patient = patient_of_practice(patient_uid)
    return render_template(
        "ehr/launch.html",
        patient=patient,
        apps=clients.launchable_clients(store.current()),
        visits=store.chart_rows(store.current(), "encounters", patient_id=patient["id"]),
        chosen=request.args.get("encounter"),  # a link from the chart's visit: that visit is preselected
    )


@bp.post("/<patient_uid>")
@staff_required
def launch(patient_uid):
    patient = patient_of_practice(patient_uid)
    client = clients.query_client(store.current(), request.form.get("client_id"))
    if client is None or not client.launch_uri:
        abort(404)
    try:
        url = launch_app(
            store.current(),
            client,
            current_staff()["uid"],
            patient["uid"],
            current_app.config["FHIR_BASE"],
            request.form.get("encounter") or None,
        )
    except launches.LaunchRefused as refused:
        abort(400, description=refused.description)
    return redirect(url)


@bp.get("/approved")
@staff_required
def approved():
    """The apps this staff user approved on first launch; each can be taken back (it asks again next time)."""
    return render_template("ehr/approved.html", apps=launches.approvals_of(store.current(), current_staff()["uid"]))


@bp.post("/approved/<client_id>/revoke")
@staff_required
def revoke(client_id):
    if not launches.withdraw(store.current(), current_staff()["uid"], client_id):
        abort(404)
    flash("Approval taken back: the app will ask again the next time you launch it.", "info")
    return redirect(url_for("oauth_ehr_launch.approved"))
