"""US Core 6.1.0 simple observations (clinical_findings) on the demo: found by the Observation searches US Core
asks for (patient+category, +code, +date), linked to their visits, and absent from other categories' answers."""

import datetime as dt

import pytest

from fixtures.demo_practice import uid
from tests.conftest import TODAY

FHIR = "/fhir"
CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def pat(handle):
    return uid("patients", handle)


def ids(bundle):
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match")


def found(*handles):
    return sorted(uid("clinical_findings", handle) for handle in handles)


@pytest.fixture
def get(client, auth):
    def run(path, scope="system/*.rs", patient=None):
        response = client.get(f"{FHIR}/{path}", headers=auth(scope, patient))
        assert response.status_code == 200, response.get_json(force=True)
        return response.get_json(force=True)

    return run


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Observation?patient={james}&category=procedure", found("james:0")),
        ("Observation?patient={james}&category=exam", found("james:1")),
        ("Observation?patient=Patient/{thomas}&category=exam", found("thomas:0")),
        (
            "Observation?patient={thomas}&category=http://hl7.org/fhir/us/core/CodeSystem/us-core-category|cognitive-status",
            found("thomas:1"),
        ),
        ("Observation?patient={wei}&category=activity", found("wei:0")),
        ("Observation?patient={sofia}&code=http://loinc.org|19926-5", found("sofia:0")),
        ("Observation?patient={james}&code=8601-7", found("james:0")),
        ("Observation?patient={james}&category=procedure,exam&date=ge{visit}", found("james:0", "james:1")),
        ("Observation?patient={james}&category=procedure&date=lt{visit}", []),
        ("Observation?patient={maria}&category=procedure,exam,activity", []),
    ],
)
def test_searches(get, query, expected):
    handles = {h: pat(h) for h in ("james", "thomas", "wei", "sofia", "maria")}
    visit = (TODAY - dt.timedelta(days=30)).isoformat()  # James's atrial fibrillation follow-up
    assert ids(get(query.format(visit=visit, **handles))) == expected


def test_the_ecg_reads_as_simple_observation_and_clinical_result_at_its_visit(get):
    ecg = get(f"Observation/{uid('clinical_findings', 'james:0')}", "patient/*.rs", pat("james"))
    assert ecg["meta"]["profile"] == [CORE + "us-core-simple-observation", CORE + "us-core-observation-clinical-result"]
    assert ecg["valueCodeableConcept"]["text"] == "Atrial fibrillation"
    visit = get(ecg["encounter"]["reference"])
    assert (visit["resourceType"], visit["subject"]["reference"]) == ("Encounter", f"Patient/{pat('james')}")
