"""The portal's Other findings section: the simple observations (a clinical test, exam findings, activity, cognitive
status) in plain words with their dates, in a section of their own and in no other; the IPS leaves it out (IPS 1.1
has no section for them)."""

import pytest

from fixtures.demo_practice import uid
from gateway.record_sections import all_sections, finding
from tests.portal_helpers import bearer as portal_bearer
from tests.portal_helpers import fhir_ids, login, portal_client

ROSE = ("rose.begay@example.org", "Portal-Demo-4")  # guardian of Thomas
CATEGORIES = (
    "exam",
    "procedure",
    "activity",
    "therapy",
    "imaging",
    "functional-status",
    "cognitive-status",
    "disability-status",
)


def thomas_findings():
    return sorted(f"Observation/{uid('clinical_findings', f'thomas:{n}')}" for n in range(2))


@pytest.fixture
def rose_web(fresh_demo_db_path):
    web = portal_client(fresh_demo_db_path, TESTING=True)
    login(web, *ROSE)
    return web


def test_the_section_follows_screenings_and_takes_every_finding_category():
    slugs = [s.slug for s in all_sections()]
    assert slugs[slugs.index("screenings") + 1] == "findings"
    [section] = [s for s in all_sections() if s.slug == "findings"]
    assert (section.title, section.types, section.category, section.loinc, section.ips) == (
        "Other findings",
        ("Observation",),
        ",".join(CATEGORIES),
        "29545-1",
        False,
    )


def test_a_finding_in_plain_words():
    resource = {
        "resourceType": "Observation",
        "id": "f1",
        "status": "final",
        "category": [{"coding": [{"code": "exam", "display": "Exam"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "44963-7"}], "text": "Capillary refill time"},
        "effectiveDateTime": "2026-10-10T16:50:00Z",
        "valueQuantity": {"value": 3, "unit": "s", "system": "http://unitsofmeasure.org", "code": "s"},
        "performer": [{"reference": "Practitioner/p1"}],
        "note": [{"text": "Brisk"}],
    }
    refs = {"Practitioner/p1": {"resourceType": "Practitioner", "name": [{"given": ["Ann"], "family": "Lee"}]}}
    item = finding(resource, refs)
    assert (item["name"], item["status"], item["date"], item["value"], item["unit"]) == (
        "Capillary refill time",
        "Final",
        "2026-10-10T16:50:00Z",
        "3",
        "seconds",
    )
    assert item["details"] == [("Result", "3 seconds"), ("Kind", "Exam"), ("Recorded by", "Ann Lee"), ("Note", "Brisk")]
    coded = {**resource, "valueQuantity": None, "valueCodeableConcept": {"text": "Atrial fibrillation"}}
    assert (finding(coded, refs)["value"], finding(coded, refs)["unit"]) == ("Atrial fibrillation", "")


def test_the_portal_shows_thomas_s_findings_in_their_own_section_and_nowhere_else(rose_web):
    overview = rose_web.get("/portal/records/").get_data(as_text=True)
    assert '<span class="tile-title">Other findings</span> <span class="tile-count">2 entries</span>' in overview
    page = rose_web.get("/portal/records/findings").get_data(as_text=True)
    assert sorted(fhir_ids(page)) == thomas_findings()
    assert "Capillary refill time, nail bed" in page
    assert "<dt>Result</dt><dd>Alert and oriented x 3; manages his own medicines and appointments.</dd>" in page
    assert "<dt>Result</dt><dd>3 seconds</dd>" in page
    for other in ("vitals", "lab-results", "social-history", "screenings"):
        shown = set(fhir_ids(rose_web.get(f"/portal/records/{other}").get_data(as_text=True)))
        assert not shown & set(thomas_findings()), other


def test_the_summary_leaves_the_findings_out(client, demo):
    patient = uid("patients", "thomas")
    bundle = client.get(f"/fhir/Patient/{patient}/$summary", headers=portal_bearer(demo, patient)).get_json()
    listed = {e["reference"] for s in bundle["entry"][0]["resource"]["section"] for e in s.get("entry", ())}
    assert not listed & set(thomas_findings())
