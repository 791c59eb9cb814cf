"""Search semantics per parameter type against the hand-made chart (tests/chart.py), with a system token."""

import pytest

FHIR = "/fhir"


@pytest.fixture
def find(chart_client, chart_auth):
    headers = chart_auth("system/*.rs")

    def run(path, expect=200, **kwargs):
        response = chart_client.get(f"{FHIR}/{path}", headers=headers, **kwargs)
        assert response.status_code == expect, response.get_json(force=True)
        return response.get_json(force=True)

    return run


def ids(bundle):
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Condition?patient=pat-1", ["dx-1", "dx-2", "dx-3"]),
        ("Condition?patient=Patient/pat-2", ["dx-4"]),
        ("Condition?patient=http://gateway.test/fhir/Patient/pat-2", ["dx-4"]),
        ("Condition?patient=pat-1,pat-2&code=E11.9", ["dx-1"]),
        ("Condition?subject=Patient/pat-2", ["dx-4"]),
        # token forms: code, system|code, |code (no system), system|
        ("Condition?code=http://snomed.info/sct|44054006", ["dx-1"]),
        ("Condition?code=http://hl7.org/fhir/sid/icd-10-cm|I10", ["dx-2"]),
        ("Condition?code=|44054006", []),
        ("Condition?code=http://snomed.info/sct|", ["dx-1", "dx-2", "dx-4"]),
        ("Condition?clinical-status=active,resolved&patient=pat-1", ["dx-1", "dx-2", "dx-3"]),
        ("Condition?clinical-status=resolved", ["dx-2"]),
        ("Condition?clinical-status:not=active", ["dx-2"]),
        ("Condition?category=health-concern", ["dx-3"]),
        (
            "Condition?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
            "&patient=pat-1",
            ["dx-1", "dx-2"],
        ),
        ("Condition?abatement-date:missing=true&patient=pat-1", ["dx-1", "dx-3"]),
        # dates: partial dates are ranges; prefixes; repetition is AND
        ("Condition?onset-date=2019", ["dx-1"]),
        ("Condition?onset-date=2019-03", ["dx-1"]),
        ("Condition?onset-date=2019-03-10", ["dx-1"]),
        ("Condition?onset-date=2019-03-11", []),
        ("Condition?onset-date=ne2019", ["dx-2", "dx-3", "dx-4"]),
        ("Condition?onset-date=gt2019-03-10", ["dx-3", "dx-4"]),
        ("Condition?onset-date=ge2019-03-10", ["dx-1", "dx-3", "dx-4"]),
        ("Condition?onset-date=lt2019-03-10", ["dx-2"]),
        ("Condition?onset-date=le2019-03-10", ["dx-1", "dx-2"]),
        ("Condition?onset-date=sa2021", ["dx-3"]),
        ("Condition?onset-date=eb2019", ["dx-2"]),
        ("Condition?onset-date=ge2015&onset-date=lt2020", ["dx-1", "dx-2"]),
        ("Condition?onset-date=2015,2023", ["dx-2", "dx-3"]),
        ("Condition?onset-date=2019-03-10T12:00:00Z", []),
        ("Observation?date=2024-01-15T09:00:00Z", ["obs-1", "obs-2"]),
        ("Observation?date=2024-01-15T04:00:00-05:00", ["obs-1", "obs-2"]),
        ("Appointment?date=ge2026-11-25&patient=pat-1", ["appt-2"]),
        ("Appointment?date=lt2026-11-25&patient=pat-1", ["appt-1"]),
        # strings: prefix, case- and accent-insensitive; :exact; :contains
        ("Patient?name=ramirez", ["pat-1"]),
        ("Patient?name=RAM", ["pat-1"]),
        ("Patient?family=Ramírez", ["pat-1"]),
        ("Patient?family:exact=Ramírez", ["pat-1"]),
        ("Patient?family:exact=ramirez", []),
        ("Patient?name:contains=mire", ["pat-1"]),
        ("Patient?name=jose,anna", ["pat-1", "pat-2"]),
        ("Patient?given=an", ["pat-2"]),
        ("Patient?address=spring", ["pat-1"]),
        # Patient demographics
        ("Patient?_id=pat-2", ["pat-2"]),
        ("Patient?_id=pat-1,pat-2,nope", ["pat-1", "pat-2"]),
        ("Patient?identifier=urn:oid:2.16.840.1.113883.3.9999.42|M002", ["pat-2"]),
        ("Patient?identifier=M001", ["pat-1"]),
        ("Patient?birthdate=1980", ["pat-1"]),
        ("Patient?birthdate=lt2000-01-01", ["pat-1"]),
        ("Patient?gender=female", ["pat-2"]),
        ("Patient?gender=male&birthdate=2015", []),
        ("Patient?general-practitioner=Practitioner/prac-1", ["pat-1", "pat-2"]),
        # Observation / DiagnosticReport: unshared results never appear
        ("Observation?patient=pat-1&category=laboratory", ["obs-1", "obs-2"]),
        ("Observation?patient=pat-1&code=http://loinc.org|4548-4", []),
        ("Observation?patient=pat-1&code=http://loinc.org|2345-7", ["obs-1"]),
        ("DiagnosticReport?patient=pat-1", ["lab-1"]),
        ("DiagnosticReport?result=Observation/obs-2", ["lab-1"]),
        ("Appointment?practitioner=prac-1&status=booked", ["appt-2"]),
        ("Appointment?actor=Patient/pat-1", ["appt-1", "appt-2"]),
        ("Condition?_lastUpdated=gt2000-01-01&patient=pat-2", ["dx-4"]),
        ("Condition?_lastUpdated=lt2000-01-01", []),
    ],
)
def test_search_semantics(find, query, expected):
    assert ids(find(query)) == expected


def test_bundle_shape(find):
    bundle = find("Condition?patient=pat-1")
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 3)
    assert bundle["link"][0] == {"relation": "self", "url": "http://gateway.test/fhir/Condition?patient=pat-1"}
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"http://gateway.test/fhir/Condition/{entry['resource']['id']}"
        assert entry["search"] == {"mode": "match"}


def test_paging_walks_every_match_once_and_past_the_end(find, chart_client, chart_auth):
    seen, url = [], "Condition?_count=1"
    while url:
        bundle = find(url)
        assert bundle["total"] == 4
        seen += ids(bundle)
        nexts = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = nexts[0].replace("http://gateway.test/fhir/", "") if nexts else None
    assert sorted(seen) == ["dx-1", "dx-2", "dx-3", "dx-4"]
    past = find("Condition?_count=2&_cursor=999999")
    assert past.get("entry") is None and past["total"] == 4


def test_paging_is_stable_when_rows_are_added_between_pages(chart_db_path, find):
    from gateway import store

    first = find("Condition?_count=2")
    next_url = [lk["url"] for lk in first["link"] if lk["relation"] == "next"][0]
    db = store.connect(chart_db_path)
    new_id = store.insert_rows(
        db, "diagnoses", [{"uid": "dx-new", "patient_id": 2, "description": "Otitis media", "icd10_code": "H66.90"}]
    )[0]
    try:
        second = find(next_url.replace("http://gateway.test/fhir/", ""))
        assert second["total"] == 4
        assert set(ids(first)) | set(ids(second)) == {"dx-1", "dx-2", "dx-3", "dx-4"}
        assert "dx-new" in ids(find("Condition?patient=pat-2"))
    finally:
        db.execute("DELETE FROM search_token WHERE pk IN (SELECT pk FROM resources WHERE id = 'dx-new')")
        db.execute("DELETE FROM search_date WHERE pk IN (SELECT pk FROM resources WHERE id = 'dx-new')")
        db.execute("DELETE FROM search_ref WHERE pk IN (SELECT pk FROM resources WHERE id = 'dx-new')")
        db.execute("DELETE FROM resources WHERE id = 'dx-new'")
        db.execute("DELETE FROM diagnoses WHERE id = ?", [new_id])


def test_summary_count_and_zero_count(find):
    bundle = find("Condition?_summary=count")
    assert bundle["total"] == 4 and "entry" not in bundle
    assert find("Condition?_count=0")["total"] == 4


def test_elements_subsets_and_tags(find):
    bundle = find("Condition?patient=pat-2&_elements=code")
    resource = bundle["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "code"}
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"} in resource[
        "meta"
    ]["tag"]


def test_include_and_revinclude(find):
    bundle = find("Appointment?patient=pat-1&_include=Appointment:practitioner")
    included = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert included == ["prac-1"]
    bundle = find("Observation?_id=obs-1&_revinclude=DiagnosticReport:result")
    assert [(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]] == [
        ("Observation", "match"),
        ("DiagnosticReport", "include"),
    ]


def test_unknown_parameter_is_reported_in_an_outcome_entry(find, chart_client, chart_auth):
    bundle = find("Condition?patient=pat-2&colour=blue")
    assert ids(bundle) == ["dx-4"]
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"][0]["resource"]
    assert "colour" in outcome["issue"][0]["diagnostics"]
    strict = chart_client.get(
        f"{FHIR}/Condition?colour=blue", headers={**chart_auth("system/*.rs"), "Prefer": "handling=strict"}
    )
    assert strict.status_code == 400


def test_post_search_matches_get(chart_client, chart_auth, find):
    response = chart_client.post(
        f"{FHIR}/Condition/_search", data={"patient": "pat-1", "code": "E11.9"}, headers=chart_auth("system/*.rs")
    )
    assert response.status_code == 200
    assert ids(response.get_json(force=True)) == ids(find("Condition?patient=pat-1&code=E11.9")) == ["dx-1"]


def test_post_search_refuses_other_bodies(chart_client, chart_auth):
    response = chart_client.post(
        f"{FHIR}/Condition/_search",
        data=b'{"patient": "x"}',
        headers={**chart_auth("system/*.rs"), "Content-Type": "application/json"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    "query",
    [
        "Condition?onset-date=2019-13",
        "Condition?_count=x",
        "Condition?patient=Patient/",
        "Condition?_include=Condition:code",
        "Condition?subject=pat-1",
    ],
)
def test_malformed_search_is_400_outcome(find, query):
    body = find(query, expect=400)
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "invalid"
