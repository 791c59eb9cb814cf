"""The demo's teenager: Camila Reyes, 15, whose mother Ana is her representative. Ana's app and download see
Camila's record without the practice's sensitive categories; the demo guide names Ana's login and says so."""

import orjson
import pytest

from fixtures import demo_accounts, demo_practice
from fixtures.demo_screenings import GAD7, PHQ9, QUESTIONS
from gateway import store
from gateway.demo_guide import teen_lines
from gateway.store import accounts as account_store
from smart_auth import proxy_policy
from tests.portal_helpers import bearer, portal_client

ANA = ("ana.reyes@example.com", "Portal-Demo-5")


@pytest.fixture(scope="module")
def teen_demo(module_db_path):
    """The demo loaded as of the practice's today (Camila is 15 today, whenever the test runs)."""
    path = module_db_path("teen")
    db = store.connect(path)
    demo_accounts.load(db, demo_practice.load(db, proxy_policy.today()))
    return path, db


def labels(path, db, subject=None):
    """(type, what a person reads) of every resource of Camila's $everything, sorted."""
    teen = demo_practice.uid("patients", "camila")
    response = portal_client(path).get(
        f"/fhir/Patient/{teen}/$everything?_count=500", headers=bearer(db, teen, subject=subject)
    )
    assert response.status_code == 200, response.data
    found = []
    for entry in orjson.loads(response.data)["entry"]:
        r = entry["resource"]
        concept = r.get("code") or r.get("medicationCodeableConcept") or r.get("type") or {}
        concept = concept[0] if isinstance(concept, list) else concept
        words = r.get("description") or concept.get("text") or r.get("questionnaire") or ""
        found.append((r["resourceType"], words))
    return sorted(found)


def test_the_mother_does_not_see_camilas_sensitive_items(teen_demo):
    path, db = teen_demo
    ana = account_store.account_by_email(db, ANA[0])
    everything, mothers = labels(path, db), labels(path, db, subject=ana["uid"])
    hidden = list(everything)
    for item in mothers:
        hidden.remove(item)
    answers = [QUESTIONS[q] for q in (*PHQ9, "44261-6", *GAD7, "70274-6")]
    assert hidden == sorted(
        [
            ("Condition", "Generalized anxiety disorder"),  # SNOMED CT 21897009 only
            ("DocumentReference", "Follow-up"),  # the anxiety visit's note
            ("DocumentReference", "Private conversation"),  # marked confidential (R)
            ("MedicationRequest", "norethindrone 0.35 MG Oral Tablet"),
            ("MedicationStatement", "norethindrone 0.35 MG Oral Tablet"),
            ("Observation", "Generalized anxiety disorder 7 item (GAD-7)"),
            ("Observation", "PHQ-9 quick depression assessment panel [Reported.PHQ]"),
            *[("Observation", words) for words in answers],
            ("QuestionnaireResponse", "http://loinc.org/q/44249-1"),
            ("QuestionnaireResponse", "http://loinc.org/q/69737-5"),
        ]
    )
    seen = [
        ("DocumentReference", "Well visit"),
        ("Condition", "Mild intermittent asthma"),
        ("Encounter", "Follow-up visit"),
    ]
    assert [item for item in seen if item not in mothers] == []


def test_the_guide_names_the_mothers_login_and_what_she_does_not_see():
    assert teen_lines() == [
        "A teenager's limited record: Camila Reyes is 15; her parent Ana Reyes (ana.reyes@example.com / Portal-Demo-5)",
        "  sees her record without the practice's sensitive categories: not her anxiety (charted in SNOMED CT",
        "  only), her PHQ-9 and GAD-7, her contraceptive pill, the note her clinician marked confidential, nor the",
        "  note of the anxiety visit. The parent's app tokens and downloads leave out the same items.",
    ]
