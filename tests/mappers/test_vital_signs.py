"""The vitals flowsheet as US Core vital-sign Observations: every profile's fixed LOINC code and UCUM unit
(checked against the US Core 6.1.0 StructureDefinitions in /work/shared/reference/us-core), components,
and the registry's second source for Observation."""

import json
from pathlib import Path

import pytest

from gateway.store.projection import types_of
from mappers import UnmappableValue, observation
from mappers.vital_signs import VITALS, to_fhir

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
BASE = "http://hl7.org/fhir/StructureDefinition/"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
REFERENCE = Path("/work/shared/reference/us-core/6.1.0")
# (LOINC, value, charted unit) -> (US Core profile, base FHIR profile, UCUM code)
SINGLE = [
    ("39156-5", 27.4, "kg/m2", "us-core-bmi", "bmi", "kg/m2"),
    ("8302-2", 172.5, "cm", "us-core-body-height", "bodyheight", "cm"),
    ("29463-7", 180.0, "lb", "us-core-body-weight", "bodyweight", "[lb_av]"),
    ("8310-5", 37.1, "Cel", "us-core-body-temperature", "bodytemp", "Cel"),
    ("8867-4", 72.0, "bpm", "us-core-heart-rate", "heartrate", "/min"),
    ("9279-1", 16.0, "/min", "us-core-respiratory-rate", "resprate", "/min"),
    ("9843-4", 44.2, "cm", "us-core-head-circumference", "headcircum", "cm"),
    ("8289-1", 62.0, "%", "head-occipital-frontal-circumference-percentile", None, "%"),
    ("59576-9", 71.0, "%", "pediatric-bmi-for-age", None, "%"),
    ("77606-2", 55.0, "%", "pediatric-weight-for-height", None, "%"),
]
VITAL_CATEGORY = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs",
                "display": "Vital Signs",
            }
        ]
    }
]


def row(chart_row, **values):
    return chart_row("vital_signs", uid="vs-1", taken_at="2024-03-04T10:15:00Z", **values)


def profile_fixes(name):
    """The fixed LOINC code of a 6.1.0 profile's Observation.code and its fixed valueQuantity.code, if any."""
    sd = json.loads((REFERENCE / f"StructureDefinition-{name}.json").read_text())
    loinc = unit = None
    for element in sd["differential"]["element"]:
        if element["id"] == "Observation.code" and "patternCodeableConcept" in element:
            loinc = element["patternCodeableConcept"]["coding"][0]["code"]
        if element["id"] == "Observation.valueQuantity.code":
            unit = element.get("fixedCode")
    return loinc, unit


@pytest.mark.parametrize("loinc, value, unit, profile, base, ucum", SINGLE)
def test_each_measure_carries_its_profile_code_and_unit(
    chart_row, ctx, validate, loinc, value, unit, profile, base, ucum
):
    resource = validate(to_fhir(row(chart_row, loinc_code=loinc, value_num=value, unit=unit, provider_id=2), ctx))
    claimed = [US_CORE + profile, US_CORE + "us-core-vital-signs", BASE + "vitalsigns"]
    assert resource["meta"]["profile"] == claimed + ([BASE + base] if base else [])
    assert resource["category"] == VITAL_CATEGORY
    assert resource["code"] == {
        "coding": [{"system": LOINC, "code": loinc, "display": VITALS[loinc].display}],
        "text": VITALS[loinc].display,
    }
    assert resource["valueQuantity"] == {"value": value, "unit": unit, "system": UCUM, "code": ucum}
    assert resource["effectiveDateTime"] == "2024-03-04T10:15:00Z"
    assert resource["subject"] == {"reference": "Patient/pat-7f3a"}
    assert resource["performer"] == [{"reference": "Practitioner/prac-9d0e"}]
    fixed_loinc, fixed_unit = profile_fixes(profile)
    assert fixed_loinc == loinc
    assert fixed_unit in (None, ucum)


def test_blood_pressure_has_systolic_and_diastolic_components(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, loinc_code="85354-9", systolic=128, diastolic=82), ctx))
    assert resource["meta"]["profile"][0] == US_CORE + "us-core-blood-pressure"
    assert resource["meta"]["profile"][-1] == BASE + "bp"
    assert "valueQuantity" not in resource
    assert resource["component"] == [
        {
            "code": {
                "coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}],
                "text": "Systolic blood pressure",
            },
            "valueQuantity": {"value": 128, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"},
        },
        {
            "code": {
                "coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}],
                "text": "Diastolic blood pressure",
            },
            "valueQuantity": {"value": 82, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"},
        },
    ]


def test_a_missing_diastolic_reading_has_a_data_absent_reason(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, loinc_code="85354-9", systolic=140, not_taken_reason="declined"), ctx))
    assert resource["component"][1]["dataAbsentReason"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": "asked-declined",
                "display": "Asked But Declined",
            }
        ]
    }
    assert "valueQuantity" not in resource["component"][1]


def test_average_blood_pressure_spans_a_period(chart_row, ctx, validate):
    resource = validate(
        to_fhir(
            row(chart_row, loinc_code="96607-7", taken_until="2024-03-07T20:00:00Z", systolic=131, diastolic=84), ctx
        )
    )
    assert resource["meta"]["profile"] == [
        US_CORE + "us-core-average-blood-pressure|7.0.0",
        US_CORE + "us-core-vital-signs",
        BASE + "vitalsigns",
    ]
    assert resource["effectivePeriod"] == {"start": "2024-03-04T10:15:00Z", "end": "2024-03-07T20:00:00Z"}
    assert "effectiveDateTime" not in resource
    assert [c["code"]["coding"][0]["code"] for c in resource["component"]] == ["96608-5", "96609-3"]
    assert [c["valueQuantity"]["value"] for c in resource["component"]] == [131, 84]


def test_pulse_oximetry_has_both_codes_and_inhaled_oxygen_components(chart_row, ctx, validate):
    resource = validate(
        to_fhir(
            row(chart_row, loinc_code="59408-5", value_num=94, unit="%", o2_flow_rate=2, o2_concentration=28),
            ctx,
        )
    )
    assert resource["meta"]["profile"] == [
        US_CORE + "us-core-pulse-oximetry",
        US_CORE + "us-core-vital-signs",
        BASE + "vitalsigns",
        BASE + "oxygensat",
    ]
    assert [(c["system"], c["code"]) for c in resource["code"]["coding"]] == [(LOINC, "59408-5"), (LOINC, "2708-6")]
    assert resource["valueQuantity"] == {"value": 94, "unit": "%", "system": UCUM, "code": "%"}
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]) for c in resource["component"]] == [
        ("3151-8", {"value": 2, "unit": "L/min", "system": UCUM, "code": "L/min"}),
        ("3150-0", {"value": 28, "unit": "%", "system": UCUM, "code": "%"}),
    ]


def test_pulse_oximetry_on_room_air_has_no_components(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, loinc_code="59408-5", value_num=98, unit="%"), ctx))
    assert "component" not in resource


def test_a_measure_not_taken_has_a_data_absent_reason(chart_row, ctx, validate):
    resource = validate(to_fhir(row(chart_row, loinc_code="29463-7", not_taken_reason="Not done"), ctx))
    assert "valueQuantity" not in resource
    assert resource["dataAbsentReason"]["coding"][0]["code"] == "not-performed"


@pytest.mark.parametrize(
    "values, message",
    [
        (
            dict(loinc_code="2345-7", value_num=1, unit="mg/dL"),
            "Observation.code: '2345-7' is not a US Core vital sign",
        ),
        (dict(loinc_code="8867-4", value_num=72, unit="%"), "Observation.valueQuantity: us-core-heart-rate takes /min"),
        (
            dict(loinc_code="8310-5", value_num=37, unit="degrees"),
            "Observation.valueQuantity: 'degrees' is not a UCUM unit",
        ),
        (dict(loinc_code="8867-4", status="guessed", value_num=72, unit="/min"), "Observation.status: no FHIR code"),
        (dict(loinc_code="8867-4", not_taken_reason="forgot"), "Observation.dataAbsentReason: no code for 'forgot'"),
    ],
)
def test_a_row_no_profile_allows_is_refused_by_name(chart_row, ctx, values, message):
    with pytest.raises(UnmappableValue) as caught:
        to_fhir(row(chart_row, **values), ctx)
    assert str(caught.value).startswith(message)


def test_every_profile_is_listed_on_observation():
    assert set(observation.RESOURCE.profiles) >= {US_CORE + v.profile for v in VITALS.values()}
    assert len(VITALS) == 13


def test_vital_signs_rows_are_a_second_source_of_observation():
    assert observation.RESOURCE.tables == (
        "lab_observations",
        "vital_signs",
        "social_history",
        "clinical_findings",
        "screenings",
        "screening_answers",
    )
    assert observation.RESOURCE.mapper("vital_signs") is to_fhir
    assert observation.RESOURCE.mapper("lab_observations") is observation.to_fhir
    assert [rt.name for rt in types_of("vital_signs")] == ["Observation"]
    with pytest.raises(KeyError):
        observation.RESOURCE.mapper("diagnoses")
