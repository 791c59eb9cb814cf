"""Check-in: staff paste (or scan) the SMART Health Link a patient brings; the console reads it and shows what it
holds beside the chart for reconciling by hand. Nothing is written to the chart; every reading is in the chart's
enrollment history (who, when, from which host, how it ended)."""

from flask import Blueprint, current_app, render_template, request

from gateway import records, store
from gateway.health_links import reader
from gateway.practice import reconcile
from gateway.practice.enrollment import chart_of_practice
from gateway.web.auth import current_staff, staff_required
from smart_auth import audit

bp = Blueprint("practice_bring", __name__, url_prefix="/practice/patients")
MAX_LINK = 8192


def limits():
    """What one reading may cost, from the configuration; only public https hosts in production."""
    config = current_app.config
    production = config.get("ENV") == "production"
    return reader.Limits(
        public_only=production,
        allow_http=not production,
        max_bytes=int(config["HEALTH_LINK_MAX_BYTES"]),
        max_payload=int(config["HEALTH_LINK_MAX_PAYLOAD"]),
        deadline=float(config["HEALTH_LINK_DEADLINE"]),
    )


@bp.route("/<patient_uid>/bring", methods=["GET", "POST"])
@staff_required
def bring(patient_uid):
    """The link form; posted, the link's records beside the chart's (or what went wrong, in words)."""
    chart = chart_of_practice(patient_uid)
    if request.method == "GET":
        return render_template("practice/bring.html", patient=chart.patient, link="", error=None, compared=None)
    link = request.form.get("link", "")[:MAX_LINK]
    passcode = request.form.get("passcode", "").strip()[:200] or None
    staff, conn = current_staff(), store.current()
    practice = store.chart_row(conn, "practices", staff["practice_id"])
    try:
        brought = reader.read_link(link, practice["name"], passcode, limits=limits())
    except reader.LinkError as exc:
        _record(conn, staff, chart.patient, "health link failed", f"{_from(link)}{exc.reason}: {exc}")
        page = render_template("practice/bring.html", patient=chart.patient, link=link, error=str(exc), compared=None)
        return page, 400 if isinstance(exc, reader.NotALink) else 200
    count = len(brought.resources)
    _record(conn, staff, chart.patient, "health link read", f"{_from(link)}{count} item{'' if count == 1 else 's'}")
    ours = records.load_record(conn, chart.token, patient_uid)
    chart_resources = [r for rtype, items in ours.by_type.items() for r in items]
    return render_template(
        "practice/bring.html",
        patient=chart.patient,
        link="",
        error=None,
        brought=brought,
        compared=reconcile.compare(chart_resources, brought.resources),
        about=reconcile.person(brought.resources, chart.patient["birth_date"]),
    )


def _from(link):
    host = reader.link_host(link)
    return f"from {host}: " if host else ""


def _record(conn, staff, patient, event, detail):
    audit.record(
        conn,
        event,
        audit.staff_actor(staff),
        patient_id=patient["id"],
        practice_id=patient["practice_id"],
        detail=detail[:500],
    )
