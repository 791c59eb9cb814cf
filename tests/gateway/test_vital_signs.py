"""Vitals from the flowsheet (a second chart table of Observation) in the demo: searched, shown, summarised."""

import datetime as dt

import pytest

from fixtures.demo_charts import CHARTS
from fixtures.demo_practice import uid
from gateway import store
from tests.conftest import TODAY
from tests.portal_helpers import bearer as portal_bearer
from tests.portal_helpers import fhir_ids, login, portal_client
from tests.smart_auth.oauth_helpers import KEALA

FHIR = "/fhir"
VITAL_SIGNS = "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def vital_ids(handle, loinc=None):
    """The FHIR ids of a demo patient's flowsheet rows (of one LOINC code), as demo_practice names them."""
    rows = CHARTS[handle]["vital_signs"]
    return sorted(uid("vital_signs", f"{handle}:{n}") for n, r in enumerate(rows) if loinc in (None, r["loinc_code"]))


def lab_ids(demo, handle):
    """The FHIR ids of a demo patient's lab results on reports shared with them."""
    patient = store.chart_rows(demo, "patients", uid=uid("patients", handle))[0]
    shared = {r["id"] for r in store.chart_rows(demo, "lab_results", patient_id=patient["id"], shared_with_patient=1)}
    rows = store.chart_rows(demo, "lab_observations", patient_id=patient["id"])
    return sorted(r["uid"] for r in rows if r["lab_result_id"] in shared)


@pytest.fixture
def find(client, auth):
    def run(query, handle="maria"):
        headers = auth("patient/Observation.rs", patient=uid("patients", handle))
        response = client.get(f"{FHIR}/Observation?{query}&_count=500", headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(e["resource"]["id"] for e in response.get_json().get("entry", ()))

    return run


@pytest.mark.parametrize("handle", list(CHARTS))
def test_every_demo_patient_has_vitals_found_by_category(find, handle):
    patient = uid("patients", handle)
    assert len(vital_ids(handle)) >= 8
    assert find(f"patient={patient}&category=vital-signs", handle) == vital_ids(handle)
    assert find(f"patient=Patient/{patient}&category={VITAL_SIGNS}", handle) == vital_ids(handle)


def test_blood_pressure_is_found_by_code(find):
    patient = uid("patients", "david")
    expected = vital_ids("david", "85354-9")
    assert len(expected) == 2
    assert find(f"patient={patient}&code=85354-9", "david") == expected
    assert find(f"patient={patient}&code=http://loinc.org|85354-9", "david") == expected


def test_pulse_oximetry_is_found_by_either_code(find):
    patient = uid("patients", "thomas")
    assert find(f"patient={patient}&code=2708-6", "thomas") == vital_ids("thomas", "59408-5")


def test_category_date_comparators_split_the_visits(find):
    patient = uid("patients", "maria")
    rows = CHARTS["maria"]["vital_signs"]
    days = sorted({r["taken_at"][0] for r in rows})
    assert len(days) == 2
    found = find(f"patient={patient}&category=vital-signs&date=gt{_date(days[0])}")
    later = sorted(uid("vital_signs", f"maria:{n}") for n, r in enumerate(rows) if r["taken_at"][0] == days[1])
    assert found == later
    assert find(f"patient={patient}&category=vital-signs&date=le{_date(days[0])}") == sorted(
        set(vital_ids("maria")) - set(later)
    )


def test_labs_and_vitals_share_the_type_but_not_the_category(find, demo):
    patient = uid("patients", "maria")
    assert find(f"patient={patient}&category=laboratory") == lab_ids(demo, "maria")
    social = [uid("social_history", f"maria:{n}") for n in range(len(CHARTS["maria"]["social_history"]))]
    survey = find(f"patient={patient}&category=survey")
    assert len(survey) == 17  # her PHQ-9 and AHC HRSN panels, and their 10 and 5 answers
    assert find(f"patient={patient}") == sorted(lab_ids(demo, "maria") + vital_ids("maria") + social + survey)


def test_stored_vitals_claim_their_profiles(client, auth):
    patient = uid("patients", "sofia")
    headers = auth("patient/Observation.rs", patient=patient)
    bundle = client.get(f"{FHIR}/Observation?patient={patient}&category=vital-signs&_count=500", headers=headers)
    claimed = {e["resource"]["meta"]["profile"][0] for e in bundle.get_json()["entry"]}
    assert {
        US_CORE + "us-core-head-circumference",
        US_CORE + "head-occipital-frontal-circumference-percentile",
        US_CORE + "pediatric-weight-for-height",
        US_CORE + "pediatric-bmi-for-age",
        US_CORE + "us-core-blood-pressure",
    } <= claimed


def _date(day):
    return (TODAY + dt.timedelta(days=day)).isoformat()


@pytest.fixture
def keala_web(fresh_demo_db_path):
    web = portal_client(fresh_demo_db_path, TESTING=True)
    login(web, *KEALA)
    return web


def test_the_portal_shows_vitals_in_their_own_table_and_not_among_lab_results(keala_web):
    expected = vital_ids("keala")
    overview = keala_web.get("/portal/records/").get_data(as_text=True)
    assert f'<span class="tile-title">Vitals</span> <span class="tile-count">{len(expected)} entries</span>' in overview
    page = keala_web.get("/portal/records/vitals").get_data(as_text=True)
    assert sorted(fhir_ids(page)) == [f"Observation/{i}" for i in expected]
    assert (
        '<td class="value" data-label="Value">108/68</td><td data-label="Unit">mmHg</td>' in page
    )  # her last visit's blood pressure
    assert '<td class="value" data-label="Value">Not taken</td>' in page  # the weight she declined
    labs = keala_web.get("/portal/records/lab-results").get_data(as_text=True)
    assert not {f"Observation/{i}" for i in expected} & set(fhir_ids(labs))
    [declined] = [i for n, i in enumerate(_keala_rows()) if CHARTS["keala"]["vital_signs"][n].get("not_taken_reason")]
    item = keala_web.get(f"/portal/records/vitals/{declined}").get_data(as_text=True)
    assert "<dt>Why not taken</dt><dd>Asked But Declined</dd>" in item


def test_the_patient_summary_has_a_vital_signs_section(client, demo):
    patient = uid("patients", "keala")
    bundle = client.get(f"/fhir/Patient/{patient}/$summary", headers=portal_bearer(demo, patient)).get_json()
    sections = {s["code"]["coding"][0]["code"]: s for s in bundle["entry"][0]["resource"]["section"]}
    vitals = sections["8716-3"]
    assert vitals["title"] == "Vitals"
    assert sorted(e["reference"] for e in vitals["entry"]) == [f"Observation/{i}" for i in vital_ids("keala")]
    assert "<td>Blood pressure panel with all children optional 108/68 mmHg</td>" in vitals["text"]["div"]
    labs = {e["reference"] for e in sections["30954-2"].get("entry", ())}
    assert not labs & {f"Observation/{i}" for i in vital_ids("keala")}


def _keala_rows():
    return [uid("vital_signs", f"keala:{n}") for n in range(len(CHARTS["keala"]["vital_signs"]))]


def test_a_token_for_vital_signs_only_sees_vitals_and_not_labs(client, auth):
    patient = uid("patients", "maria")
    headers = auth(f"patient/Observation.rs?category={VITAL_SIGNS}", patient=patient)
    bundle = client.get(f"{FHIR}/Observation?patient={patient}&_count=500", headers=headers).get_json()
    assert sorted(e["resource"]["id"] for e in bundle["entry"]) == vital_ids("maria")
    labs = client.get(f"{FHIR}/Observation?patient={patient}&category=laboratory", headers=headers).get_json()
    assert labs["total"] == 0
