"""Adding a resource type is one mapper: a toy Goal type, registered for this module only, shows on the
consent page, in the portal, in the CapabilityStatement, in search and in $everything's care-date range,
with no edit outside the mapper (issue 11: "adding a type = one new mapper module + its test + demo rows").
"""

import pytest
from fhir.resources.R4B.goal import Goal

from fixtures.demo_practice import uid
from gateway import records, store
from gateway.fhir import capability
from mappers import REGISTRY
from mappers._common import (
    BASE_PROFILE,
    Entry,
    Kind,
    RecordSection,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    reference,
    subject_params,
)
from tests.portal_helpers import bearer as portal_bearer
from tests.portal_helpers import fhir_ids, login, portal_client
from tests.smart_auth.oauth_helpers import KEALA, Flow, bearer, build, form, query

GOAL_CATEGORY = "http://terminology.hl7.org/CodeSystem/goal-category"
DIET = f"{GOAL_CATEGORY}|dietary"
PATIENT = uid("patients", "keala")


def goal(row, ctx):
    """A toy mapper: one Goal per charted diagnosis (dietary for endocrine ICD-10 E codes, else behavioral)."""
    kind = "dietary" if (row["icd10_code"] or "").startswith("E") else "behavioral"
    return compact(
        {
            "resourceType": "Goal",
            "id": row["uid"],
            "lifecycleStatus": "completed" if row["status"] == "resolved" else "active",
            "category": [codeable(coding(GOAL_CATEGORY, kind, kind.capitalize()))],
            "description": codeable(text=f"Manage {row['description']}"),
            "subject": reference("Patient", ctx["patient"]),
            "startDate": row["onset_date"],
        }
    )


GOAL = ResourceType(
    name="Goal",
    table="diagnoses",
    to_fhir=goal,
    profiles=(BASE_PROFILE + "Goal",),
    search_params=(
        *subject_params("Goal", "clinical-patient"),
        base_param("Goal-category", "category", "token", "category"),
        base_param("Goal-lifecycle-status", "lifecycle-status", "token", "lifecycleStatus"),
        base_param("Goal-start-date", "start-date", "date", "startDate"),
    ),
    words=Words("Goals", "what you and your care team are working towards"),
    kinds=(Kind(GOAL_CATEGORY, "dietary", "Diet goals"), Kind(GOAL_CATEGORY, "behavioral", "Behaviour goals")),
    care_date="start-date",
    section=RecordSection(
        "goals",
        "Goals",
        65,
        "61146-7",
        "Goals narrative",
        "No goals are on file.",
        entry=Entry(name="description", status="lifecycleStatus", date="startDate"),
    ),
)


@pytest.fixture(scope="module")
def toy_type():
    """Register the toy Goal mapper in place of the real one for this module, then put the real one back."""
    real = REGISTRY["Goal"]
    REGISTRY["Goal"] = GOAL
    capability._cached.cache_clear()
    yield GOAL
    REGISTRY["Goal"] = real
    capability._cached.cache_clear()


@pytest.fixture(scope="module")
def goal_db(toy_type, module_db_path):
    """The demo practice, logins and apps loaded with the Goal type registered (so its rows are projected)."""
    path = module_db_path("goal")
    build(path)
    return path


@pytest.fixture(scope="module")
def goals(goal_db):
    """Keala's goals as the toy mapper makes them, straight from her chart rows."""
    db = store.connect(goal_db)
    patient = store.chart_rows(db, "patients", uid=PATIENT)[0]
    return [goal(row, {"patient": PATIENT}) for row in store.chart_rows(db, "diagnoses", patient_id=patient["id"])]


@pytest.fixture
def web(goal_db):
    return portal_client(goal_db, TESTING=True)


def test_the_toy_mapper_makes_valid_goals(goals):
    assert goals and {g["category"][0]["coding"][0]["code"] for g in goals} == {"dietary", "behavioral"}
    for resource in goals:
        Goal.model_validate(resource)


def test_the_consent_page_offers_goals_in_words_and_by_kind(web):
    flow = Flow(web)
    flow.login(KEALA)
    page = flow.authorize(scope="launch/patient openid patient/Goal.rs").get_data(as_text=True)
    assert '<label for="scope-1"><strong>Goals</strong></label>' in page
    assert '"scope-1-detail">of all kinds: diet goals and behaviour goals (read and search)</span>' in page
    assert '<label for="scope-1-1">Diet goals</label>' in page and "instead of all goals" in page
    _, boxes = form(page, "/oauth/authorize/decide")
    assert [value for _, value, _ in boxes] == [
        "patient/Goal.rs",
        f"patient/Goal.rs?category={DIET}",
        f"patient/Goal.rs?category={GOAL_CATEGORY}|behavioral",
    ]


def test_a_consent_to_one_kind_gives_a_token_for_that_kind_only(web, goals):
    flow = Flow(web)
    flow.login(KEALA)
    page = flow.authorize(scope="launch/patient openid patient/Goal.rs").get_data(as_text=True)
    body = flow.exchange(
        query(flow.decide(page, tick=[f"patient/Goal.rs?category={DIET}"]).headers["Location"])["code"]
    )
    token = body.get_json()
    assert token["scope"] == f"launch/patient openid patient/Goal.rs?category={DIET}"
    found = web.get(f"/fhir/Goal?patient={PATIENT}", headers=bearer(token["access_token"])).get_json()
    diet = {g["id"] for g in goals if g["category"][0]["coding"][0]["code"] == "dietary"}
    assert {e["resource"]["id"] for e in found.get("entry", ())} == diet


def test_search_answers_the_registered_parameters(web, goal_db, goals):
    headers = portal_bearer(store.connect(goal_db), PATIENT, "patient/Goal.rs")
    every = web.get(f"/fhir/Goal?patient={PATIENT}", headers=headers).get_json()
    assert every["total"] == len(goals)
    stored = {e["resource"]["id"]: e["resource"] for e in every["entry"]}
    assert stored == {g["id"]: {**g, "meta": stored[g["id"]]["meta"]} for g in goals}
    by_subject = web.get(f"/fhir/Goal?subject=Patient/{PATIENT}&category=dietary", headers=headers).get_json()
    assert {e["resource"]["id"] for e in by_subject["entry"]} == {
        g["id"] for g in goals if g["category"][0]["coding"][0]["code"] == "dietary"
    }
    first = min(g["startDate"] for g in goals)
    later = web.get(f"/fhir/Goal?patient={PATIENT}&start-date=gt{first}", headers=headers).get_json()
    assert later["total"] == sum(g["startDate"] > first for g in goals)


def test_the_capability_statement_lists_the_type(web):
    statement = web.get("/fhir/metadata").get_json()
    [entry] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Goal"]
    assert [p["name"] for p in entry["searchParam"]][-5:] == [
        "patient",
        "subject",
        "category",
        "lifecycle-status",
        "start-date",
    ]
    assert entry["supportedProfile"] == [BASE_PROFILE + "Goal"]
    assert "patient/Goal.rs" in web.get("/fhir/.well-known/smart-configuration").get_json()["scopes_supported"]


def test_the_portal_shows_a_goals_section(web, goals):
    login(web, *KEALA)
    overview = web.get("/portal/records/").get_data(as_text=True)
    assert f'<span class="tile-title">Goals</span> <span class="tile-count">{len(goals)} entries</span>' in overview
    page = web.get("/portal/records/goals").get_data(as_text=True)
    assert sorted(fhir_ids(page)) == sorted(f"Goal/{g['id']}" for g in goals)
    for resource in goals:
        assert resource["description"]["text"] in page
    item = web.get(f"/portal/records/goals/{goals[0]['id']}").get_data(as_text=True)
    assert goals[0]["description"]["text"] in item and "Active" in item


def test_everything_filters_goals_on_their_care_date(goal_db, goals):
    [clause] = records.date_clauses("Goal", start="2020-01-01")
    assert clause.param.name == "start-date"
    conn = store.connect(goal_db)
    token = records.portal_token({"uid": "someone"}, {"patient_uid": PATIENT}, conn)
    since = records.patient_record(conn, token, PATIENT, types={"Goal"}, start="2020-01-01")
    assert sorted(rid for _, rid, _ in since) == sorted(g["id"] for g in goals if g["startDate"] >= "2020-01-01")


def test_the_patient_summary_has_a_goals_section(web, goal_db, goals):
    headers = portal_bearer(store.connect(goal_db), PATIENT)
    bundle = web.get(f"/fhir/Patient/{PATIENT}/$summary", headers=headers).get_json()
    composition = bundle["entry"][0]["resource"]
    [section] = [s for s in composition["section"] if s["title"] == "Goals"]
    assert section["code"]["coding"][0]["code"] == "61146-7"
    assert sorted(e["reference"] for e in section["entry"]) == sorted(f"Goal/{g['id']}" for g in goals)
    titles = [s["title"] for s in composition["section"]]
    assert titles[titles.index("Goals") - 2 : titles.index("Goals") + 1] == ["Care plans", "Care team", "Goals"]
