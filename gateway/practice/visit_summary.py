"""The console's "Send after-visit summary to the portal" button on a completed visit of the record page: a
confirmation page saying what the patient gets and where, then (POST, redirect, GET: a reload does not send again)
the page saying it was sent (no JavaScript)."""

import time

from flask import Blueprint, abort, redirect, render_template, request, url_for

from gateway.health_links.visit_summary import (
    NotAVisit,
    completed_visit,
    send_visit_summary,
    sent_summary,
    told_accounts,
)
from gateway.practice.enrollment import chart_of_practice
from gateway.web.auth import current_staff, staff_required
from gateway.web.enrollment_context import enrollment_context

bp = Blueprint("practice_visit_summary", __name__, url_prefix="/practice/records")


@bp.post("/<patient_uid>/visits/<visit_uid>/summary")
@staff_required
def send(patient_uid, visit_uid):
    """Review (what the patient will get), then, confirmed, share the visit with the patient's portal."""
    chart, ctx = chart_of_practice(patient_uid), enrollment_context()
    try:
        visit = completed_visit(ctx.db, chart, visit_uid)
    except NotAVisit:
        abort(404)
    if request.form.get("confirm") != "yes":
        return render_template("practice/visit_summary_confirm.html", patient=chart.patient, visit=visit)
    sent = send_visit_summary(ctx, current_staff(), chart, visit_uid, int(time.time()))
    return redirect(url_for(".sent", patient_uid=patient_uid, visit_uid=visit_uid, link=sent.uid), 303)


@bp.get("/<patient_uid>/visits/<visit_uid>/summary/sent")
@staff_required
def sent(patient_uid, visit_uid):
    """The page after sending: which visit, and who was told. Only for a summary of this visit of this practice's
    chart (else 404), so the address says nothing about another chart."""
    chart, ctx = chart_of_practice(patient_uid), enrollment_context()
    try:
        visit = completed_visit(ctx.db, chart, visit_uid)
    except NotAVisit:
        abort(404)
    if not sent_summary(ctx.db, chart.patient["uid"], visit_uid, request.args.get("link", "")):
        abort(404)
    told = told_accounts(ctx.db, chart.patient["id"])
    return render_template("practice/visit_summary_sent.html", patient=chart.patient, visit=visit, told=told)
