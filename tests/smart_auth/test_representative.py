"""A representative's token reads the represented person's record and nothing of their own; granular
consent yields only granular scopes and filtered searches."""

import pytest

from .oauth_helpers import MARIA, bearer

CONDITION_PROBLEMS = "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
LAB = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"


@pytest.fixture
def sofia_token(flow):
    return flow.tokens(who=MARIA, patient="Sofia")


def test_the_token_is_for_the_child(sofia_token, summary):
    assert sofia_token["patient"] == summary["patients"]["sofia"]
    # Sofia's chart keeps Maria as a contact, so fhirUser is granted and names her RelatedPerson (test_openid).
    assert sofia_token["scope"].split() == ["launch/patient", "openid", "fhirUser", "offline_access", "patient/*.rs"]


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Patient/{sofia}",
        "/fhir/Condition?patient={sofia}",
        "/fhir/Immunization?patient={sofia}",
        "/fhir/AllergyIntolerance?patient={sofia}",
    ],
)
def test_reads_the_childs_data(web, sofia_token, summary, path):
    response = web.get(path.format(sofia=summary["patients"]["sofia"]), headers=bearer(sofia_token["access_token"]))
    assert response.status_code == 200
    body = response.get_json()
    if body["resourceType"] == "Bundle":
        assert body["total"] >= 1


@pytest.mark.parametrize(
    "path, status",
    [
        ("/fhir/Patient/{maria}", 404),
        ("/fhir/Condition?patient={maria}", 200),
        ("/fhir/Observation?patient={maria}", 200),
        ("/fhir/Patient/{maria}/$everything", 404),
    ],
)
def test_reads_nothing_of_the_parents(web, sofia_token, summary, path, status):
    """The parent's record answers exactly as a record that does not exist, so ids cannot be probed."""
    maria, headers = summary["patients"]["maria"], bearer(sofia_token["access_token"])
    response = web.get(path.format(maria=maria), headers=headers)
    absent = web.get(path.format(maria="no-such-patient"), headers=headers)
    assert response.status_code == absent.status_code == status
    # The same body but for the id the request named (a search's self link, a read's diagnostics).
    assert response.data.replace(maria.encode(), b"no-such-patient") == absent.data
    body = response.get_json()
    if status == 200:
        assert body["total"] == 0 and "entry" not in body
    else:
        assert body["issue"] == [
            {"severity": "error", "code": "not-found", "diagnostics": f"Patient/{maria} is not known"}
        ]


def test_a_search_without_patient_sees_only_the_child(web, sofia_token, summary):
    body = web.get("/fhir/Condition", headers=bearer(sofia_token["access_token"])).get_json()
    subjects = {e["resource"]["subject"]["reference"] for e in body["entry"] if e["search"]["mode"] == "match"}
    assert subjects == {f"Patient/{summary['patients']['sofia']}"}


def test_granular_category_consent(flow, summary):
    flow.login(MARIA)
    scope = "launch/patient openid patient/Patient.rs patient/Condition.rs patient/Observation.rs"
    page = flow.pick(flow.authorize(scope=scope).get_data(as_text=True), "Maria").get_data(as_text=True)
    response = flow.decide(
        page,
        untick=["patient/Condition.rs", "patient/Observation.rs"],
        tick=[f"patient/Condition.rs?category={CONDITION_PROBLEMS}", f"patient/Observation.rs?category={LAB}"],
    )
    from .oauth_helpers import query

    body = flow.exchange(query(response.headers["Location"])["code"]).get_json()
    granted = body["scope"].split()
    assert granted == [
        "launch/patient",
        "openid",
        "patient/Patient.rs",
        f"patient/Condition.rs?category={CONDITION_PROBLEMS}",
        f"patient/Observation.rs?category={LAB}",
    ]
    headers, maria = bearer(body["access_token"]), summary["patients"]["maria"]
    conditions = flow.client.get(f"/fhir/Condition?patient={maria}", headers=headers).get_json()
    categories = {
        c["code"]
        for e in conditions["entry"]
        if e["search"]["mode"] == "match"
        for cat in e["resource"]["category"]
        for c in cat["coding"]
    }
    assert conditions["total"] >= 1 and categories == {"problem-list-item"}
    labs = flow.client.get(f"/fhir/Observation?patient={maria}", headers=headers).get_json()
    assert labs["total"] >= 1
    assert flow.client.get(f"/fhir/Immunization?patient={maria}", headers=headers).status_code == 403
