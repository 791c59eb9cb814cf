"""The console's "Send after-visit summary to the portal": the practice shares a completed visit as a link the
portal keeps (gateway.health_links.sharing), the chart's enrollment history records who did it and when, and the
patient's own portal account (if any) is told by email, with a link to the portal's page and never the link itself."""

from dataclasses import dataclass

from gateway import records, store
from gateway.health_links import payload, sharing
from gateway.record_sections import encounter
from gateway.store import accounts as account_store
from gateway.store import health_links as link_store
from smart_auth import audit, messages

EVENT = "after-visit summary shared"
FINISHED = "finished"  # Encounter.status of a visit that is over (FHIR R4 encounter-status)


class NotAVisit(LookupError):
    """No completed visit of this chart with that id (another chart's, an unknown id, or one not yet over)."""


@dataclass(frozen=True)
class Sent:
    uid: str
    emailed: list


def completed_visit(conn, chart, encounter_id):
    """The visit item (name, date, ...) of a completed Encounter of the chart, else NotAVisit."""
    record = records.load_record(conn, chart.token, chart.token.patient_id)
    found = [r for r in record.by_type.get("Encounter", ()) if r["id"] == encounter_id]
    if not found or found[0].get("status") != FINISHED:
        raise NotAVisit(encounter_id)
    return encounter(found[0], record.refs)


def send_visit_summary(ctx, staff, chart, encounter_id, now):
    """Share the visit with the patient's portal, record it in the chart's history and email the patient's own
    portal accounts; return the kept link's uid and whom was emailed."""
    visit = completed_visit(ctx.db, chart, encounter_id)
    patient = chart.patient
    shared = sharing.share_visit_summary(ctx.db, ctx.secret, staff, patient["uid"], encounter_id, ctx.base_url, now)
    detail = f"{visit['name']}, {(visit['date'] or '')[:10]}".rstrip(", ")
    audit.record(
        ctx.db,
        EVENT,
        audit.staff_actor(staff),
        patient_id=patient["id"],
        practice_id=patient["practice_id"],
        detail=detail,
    )
    practice = store.chart_rows(ctx.db, "practices", id=patient["practice_id"])[0]["name"]
    url = f"{ctx.base_url}/portal/share/{shared.uid}"
    emailed = told_accounts(ctx.db, patient["id"])
    for email in emailed:
        ctx.notifier.email(email, *messages.visit_summary_email(practice, url), "after-visit summary")
    return Sent(shared.uid, emailed)


def told_accounts(conn, patient_id):
    """The emails of the patient's own active portal accounts: who is told a summary is in the portal."""
    links = account_store.links_of_patient(conn, patient_id)
    return [link["email"] for link in links if link["relation"] == "self" and link["status"] == "active"]


def sent_summary(conn, patient_uid, encounter_id, link_uid):
    """True when ``link_uid`` is an after-visit summary of that visit of the record (the sent page's check)."""
    return any(
        row["uid"] == link_uid and row["content"] == payload.VISIT and row["sections"] == encounter_id
        for row in link_store.links_of_record(conn, patient_uid)
    )
