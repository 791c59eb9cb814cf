"""The social history form as US Core social-history Observations: each question's profile and fixed LOINC
code (checked against the US Core 6.1.0 StructureDefinitions in /work/shared/reference/us-core), smoking
status as US Core 3.1.1 also reads it, occupation's industry component, and answers declined."""

import json
from pathlib import Path

import pytest

from gateway.store.projection import types_of
from mappers import UnmappableValue, observation
from mappers.social_history import QUESTIONS, to_fhir

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ODH = "urn:oid:2.16.840.1.114222.4.5.327"
REFERENCE = Path("/work/shared/reference/us-core")
SOCIAL = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "social-history",
                "display": "Social History",
            }
        ]
    }
]


def row(chart_row, **values):
    values.setdefault("recorded_at", "2024-03-04T10:15:00Z")
    return chart_row("social_history", uid="sh-1", provider_id=2, **values)


def fixed_code(version, profile):
    """The LOINC code a profile fixes on Observation.code (pattern), or None."""
    sd = json.loads((REFERENCE / version / f"StructureDefinition-{profile}.json").read_text())
    for element in sd["differential"]["element"]:
        if element["id"] == "Observation.code" and "patternCodeableConcept" in element:
            return element["patternCodeableConcept"]["coding"][0]["code"]
    return None


def test_smoking_status_is_the_72166_2_observation_both_versions_read(chart_row, ctx, validate):
    resource = validate(
        to_fhir(row(chart_row, kind="tobacco", answer_code="449868002", answer_text="Current every day smoker"), ctx)
    )
    assert resource == {
        "resourceType": "Observation",
        "id": "sh-1",
        "meta": {"profile": [US_CORE + "us-core-smokingstatus"]},
        "status": "final",
        "category": SOCIAL,
        "code": {
            "coding": [{"system": LOINC, "code": "72166-2", "display": "Tobacco smoking status"}],
            "text": "Tobacco smoking status",
        },
        "subject": {"reference": "Patient/pat-7f3a"},
        "effectiveDateTime": "2024-03-04T10:15:00Z",
        "issued": "2024-03-04T10:15:00Z",
        "performer": [{"reference": "Practitioner/prac-9d0e"}],
        "valueCodeableConcept": {
            "coding": [{"system": SNOMED, "code": "449868002", "display": "Current every day smoker"}],
            "text": "Current every day smoker",
        },
    }
    # 6.1.0 binds code (extensible) to a one-code value set; 3.1.1 requires issued, 6.1.0 effectiveDateTime.
    for version in ("3.1.1", "6.1.0"):
        vs = json.loads((REFERENCE / version / "ValueSet-us-core-smoking-status-observation-codes.json").read_text())
        assert vs["compose"]["include"][0]["concept"][0]["code"] == "72166-2"


@pytest.mark.parametrize(
    "kind, code, answer, text",
    [
        ("pregnancy_status", "82810-3", "77386006", "Pregnant"),
        ("pregnancy_intent", "86645-9", "454401000124105", "No desire to become pregnant"),
        ("sexual_orientation", "76690-7", "20430005", "Heterosexual"),
    ],
)
def test_each_question_carries_its_profile_and_fixed_loinc_code(chart_row, ctx, validate, kind, code, answer, text):
    resource = validate(to_fhir(row(chart_row, kind=kind, answer_code=answer, answer_text=text), ctx))
    question = QUESTIONS[kind]
    assert resource["meta"] == {"profile": [US_CORE + question.profile]}
    assert fixed_code("6.1.0", question.profile) == code
    assert resource["code"]["coding"] == [{"system": LOINC, "code": code, "display": question.display}]
    assert resource["category"] == SOCIAL
    assert resource["effectiveDateTime"] == "2024-03-04T10:15:00Z"
    assert "issued" not in resource
    assert resource["valueCodeableConcept"] == {
        "coding": [{"system": SNOMED, "code": answer, "display": text}],
        "text": text,
    }


def test_occupation_has_its_period_and_industry_component(chart_row, ctx, validate):
    values = dict(
        kind="occupation",
        answer_code="31-1014.00.007136",
        answer_text="Certified Nursing Assistant",
        industry_code="623110.000000",
        industry_text="Nursing care facilities",
        period_start="2019-06-01",
    )
    resource = validate(to_fhir(row(chart_row, **values), ctx))
    assert fixed_code("6.1.0", "us-core-observation-occupation") == "11341-5"
    assert resource["code"]["coding"] == [{"system": LOINC, "code": "11341-5", "display": "History of Occupation"}]
    assert resource["effectivePeriod"] == {"start": "2019-06-01"}
    assert "effectiveDateTime" not in resource
    assert resource["valueCodeableConcept"] == {
        "coding": [{"system": ODH, "code": "31-1014.00.007136", "display": "Certified Nursing Assistant"}],
        "text": "Certified Nursing Assistant",
    }
    assert resource["component"] == [
        {
            "code": {
                "coding": [{"system": LOINC, "code": "86188-0", "display": "History of Occupation industry"}],
                "text": "History of Occupation industry",
            },
            "valueCodeableConcept": {
                "coding": [{"system": ODH, "code": "623110.000000", "display": "Nursing care facilities"}],
                "text": "Nursing care facilities",
            },
        }
    ]


def test_an_occupation_without_industry_or_period_is_dated_when_charted(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, kind="occupation", answer_text="Retired teacher"), ctx))
    assert resource["effectiveDateTime"] == "2024-03-04T10:15:00Z"
    assert resource["valueCodeableConcept"] == {"text": "Retired teacher"}
    assert "component" not in resource


def test_a_sexual_orientation_declined_has_a_data_absent_reason(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, kind="sexual_orientation", absent_reason="declined"), ctx))
    assert "valueCodeableConcept" not in resource
    assert resource["dataAbsentReason"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": "asked-declined",
                "display": "Asked But Declined",
            }
        ]
    }


def test_a_null_flavor_answer_keeps_its_own_system(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, kind="pregnancy_status", answer_code="UNK"), ctx))
    assert resource["valueCodeableConcept"] == {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "code": "UNK", "display": "Unknown"}
        ],
        "text": "Unknown",
    }


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(kind="diet", answer_text="Vegan"), "Observation.code: 'diet' is not a social history question"),
        (dict(kind="tobacco", answer_code="8517006", status="amended"), "Observation.status: no FHIR code"),
        (dict(kind="tobacco"), "Observation.value[x]: a tobacco row needs an answer"),
        (dict(kind="pregnancy_status", absent_reason="declined"), "Observation.value[x]: a pregnancy_status row"),
        (dict(kind="sexual_orientation", absent_reason="shrug"), "Observation.dataAbsentReason: no FHIR code"),
    ],
)
def test_a_row_no_profile_allows_is_refused_by_name(chart_row, ctx, values, message):
    with pytest.raises(UnmappableValue) as caught:
        to_fhir(row(chart_row, **values), ctx)
    assert str(caught.value).startswith(message)


def test_social_history_rows_are_a_further_source_of_observation():
    assert observation.RESOURCE.mapper("social_history") is to_fhir
    assert [rt.name for rt in types_of("social_history")] == ["Observation"]
    assert set(observation.RESOURCE.profiles) >= {US_CORE + q.profile for q in QUESTIONS.values()}
