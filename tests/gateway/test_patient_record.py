"""One record, many doors: $everything's care-date range, $summary (IPS), and the access check behind both."""

import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle

from fixtures.demo_practice import uid
from mappers import REGISTRY

MARIA, KEALA = uid("patients", "maria"), uid("patients", "keala")


def _bounds(value):
    """The [low, high) days a FHIR date, dateTime or Period covers (open ends far away)."""
    if isinstance(value, dict):
        low = _bounds(value["start"])[0] if value.get("start") else dt.date.min
        high = _bounds(value["end"])[1] if value.get("end") else dt.date.max
        return low, high
    day = dt.date.fromisoformat(value[:10])
    return day, day + dt.timedelta(days=1)


def care_date(resource):
    """The care date of a resource, read straight from its JSON (not through the search index)."""
    if resource["resourceType"] == "Goal":  # care_date "target-date": the goal's due date
        due = [t["dueDate"] for t in resource.get("target", ()) if "dueDate" in t]
        return _bounds(due[0]) if due else None
    if resource["resourceType"] == "DocumentReference":  # care_date "date": when the note was signed
        return _bounds(resource["date"]) if "date" in resource else None
    for key in (
        "onsetDateTime",
        "authoredOn",
        "authored",  # a QuestionnaireResponse's
        "effectivePeriod",
        "effectiveDateTime",
        "occurrenceDateTime",
        "performedDateTime",
        "performedPeriod",
        "period",
        "whenHandedOver",
        "start",
    ):
        if key in resource:
            return _bounds(resource[key])
    if "collectedDateTime" in resource.get("collection", {}):  # a Specimen's
        return _bounds(resource["collection"]["collectedDateTime"])
    return None


def everything(client, headers, query=""):
    response = client.get(f"/fhir/Patient/{MARIA}/$everything{query}", headers=headers)
    assert response.status_code == 200, response.get_json(force=True)
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in response.get_json(force=True)["entry"]
    }


@pytest.mark.parametrize(
    "start,end",
    [("2026-01-01", "2026-06-30"), ("2026-10-16", "2026-10-16"), ("2020-01-01", None), (None, "2019-12-31")],
)
def test_everything_date_range_keeps_exactly_the_care_in_the_range(client, auth, start, end):
    headers = auth("patient/*.rs", MARIA)
    whole = everything(client, headers)
    query = "?" + "&".join(f"{k}={v}" for k, v in (("start", start), ("end", end)) if v)
    part = everything(client, headers, query)
    low = dt.date.fromisoformat(start) if start else dt.date.min
    high = dt.date.fromisoformat(end) + dt.timedelta(days=1) if end else dt.date.max
    for key, resource in whole.items():
        rtype = key.split("/")[0]
        if not REGISTRY[rtype].care_date:
            assert key in part, key  # the profile, allergies and the people and places always come along
            continue
        span = care_date(resource)
        inside = span is not None and span[0] < high and span[1] > low
        assert (key in part) == inside, (key, span)
    assert set(part) <= set(whole)


def test_everything_refuses_a_malformed_date(client, auth):
    response = client.get(f"/fhir/Patient/{MARIA}/$everything?start=last-week", headers=auth("patient/*.rs", MARIA))
    assert response.status_code == 400
    assert response.get_json(force=True)["resourceType"] == "OperationOutcome"


def test_summary_is_a_valid_ips_document(client, auth):
    response = client.get(f"/fhir/Patient/{MARIA}/$summary", headers=auth("patient/*.rs", MARIA))
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    body = response.get_json(force=True)
    Bundle.model_validate(body)
    assert body["type"] == "document" and body["identifier"]["value"].startswith("urn:uuid:")
    composition = body["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    assert composition["subject"] == {"reference": f"Patient/{MARIA}"}
    codes = [s["code"]["coding"][0]["code"] for s in composition["section"]]
    assert {"11450-4", "10160-0", "48765-2", "11369-6", "47519-4", "18776-5", "30954-2"} <= set(codes)
    assert "46240-8" not in codes  # Visits: the IPS defines no encounters section
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in body["entry"]}
    for section in composition["section"]:
        assert section["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        assert section.get("entry") or section.get("emptyReason")
        for ref in section.get("entry", ()):
            assert ref["reference"] in present
    assert f"Organization/{uid('practices', 'sunrise')}" in present


def test_summary_of_someone_else_is_not_found(client, auth):
    response = client.get(f"/fhir/Patient/{KEALA}/$summary", headers=auth("patient/*.rs", MARIA))
    assert response.status_code == 404
    assert client.get(f"/fhir/Patient/{MARIA}/$summary").status_code == 401


def test_summary_holds_to_the_token_scopes(client, auth):
    body = client.get(
        f"/fhir/Patient/{MARIA}/$summary", headers=auth("patient/Patient.rs patient/Condition.rs", MARIA)
    ).get_json(force=True)
    types = {e["resource"]["resourceType"] for e in body["entry"]}
    assert types == {"Composition", "Patient", "Condition"}
    sections = {s["title"]: s for s in body["entry"][0]["resource"]["section"]}
    assert sections["Diagnoses"]["entry"] and "emptyReason" in sections["Medications"]


def test_capability_statement_declares_summary(client):
    body = client.get("/fhir/metadata").get_json(force=True)
    patient = next(r for r in body["rest"][0]["resource"] if r["type"] == "Patient")
    assert {"everything", "summary"} <= {op["name"] for op in patient["operation"]}
