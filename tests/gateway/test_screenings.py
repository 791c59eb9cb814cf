"""Screenings in the demo: a QuestionnaireResponse per administration with its answers, an Observation per
answer and per panel (found by category survey and sdoh, code and date), the food insecurity health concern
that cites its answer, consent kinds, and the QuestionnaireResponse searches of US Core 6.1.0."""

import pytest

from fixtures.demo_practice import uid

FHIR = "/fhir"
SURVEY = "http://terminology.hl7.org/CodeSystem/observation-category|survey"
PHQ9 = ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8", "44261-6")
HRSN = ("71802-3", "88122-7", "88123-5", "93030-5", "96779-4")


def answer_ids(handle, n, questions):
    return [uid("screening_answers", f"{handle}:{n}:{q}") for q in questions]


@pytest.fixture
def find(client, auth):
    def run(path, handle, scope=None):
        resource_type = path.split("?")[0]
        headers = auth(scope or f"patient/{resource_type}.rs", patient=uid("patients", handle))
        response = client.get(f"{FHIR}/{path}&_count=500", headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(e["resource"]["id"] for e in response.get_json().get("entry", ()))

    return run


def test_maria_s_survey_observations_are_her_two_panels_and_their_answers(find):
    patient = uid("patients", "maria")
    panels = [uid("screenings", "maria:0"), uid("screenings", "maria:1")]
    expected = sorted(panels + answer_ids("maria", 0, PHQ9) + answer_ids("maria", 1, HRSN))
    assert find(f"Observation?patient={patient}&category=survey", "maria") == expected
    assert find(f"Observation?patient=Patient/{patient}&category={SURVEY}", "maria") == expected


def test_only_the_social_needs_screening_is_sdoh(find):
    patient = uid("patients", "maria")
    expected = sorted([uid("screenings", "maria:1"), *answer_ids("maria", 1, HRSN)])
    assert find(f"Observation?patient={patient}&category=sdoh", "maria") == expected


def test_the_phq9_panel_has_its_answers_as_members_and_the_score(client, auth):
    patient = uid("patients", "maria")
    headers = auth("patient/Observation.rs", patient=patient)
    panel = client.get(f"{FHIR}/Observation/{uid('screenings', 'maria:0')}", headers=headers).get_json()
    assert [m["reference"] for m in panel["hasMember"]] == [f"Observation/{i}" for i in answer_ids("maria", 0, PHQ9)]
    assert panel["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{uid('screenings', 'maria:0')}"}]
    score = client.get(f"{FHIR}/Observation/{answer_ids('maria', 0, ['44261-6'])[0]}", headers=headers).get_json()
    assert score["valueQuantity"]["value"] == 7
    assert score["encounter"] == panel["encounter"]
    assert panel["encounter"]["reference"].startswith("Encounter/")


def test_the_questionnaire_response_holds_the_answers_in_order(client, auth):
    patient = uid("patients", "maria")
    response = client.get(
        f"{FHIR}/QuestionnaireResponse/{uid('screenings', 'maria:1')}",
        headers=auth("patient/QuestionnaireResponse.rs", patient=patient),
    )
    assert response.status_code == 200
    resource = response.get_json()
    assert resource["questionnaire"] == "http://loinc.org/q/96777-8"
    assert [i["linkId"] for i in resource["item"]] == [f"/{q}" for q in HRSN]
    assert resource["item"][1]["answer"] == [
        {"valueCoding": {"system": "http://loinc.org", "code": "LA28397-0", "display": "Often true"}}
    ]
    assert resource["subject"] == {"reference": f"Patient/{patient}"}


def test_questionnaire_response_searches(find):
    patient = uid("patients", "maria")
    both = sorted([uid("screenings", "maria:0"), uid("screenings", "maria:1")])
    assert find(f"QuestionnaireResponse?patient={patient}", "maria") == both
    assert find(f"QuestionnaireResponse?_id={both[0]}", "maria") == [both[0]]
    assert find(f"QuestionnaireResponse?patient={patient}&status=completed", "maria") == both
    assert find(f"QuestionnaireResponse?patient={patient}&status=in-progress", "maria") == []
    phq9 = [uid("screenings", "maria:0")]
    canonical = "http://loinc.org/q/44249-1"
    assert find(f"QuestionnaireResponse?patient={patient}&questionnaire={canonical}", "maria") == phq9
    assert find(f"QuestionnaireResponse?patient={patient}&questionnaire={canonical}|2.0", "maria") == phq9
    assert find(f"QuestionnaireResponse?patient={patient}&questionnaire=http://loinc.org/q/1-8", "maria") == []
    assert find(f"QuestionnaireResponse?patient={patient}&authored=ge2000-01-01", "maria") == both
    assert find(f"QuestionnaireResponse?patient={patient}&authored=lt2000-01-01", "maria") == []
    assert find(f"QuestionnaireResponse?patient={uid('patients', 'sofia')}", "sofia") == []


def test_a_questionnaire_that_is_no_canonical_is_a_clear_error(client, auth):
    patient = uid("patients", "maria")
    response = client.get(
        f"{FHIR}/QuestionnaireResponse?patient={patient}&questionnaire=a/b/c",
        headers=auth("patient/QuestionnaireResponse.rs", patient=patient),
    )
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == (
        "questionnaire: 'a/b/c' is not a reference (use Questionnaire/123 or 123)"
    )


def test_food_insecurity_is_an_sdoh_health_concern_citing_the_answer(find, client, auth):
    patient = uid("patients", "maria")
    concern = uid("diagnoses", "screening:maria:1")
    assert concern in find(f"Condition?patient={patient}&category=health-concern", "maria")
    assert find(f"Condition?patient={patient}&category=sdoh", "maria") == [concern]
    resource = client.get(
        f"{FHIR}/Condition/{concern}", headers=auth("patient/Condition.rs", patient=patient)
    ).get_json()
    [answer] = answer_ids("maria", 1, ["88122-7"])
    assert resource["evidence"] == [{"detail": [{"reference": f"Observation/{answer}"}]}]
    assert resource["code"]["coding"][0]["code"] == "733423003"


def test_a_consent_to_social_needs_only_sees_the_sdoh_screening(find):
    patient = uid("patients", "maria")
    scope = "patient/Observation.rs?category=http://hl7.org/fhir/us/core/CodeSystem/us-core-category|sdoh"
    expected = sorted([uid("screenings", "maria:1"), *answer_ids("maria", 1, HRSN)])
    assert find(f"Observation?patient={patient}", "maria", scope) == expected
    survey = "patient/Observation.rs?category=" + SURVEY
    assert len(find(f"Observation?patient={patient}", "maria", survey)) == 2 + len(PHQ9) + len(HRSN)


def test_david_and_thomas_have_one_screening_each(find):
    for handle, questions in (("david", 3), ("thomas", 3)):
        patient = uid("patients", handle)
        assert find(f"QuestionnaireResponse?patient={patient}", handle) == [uid("screenings", f"{handle}:0")]
        assert len(find(f"Observation?patient={patient}&category=survey", handle)) == 1 + questions


def _stored(db, rtype, rid):
    import json

    row = db.execute("SELECT json FROM resources WHERE type = ? AND id = ?", (rtype, rid)).fetchone()
    return json.loads(row[0])


def test_a_corrected_answer_updates_the_response_and_a_status_change_reaches_every_answer(fresh_demo_db_path):
    from gateway import store

    db = store.connect(fresh_demo_db_path)
    screening_uid = uid("screenings", "david:0")
    [screening] = store.chart_rows(db, "screenings", uid=screening_uid)
    [first, *_] = store.chart_rows(db, "screening_answers", screening_id=screening["id"])
    before = int(_stored(db, "QuestionnaireResponse", screening_uid)["meta"]["versionId"])
    store.update_row(db, "screening_answers", first["id"], {"answer_code": "LA6569-3", "answer_text": "Several days"})
    response = _stored(db, "QuestionnaireResponse", screening_uid)
    assert response["meta"]["versionId"] == str(before + 1)
    assert response["item"][0]["answer"] == [
        {"valueCoding": {"system": "http://loinc.org", "code": "LA6569-3", "display": "Several days"}}
    ]
    store.update_row(db, "screenings", screening["id"], {"status": "entered-in-error"})
    answers = [
        _stored(db, "Observation", a["uid"])
        for a in store.chart_rows(db, "screening_answers", screening_id=screening["id"])
    ]
    assert [a["status"] for a in answers] == ["entered-in-error"] * 3
    assert _stored(db, "QuestionnaireResponse", screening_uid)["status"] == "entered-in-error"
    assert _stored(db, "Observation", screening_uid)["status"] == "entered-in-error"


def test_a_bulk_load_projects_screenings_as_row_by_row_writes_do(empty_db_path, new_db_path):
    from fixtures import synthetic
    from gateway import store

    bulk, single = store.connect(empty_db_path), store.connect(new_db_path("single"))
    synthetic.generate(bulk, 12, seed=3)
    for table in store.CHART_TABLES:
        rows = store.chart_rows(bulk, table)
        if rows:
            store.insert_rows(single, table, rows)
    query = "SELECT type, id, json FROM resources WHERE source_table LIKE 'screening%' ORDER BY type, id"
    found = [(t, i, _without_meta(j)) for t, i, j in bulk.execute(query)]
    assert found and found == [(t, i, _without_meta(j)) for t, i, j in single.execute(query)]
    assert {t for t, _, _ in found} == {"Observation", "QuestionnaireResponse"}


def _without_meta(body):
    import json

    resource = json.loads(body)
    resource.pop("meta")
    return resource


def test_the_summary_leaves_screenings_out_of_the_lab_results(client, demo):
    from tests.portal_helpers import bearer

    patient = uid("patients", "maria")
    bundle = client.get(f"{FHIR}/Patient/{patient}/$summary", headers=bearer(demo, patient)).get_json()
    sections = bundle["entry"][0]["resource"]["section"]
    listed = {e["reference"] for s in sections for e in s.get("entry", ())}
    screening = {f"Observation/{uid('screenings', 'maria:0')}", f"QuestionnaireResponse/{uid('screenings', 'maria:0')}"}
    assert not listed & screening
    assert "Screenings" not in [s["title"] for s in sections]


def test_including_the_questionnaire_adds_nothing_without_a_questionnaire_scope(client, auth):
    patient = uid("patients", "maria")
    headers = auth("patient/QuestionnaireResponse.rs", patient=patient)
    response = client.get(
        f"{FHIR}/QuestionnaireResponse?patient={patient}&_include=QuestionnaireResponse:questionnaire", headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert sorted(e["resource"]["id"] for e in response.get_json()["entry"]) == sorted(
        [uid("screenings", "maria:0"), uid("screenings", "maria:1")]
    )


def test_the_capability_statement_claims_the_profiles_and_the_searches(client):
    statement = client.get(f"{FHIR}/metadata").get_json()
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    response = by_type["QuestionnaireResponse"]
    assert response["supportedProfile"] == [
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-questionnaireresponse"
    ]
    assert [p["name"] for p in response["searchParam"]] == [
        "_id",
        "_lastUpdated",
        "patient",
        "subject",
        "status",
        "authored",
        "questionnaire",
    ]
    assert response["searchInclude"] == [
        "QuestionnaireResponse:patient",
        "QuestionnaireResponse:subject",
        "QuestionnaireResponse:questionnaire",
    ]
    observation = by_type["Observation"]["supportedProfile"]
    assert "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment" in observation


def test_linh_s_gad_7_holds_seven_answers_and_its_score(find, client, auth):
    patient = uid("patients", "linh")
    assert find(f"QuestionnaireResponse?patient={patient}", "linh") == [uid("screenings", "linh:0")]
    headers = auth("patient/Observation.rs", patient=patient)
    panel = client.get(f"{FHIR}/Observation/{uid('screenings', 'linh:0')}", headers=headers).get_json()
    assert panel["code"]["coding"][0]["code"] == "69737-5"
    assert len(panel["hasMember"]) == 8
    [score] = answer_ids("linh", 0, ["70274-6"])
    assert client.get(f"{FHIR}/Observation/{score}", headers=headers).get_json()["valueQuantity"] == {
        "value": 4,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }


def test_keala_s_prapare_raises_transportation_and_stress_health_concerns(find, client, auth):
    patient = uid("patients", "keala")
    concerns = [uid("diagnoses", "screening:keala:0"), uid("diagnoses", "screening:keala:0:93038-8")]
    assert find(f"Condition?patient={patient}&category=sdoh", "keala") == sorted(concerns)
    headers = auth("patient/Condition.rs", patient=patient)
    found = [client.get(f"{FHIR}/Condition/{c}", headers=headers).get_json() for c in concerns]
    assert [(c["code"]["coding"][0]["code"], c["code"]["text"]) for c in found] == [
        ("713458007", "Lack of access to transportation"),
        ("73595000", "Stress"),
    ]
    answers = answer_ids("keala", 0, ["93030-5", "93038-8"])
    assert [c["evidence"] for c in found] == [[{"detail": [{"reference": f"Observation/{a}"}]}] for a in answers]
    observations = find(f"Observation?patient={patient}&category=sdoh&code=http://loinc.org|63512-8", "keala")
    assert observations == answer_ids("keala", 0, ["63512-8"])
