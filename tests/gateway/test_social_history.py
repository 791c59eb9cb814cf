"""The social history form (a further chart table of Observation) in the demo: searched by category, code and
date, narrowed by a consent to social history, shown in the portal and summarised in the IPS."""

import datetime as dt

import pytest

from fixtures.demo_charts import CHARTS
from fixtures.demo_practice import uid
from gateway.record_sections import all_sections
from tests.conftest import TODAY
from tests.portal_helpers import bearer as portal_bearer
from tests.portal_helpers import fhir_ids, login, portal_client
from tests.smart_auth.oauth_helpers import KEALA

FHIR = "/fhir"
SOCIAL_HISTORY = "http://terminology.hl7.org/CodeSystem/observation-category|social-history"


def social_ids(handle, kind=None):
    """The FHIR ids of a demo patient's social history rows (of one kind), as demo_practice names them."""
    rows = CHARTS[handle]["social_history"]
    return sorted(uid("social_history", f"{handle}:{n}") for n, r in enumerate(rows) if kind in (None, r["kind"]))


@pytest.fixture
def find(client, auth):
    def run(query, handle, scope="patient/Observation.rs"):
        headers = auth(scope, patient=uid("patients", handle))
        response = client.get(f"{FHIR}/Observation?{query}&_count=500", headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(e["resource"]["id"] for e in response.get_json().get("entry", ()))

    return run


@pytest.mark.parametrize("handle", list(CHARTS))
def test_social_history_is_found_by_category(find, handle):
    patient = uid("patients", handle)
    assert find(f"patient={patient}&category=social-history", handle) == social_ids(handle)
    assert find(f"patient=Patient/{patient}&category={SOCIAL_HISTORY}", handle) == social_ids(handle)


def test_the_demo_holds_every_kind_and_every_smoker():
    kinds = {r["kind"] for chart in CHARTS.values() for r in chart["social_history"]}
    assert kinds == {"tobacco", "pregnancy_status", "pregnancy_intent", "occupation", "sexual_orientation"}
    smokers = {r["answer_text"] for c in CHARTS.values() for r in c["social_history"] if r["kind"] == "tobacco"}
    assert smokers == {"Current every day smoker", "Former smoker", "Never smoker"}
    assert social_ids("sofia") == social_ids("noah") == []


@pytest.mark.parametrize("code", ["72166-2", "http://loinc.org|72166-2"])
def test_smoking_status_is_found_by_code(find, code):
    patient = uid("patients", "david")
    assert len(social_ids("david", "tobacco")) == 1
    assert find(f"patient={patient}&code={code}", "david") == social_ids("david", "tobacco")


def test_occupation_and_pregnancy_are_found_by_their_codes(find):
    patient = uid("patients", "maria")
    assert find(f"patient={patient}&code=11341-5", "maria") == social_ids("maria", "occupation")
    assert find(f"patient={patient}&code=82810-3,86645-9", "maria") == sorted(
        social_ids("maria", "pregnancy_status") + social_ids("maria", "pregnancy_intent")
    )


def test_category_date_comparators_split_the_answers(find):
    # Linh: tobacco and orientation at her annual physical (day -200), pregnancy at her follow-up (day -5).
    patient = uid("patients", "linh")
    pregnancy = sorted(social_ids("linh", "pregnancy_status") + social_ids("linh", "pregnancy_intent"))
    physical = sorted(social_ids("linh", "tobacco") + social_ids("linh", "sexual_orientation"))
    query = f"patient={patient}&category=social-history&date="
    assert find(query + f"gt{_date(-100)}", "linh") == pregnancy
    assert find(query + f"ge{_date(-5)}", "linh") == pregnancy
    assert find(query + f"lt{_date(-100)}", "linh") == physical
    assert find(query + f"le{_date(-200)}", "linh") == physical
    assert find(query + f"eq{_date(-200)}", "linh") == physical
    assert find(query + f"gt{_date(0)}", "linh") == []


def test_an_occupation_is_found_within_the_years_it_was_held(find):
    patient = uid("patients", "wei")
    query = f"patient={patient}&code=11341-5&date="
    assert find(query + f"ge{_date(-7300)}", "wei") == social_ids("wei", "occupation")
    assert find(query + f"lt{_date(-7300)}", "wei") == []


def test_a_token_for_social_history_only_sees_social_history(find):
    patient = uid("patients", "maria")
    scope = f"patient/Observation.rs?category={SOCIAL_HISTORY}"
    assert find(f"patient={patient}", "maria", scope) == social_ids("maria")
    assert find(f"patient={patient}&category=vital-signs", "maria", scope) == []


@pytest.fixture
def keala_web(fresh_demo_db_path):
    web = portal_client(fresh_demo_db_path, TESTING=True)
    login(web, *KEALA)
    return web


def test_the_portal_lists_social_history_in_its_own_section_and_nowhere_else(keala_web):
    expected = [f"Observation/{i}" for i in social_ids("keala")]
    overview = keala_web.get("/portal/records/").get_data(as_text=True)
    assert '<span class="tile-title">Social history</span> <span class="tile-count">3 entries</span>' in overview
    page = keala_web.get("/portal/records/social-history").get_data(as_text=True)
    assert sorted(fhir_ids(page)) == sorted(expected)
    assert "<dt>Answer</dt><dd>Never smoker</dd>" in page
    assert "<dt>Answer</dt><dd>Not pregnant</dd>" in page
    assert "<dt>Answer</dt><dd>Asked But Declined</dd>" in page  # her sexual orientation
    for other in ("vitals", "lab-results"):
        shown = set(fhir_ids(keala_web.get(f"/portal/records/{other}").get_data(as_text=True)))
        assert not shown & set(expected), other


def test_the_summary_has_a_social_history_section_naming_each_answer(client, demo):
    patient = uid("patients", "wei")
    bundle = client.get(f"/fhir/Patient/{patient}/$summary", headers=portal_bearer(demo, patient)).get_json()
    sections = {s["code"]["coding"][0]["code"]: s for s in bundle["entry"][0]["resource"]["section"]}
    social = sections["29762-2"]
    assert social["title"] == "Social history"
    assert sorted(e["reference"] for e in social["entry"]) == [f"Observation/{i}" for i in social_ids("wei")]
    div = social["text"]["div"]
    assert "<td>Tobacco smoking status Never smoker</td>" in div
    assert "<td>History of Occupation Farm Worker [Farmworkers and Laborers, Crop]</td>" in div
    vitals = {e["reference"] for e in sections["8716-3"].get("entry", ())}
    assert not vitals & {e["reference"] for e in social["entry"]}


def test_a_chart_without_social_history_has_an_empty_section(client, demo):
    patient = uid("patients", "sofia")
    bundle = client.get(f"/fhir/Patient/{patient}/$summary", headers=portal_bearer(demo, patient)).get_json()
    [social] = [s for s in bundle["entry"][0]["resource"]["section"] if s["code"]["coding"][0]["code"] == "29762-2"]
    assert "entry" not in social
    assert "No social history is on file." in social["text"]["div"]


def _date(day):
    return (TODAY + dt.timedelta(days=day)).isoformat()


def test_social_history_is_a_record_section_of_its_own_after_vitals():
    slugs = [s.slug for s in all_sections()]
    assert slugs[slugs.index("vitals") + 1] == "social-history"
    [social] = [s for s in all_sections() if s.slug == "social-history"]
    assert (social.types, social.category, social.loinc, social.ips) == (
        ("Observation",),
        "social-history",
        "29762-2",
        True,
    )
