"""The practice console's view of a chart as the patient sees it: the record's sections, the apps connected
to it, and its access history with staff actions. Read through the same record reader as the portal."""

from flask import Blueprint, render_template

from gateway import disclosures, records, store
from gateway.practice.enrollment import chart_of_practice
from gateway.record_sections import all_sections, section_items
from gateway.store import accounts as account_store
from gateway.store import connected_apps
from gateway.store.chart import utc_now
from gateway.web.auth import current_staff, staff_required
from smart_auth.scope_words import describe

bp = Blueprint("practice_records", __name__, url_prefix="/practice/records")


@bp.get("/<patient_uid>")
@staff_required
def chart(patient_uid):
    (patient, token), staff = chart_of_practice(patient_uid), current_staff()
    record = records.load_record(store.current(), token, patient_uid)
    disclosures.log_staff(staff, patient_uid, "opened the patient's record in the console")
    now = utc_now()
    sections = [(s, section_items(s, record.by_type, record.refs, now)) for s in all_sections()]
    links = account_store.links_of_patient(store.current(), patient["id"])
    people = {
        account_store.account_by_id(store.current(), link["account_id"])[
            "uid"
        ]: f"{link['name'] or link['email']} ({link['relation']})"
        for link in links
    }
    grants = [
        dict(grant, words=describe(grant["scope"]), by=people.get(grant["account_uid"], "Someone"))
        for grant in connected_apps.grants_of_record(store.current(), patient_uid)
    ]
    history = disclosures.history(patient_uid, people, staff=True)
    return render_template(
        "practice/records.html", patient=patient, sections=sections, links=links, grants=grants, history=history
    )
