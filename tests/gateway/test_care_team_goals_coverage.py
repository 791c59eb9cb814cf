"""RelatedPerson, CareTeam, Goal and Coverage on the demo charts: exact search results (US Core 6.1.0)."""

import pytest

from fixtures import demo_care
from fixtures.demo_data import PATIENTS
from fixtures.demo_practice import uid

FHIR = "/fhir"


def pat(handle):
    return uid("patients", handle)


def ids(bundle):
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match")


@pytest.fixture
def find(client, auth):
    headers = auth("system/*.rs")

    def run(path):
        response = client.get(f"{FHIR}/{path}", headers=headers)
        assert response.status_code == 200, response.get_json(force=True)
        return ids(response.get_json())

    return run


def goal(handle):
    return uid("goals", handle)


@pytest.mark.parametrize(
    "query, expected",
    [
        # Goal: patient (SHALL), + lifecycle-status, + target-date with comparators, + description
        (f"Goal?patient={pat('maria')}", [goal("maria:0"), goal("maria:1")]),
        (f"Goal?patient=Patient/{pat('wei')}&lifecycle-status=completed", [goal("wei:0")]),
        (f"Goal?patient={pat('wei')}&lifecycle-status=active", []),
        (f"Goal?patient={pat('maria')}&target-date=2027-01-24", [goal("maria:0")]),
        (f"Goal?patient={pat('maria')}&target-date=gt2027-01-24", [goal("maria:1")]),
        (f"Goal?patient={pat('maria')}&target-date=le2027-01-24", [goal("maria:0")]),
        (
            f"Goal?patient={pat('maria')}&target-date=ge2027-01-01&target-date=lt2027-05-01",
            sorted([goal("maria:0"), goal("maria:1")]),
        ),
        (f"Goal?patient={pat('maria')}&description=http://snomed.info/sct|289169006", [goal("maria:1")]),
        (f"Goal?patient={pat('david')}&description=160625004", [goal("david:0")]),
        # CareTeam: patient + status (SHALL), patient + role (SHOULD)
        (f"CareTeam?patient={pat('sofia')}&status=active", [uid("care_teams", "sofia")]),
        (f"CareTeam?patient={pat('sofia')}&status=inactive", []),
        (f"CareTeam?patient={pat('thomas')}&role=http://snomed.info/sct|133932002", [uid("care_teams", "thomas")]),
        (f"CareTeam?patient={pat('linh')}&role=133932002", []),
        # RelatedPerson: _id (SHALL), patient + name (SHOULD)
        (
            f"RelatedPerson?patient={pat('noah')}",
            sorted([uid("patient_contacts", "noah_father"), uid("patient_contacts", "noah_former_sitter")]),
        ),
        (f"RelatedPerson?patient={pat('noah')}&name=brooks", [uid("patient_contacts", "noah_father")]),
        (f"RelatedPerson?_id={uid('patient_contacts', 'sofia_mother')}", [uid("patient_contacts", "sofia_mother")]),
        # Coverage: patient (SHALL)
        (f"Coverage?patient={pat('sofia')}", [uid("insurance_policies", "sofia:0")]),
        (f"Coverage?patient={pat('linh')}", [uid("insurance_policies", "linh:0")]),
        (
            f"Coverage?patient=Patient/{pat('david_lakeside')}",
            [uid("insurance_policies", "david_lakeside:0"), uid("insurance_policies", "david_lakeside:1")],
        ),
    ],
)
def test_demo_searches(find, query, expected):
    assert find(query) == sorted(expected)


def test_sofias_care_team_lists_her_providers_and_her_mother(client, auth):
    team_id = uid("care_teams", "sofia")
    response = client.get(f"{FHIR}/CareTeam/{team_id}", headers=auth("system/*.rs"))
    team = response.get_json()
    assert [(p["member"]["reference"], p["role"][0]["coding"][0]["code"]) for p in team["participant"]] == [
        (f"Practitioner/{uid('providers', 'delgado')}", "446050000"),
        (f"Practitioner/{uid('providers', 'patel')}", "207Q00000X"),
        (f"RelatedPerson/{uid('patient_contacts', 'sofia_mother')}", "133932002"),
    ]
    assert team["subject"] == {"reference": f"Patient/{pat('sofia')}"}


def test_every_new_demo_resource_validates_and_claims_its_profile(demo):
    import orjson
    from fhir.resources.R4B import get_fhir_model_class

    counts = {}
    for rtype, profile in [
        ("RelatedPerson", "us-core-relatedperson"),
        ("CareTeam", "us-core-careteam|6.1.0"),
        ("Goal", "us-core-goal"),
        ("Coverage", "us-core-coverage"),
    ]:
        rows = demo.execute("SELECT json FROM resources WHERE type = ? AND deleted = 0", (rtype,)).fetchall()
        for (body,) in rows:
            resource = orjson.loads(body)
            get_fhir_model_class(rtype).model_validate(resource)
            assert resource["meta"]["profile"] == [f"http://hl7.org/fhir/us/core/StructureDefinition/{profile}"]
        counts[rtype] = len(rows)
    assert counts == {
        "RelatedPerson": len(demo_care.CONTACTS),
        "CareTeam": len(PATIENTS),
        "Goal": sum(len(goals) for goals in demo_care.GOALS.values()),
        "Coverage": sum(len(policies) for policies in demo_care.POLICIES.values()),
    }
