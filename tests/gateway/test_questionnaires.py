"""The screening forms served as Questionnaire: read by id and found by the canonical a QuestionnaireResponse names
(``Questionnaire?url=``), with every linkId of a demo response found in its form; a definition, so any token that
may read Questionnaire reads every form, whatever its patient or practice; bad input is a 400 OperationOutcome."""

import pytest

from fixtures.demo_practice import uid

FHIR = "/fhir"
FORMS = ["phq-9", "phq-2", "gad-7", "ahc-hrsn", "prapare", "hunger-vital-sign"]


@pytest.fixture
def get(client, auth):
    def run(path, scope="patient/Questionnaire.rs", patient=None, expect=200):
        response = client.get(f"{FHIR}/{path}", headers=auth(scope, patient or uid("patients", "maria")))
        assert response.status_code == expect, response.get_json(force=True)
        return response.get_json(force=True)

    return run


def ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", ())]


def test_every_form_is_served(get):
    assert ids(get("Questionnaire?_count=50")) == FORMS


def test_a_form_reads_by_id(get):
    form = get("Questionnaire/phq-9")
    assert (form["url"], form["title"], form["meta"]["versionId"]) == (
        "http://loinc.org/q/44249-1",
        "PHQ-9 quick depression assessment panel [Reported.PHQ]",
        "1",
    )
    assert [i["linkId"] for i in form["item"]][:2] == ["/44250-9", "/44255-8"]


def test_the_canonical_of_each_demo_response_resolves_and_its_link_ids_are_in_the_form(get):
    patient = uid("patients", "maria")
    responses = get(f"QuestionnaireResponse?patient={patient}", "patient/QuestionnaireResponse.rs")
    assert len(responses["entry"]) == 2
    for entry in responses["entry"]:
        response = entry["resource"]
        found = get(f"Questionnaire?url={response['questionnaire']}")
        assert len(found["entry"]) == 1
        form = found["entry"][0]["resource"]
        assert {i["linkId"] for i in response["item"]} <= {i["linkId"] for i in form["item"]}


def test_url_with_a_version_and_other_searches(get):
    assert ids(get("Questionnaire?url=http://loinc.org/q/69737-5|2.1")) == ["gad-7"]
    assert ids(get("Questionnaire?url=http://loinc.org/q/99999-9")) == []
    assert ids(get("Questionnaire?code=http://loinc.org|93025-5")) == ["prapare"]
    assert ids(get("Questionnaire?status=active&_count=50")) == FORMS


def test_any_patient_and_a_backend_read_the_forms(get):
    assert ids(get("Questionnaire?_count=50", patient=uid("patients", "thomas"))) == FORMS
    assert get("Questionnaire/gad-7", scope="system/Questionnaire.rs", patient="")["id"] == "gad-7"


def test_a_token_without_a_questionnaire_scope_is_refused(get):
    outcome = get("Questionnaire/phq-9", scope="patient/Observation.rs", expect=403)
    assert outcome["issue"][0]["diagnostics"] == "The token's scopes do not allow read on Questionnaire"


def test_a_url_that_is_not_a_uri_is_a_400(get):
    outcome = get("Questionnaire?url=phq-9", expect=400)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"] == (
        "url: 'phq-9' is not an absolute URI (use e.g. http://loinc.org/q/44249-1)"
    )


def test_the_capability_statement_lists_questionnaire(client):
    statement = client.get(f"{FHIR}/metadata").get_json()
    found = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Questionnaire")
    assert [(p["name"], p["type"]) for p in found["searchParam"]] == [
        ("_id", "token"),
        ("_lastUpdated", "date"),
        ("url", "uri"),
        ("code", "token"),
        ("status", "token"),
    ]
    assert [i["code"] for i in found["interaction"]] == ["read", "search-type"]
    # The base definition, as for the other types US Core does not profile (SDC's sdc-questionnaire is not claimed).
    assert found["supportedProfile"] == ["http://hl7.org/fhir/StructureDefinition/Questionnaire"]
    assert "searchRevInclude" not in found


def test_including_the_questionnaire_adds_each_form_once(get):
    patient = uid("patients", "maria")
    scope = "patient/QuestionnaireResponse.rs patient/Questionnaire.rs"
    bundle = get(f"QuestionnaireResponse?patient={patient}&_include=QuestionnaireResponse:questionnaire", scope)
    included = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert included == ["phq-9", "ahc-hrsn"]
