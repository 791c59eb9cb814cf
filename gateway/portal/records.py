"""The portal's record pages: an overview, one page per section, and a detail page with the codes.

Every page reads the record on screen through ``records.load_record`` with a patient-scoped token for the
logged-in account, the same store search and access check an app's token goes through (DESIGN.md).
"""

from flask import Blueprint, Response, abort, current_app, g, render_template

from gateway import disclosures, records, store
from gateway.record_sections import (
    all_sections,
    find_item,
    section_by_slug,
    section_items,
    section_resources,
    vaccine_groups,
)
from gateway.store.chart import utc_now
from gateway.trends import trends_by_id
from gateway.web.auth import current_account, record_required
from smart_auth.accounts import linked_records

bp = Blueprint("portal_records", __name__, url_prefix="/portal/records")
NOTES = "notes"  # the Visit notes section (mappers.document_reference)
CHARTED = {"lab-results": True, "vitals": False}  # sections with trends: slug -> whether its results are labs


def load(**filters):
    """The record on screen as the portal token sees it; a representative's look is logged as a disclosure."""
    conn = records.reader(store.current(), current_app.config, g.token)  # a replica when there is one
    record = records.load_record(conn, g.token, g.record["patient_uid"], **filters)
    if g.record["relation"] != "self":
        disclosures.log_view(current_account(), g.record, "viewed the record")
    return record


@bp.app_context_processor
def sections_context():
    """The navigation's sections, and the Profile page's endpoint when the enrollment pages provide one."""
    profile = next(
        (
            rule.endpoint
            for rule in current_app.url_map.iter_rules()
            if rule.endpoint.endswith(".profile") and rule.rule.startswith("/portal")
        ),
        None,
    )
    return {"record_sections": shown_sections(), "profile_endpoint": profile, "vaccine_groups": vaccine_groups}


def shown_sections():
    """Every section, or for a caregiver the patient invited, the sections the patient shared with them."""
    record = g.get("record")
    if record and record.get("sections"):
        shared = record["sections"].split()
        return tuple(s for s in all_sections() if s.slug in shared)
    return all_sections()


@bp.get("/")
@record_required
def overview():
    record = load()
    counts = {s.slug: len(section_resources(s, record.by_type)[s.types[0]]) for s in all_sections()}
    return render_template("portal/records/overview.html", counts=counts, patient=record.patient)


@bp.get("/<slug>")
@record_required
def section(slug):
    chosen = section_by_slug(slug)
    if chosen is None:
        return not_in_record(None)
    record = load()
    items = section_items(chosen, record.by_type, record.refs, utc_now())
    if chosen.slug == NOTES:
        records.attach_note_texts(store.current(), record, items)
    trends = trends_of(chosen, record)
    charted = sorted({id(t): t for t in trends.values()}.values(), key=lambda t: t.name)
    return render_template(
        "portal/records/section.html",
        section=chosen,
        items=items,
        practice=practice_label(record),
        trends=trends,
        charted=charted,
    )


@bp.get("/<slug>/<rid>")
@record_required
def item(slug, rid):
    chosen = section_by_slug(slug)
    if chosen is None:
        return not_in_record(None)
    record = load()
    found = find_item(chosen, record.by_type, record.refs, rid, utc_now())
    if found is None:
        return not_in_record(chosen)
    if chosen.slug == NOTES:
        records.attach_note_texts(store.current(), record, [found])
    trend = trends_of(chosen, record).get(rid)
    return render_template(
        "portal/records/item.html", section=chosen, item=found, practice=practice_label(record), trend=trend
    )


def trends_of(chosen, record):
    """``{Observation id: Trend}`` for a section with trends (lab results, vitals), else nothing."""
    if chosen.slug not in CHARTED:
        return {}
    observations = section_resources(chosen, record.by_type).get("Observation", [])
    return trends_by_id(observations, lab=CHARTED[chosen.slug])


@bp.get("/notes/<rid>/document")
@record_required
def note_document(rid):
    """A note's document as a download (the PDFs), read through the same record and access check as the page."""
    found = records.note_document(store.current(), load(), rid) or abort(404)
    content_type, data = found
    extension = {"application/pdf": "pdf", "text/html": "html"}.get(content_type, "txt")
    headers = {
        "Content-Disposition": f'attachment; filename="note-{rid}.{extension}"',
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, 200, headers, content_type=content_type)


def not_in_record(section):
    """A page that is not in the record on screen (a bookmark of another record): a portal page with the
    banner and switcher, saying so (not there and not yours read alike)."""
    return render_template("portal/records/not_found.html", section=section), 404


def practice_label(record):
    """The practice a record comes from, named when the account's records span several practices."""
    practices = {r["practice_id"] for r in linked_records(store.current(), current_account()["id"])}
    return g.record["practice_name"] if len(practices) > 1 else None
