import pytest

from mappers.observation import RESOURCE, to_fhir

UCUM = "http://unitsofmeasure.org"
DAR_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
REPORT = dict(
    uid="lab-1",
    panel_loinc="24323-8",
    panel_name="Comprehensive metabolic panel",
    collected_at="2024-01-15T09:00:00Z",
    reported_at="2024-01-15T15:00:00Z",
    performing_lab="Quest Diagnostics",
    shared_with_patient=1,
    provider_id=2,
)
FULL = dict(
    uid="obs-1",
    lab_result_id=1,
    loinc_code="2345-7",
    name="Glucose [Mass/volume] in Serum or Plasma",
    value_num=130,
    unit="mg/dL",
    ref_low=70,
    ref_high=99,
    ref_text="70-99 mg/dL",
    interpretation="H",
    status="final",
    note="Non-fasting specimen.",
    updated_at="2024-01-15T15:00:00Z",
)
SPARSE = dict(uid="obs-2", lab_result_id=1, loinc_code="5778-6", name="Color of Urine")


@pytest.fixture
def lab_ctx(ctx, chart_row):
    return {**ctx, "report": chart_row("lab_results", **REPORT)}


def test_full_row(chart_row, lab_ctx, validate, assert_searchable):
    observation = validate(to_fhir(chart_row("lab_observations", **FULL), lab_ctx))

    assert observation["id"] == "obs-1"
    assert observation["meta"]["profile"] == [
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-clinical-result",
    ]
    assert observation["status"] == "final"
    assert observation["category"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "laboratory",
                    "display": "Laboratory",
                }
            ]
        }
    ]
    assert observation["code"] == {
        "coding": [{"system": "http://loinc.org", "code": "2345-7"}],
        "text": "Glucose [Mass/volume] in Serum or Plasma",
    }
    assert observation["subject"] == {"reference": "Patient/pat-7f3a"}
    assert observation["effectiveDateTime"] == "2024-01-15T09:00:00Z"
    assert observation["issued"] == "2024-01-15T15:00:00Z"
    assert observation["performer"] == [
        {"reference": "Practitioner/prac-9d0e"},
        {"type": "Organization", "display": "Quest Diagnostics"},
    ]
    assert observation["valueQuantity"] == {"value": 130, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}
    assert observation["interpretation"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                    "code": "H",
                    "display": "High",
                }
            ]
        }
    ]
    assert observation["referenceRange"] == [
        {
            "low": {"value": 70, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"},
            "high": {"value": 99, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"},
            "text": "70-99 mg/dL",
        }
    ]
    assert observation["note"] == [{"text": "Non-fasting specimen."}]
    assert "dataAbsentReason" not in observation
    assert_searchable(observation, RESOURCE)


def test_unshared_report_is_not_projected(chart_row, ctx):
    unshared = {**ctx, "report": chart_row("lab_results", **{**REPORT, "shared_with_patient": 0})}
    assert to_fhir(chart_row("lab_observations", **FULL), unshared) is None


def test_text_value(chart_row, lab_ctx, validate):
    observation = validate(to_fhir(chart_row("lab_observations", **{**SPARSE, "value_text": "Yellow"}), lab_ctx))
    assert observation["valueString"] == "Yellow"
    for absent in ("valueQuantity", "dataAbsentReason", "referenceRange", "interpretation", "note"):
        assert absent not in observation


@pytest.mark.parametrize(
    "status, reason, display", [("final", "unknown", "Unknown"), ("cancelled", "not-performed", "Not Performed")]
)
def test_missing_value_has_a_data_absent_reason(chart_row, lab_ctx, validate, status, reason, display):
    observation = validate(to_fhir(chart_row("lab_observations", **{**SPARSE, "status": status}), lab_ctx))
    assert observation["dataAbsentReason"] == {"coding": [{"system": DAR_SYSTEM, "code": reason, "display": display}]}


def test_coded_value_is_a_snomed_codeable_concept(chart_row, lab_ctx, validate):
    # US Core 6.1.0 us-core-observation-lab value[x]: Quantity, CodeableConcept (SNOMED CT preferred) or string.
    row = chart_row("lab_observations", **{**SPARSE, "value_code": "260385009", "value_text": "Negative"})
    observation = validate(to_fhir(row, lab_ctx))
    assert observation["valueCodeableConcept"] == {
        "coding": [{"system": "http://snomed.info/sct", "code": "260385009", "display": "Negative"}],
        "text": "Negative",
    }
    for absent in ("valueQuantity", "valueString", "dataAbsentReason"):
        assert absent not in observation


def test_zero_is_a_value(chart_row, lab_ctx):
    observation = to_fhir(chart_row("lab_observations", **{**FULL, "value_num": 0, "ref_low": 0}), lab_ctx)
    assert observation["valueQuantity"]["value"] == 0
    assert observation["referenceRange"][0]["low"]["value"] == 0


def test_charted_unit_is_translated_to_ucum(chart_row, lab_ctx, validate):
    row = chart_row("lab_observations", **{**FULL, "unit": "x10^3/uL", "value_num": 6.8})
    value = validate(to_fhir(row, lab_ctx))["valueQuantity"]
    assert value == {"value": 6.8, "unit": "x10^3/uL", "system": UCUM, "code": "10*3/uL"}


def test_unit_that_is_not_ucum_has_no_code(chart_row, lab_ctx, validate):
    row = chart_row("lab_observations", **{**FULL, "unit": "cells/hpf"})
    assert validate(to_fhir(row, lab_ctx))["valueQuantity"] == {"value": 130, "unit": "cells/hpf"}


def test_report_without_lab_or_release_time(chart_row, validate):
    report = chart_row("lab_results", **{**REPORT, "reported_at": None, "performing_lab": None, "provider_id": None})
    observation = validate(to_fhir(chart_row("lab_observations", **FULL), {"patient": "pat-1", "report": report}))
    assert "issued" not in observation and "performer" not in observation


def test_a_result_is_based_on_its_order_and_names_its_specimen(chart_row, lab_ctx, validate):
    links = {"order_id": "ord-1", "specimen_id": "spec-1"}
    observation = validate(to_fhir(chart_row("lab_observations", **FULL), {**lab_ctx, "links": links}))

    assert observation["basedOn"] == [{"reference": "ServiceRequest/ord-1"}]
    assert observation["specimen"] == {"reference": "Specimen/spec-1"}


def test_without_an_order_or_specimen_neither_is_sent(chart_row, lab_ctx):
    observation = to_fhir(chart_row("lab_observations", **FULL), {**lab_ctx, "links": {}})

    assert ("basedOn" in observation, "specimen" in observation) == (False, False)


def test_a_range_for_an_age_band_and_sex_says_whom_it_applies_to(chart_row, lab_ctx, validate):
    # R4 Observation.referenceRange.age (a Range of ages, UCUM "a") and appliesTo (referencerange-appliesto:
    # SNOMED CT 248152002 Female, 248153007 Male): the range the lab used for this patient, and for whom.
    row = {**FULL, "loinc_code": "718-7", "unit": "g/dL", "ref_low": 12.0, "ref_high": 16.0, "ref_text": None}
    row.update(ref_age_low=12, ref_age_high=17, ref_sex="F")
    [found] = validate(to_fhir(chart_row("lab_observations", **row), lab_ctx))["referenceRange"]
    assert found["age"] == {
        "low": {"value": 12, "unit": "years", "system": UCUM, "code": "a"},
        "high": {"value": 17, "unit": "years", "system": UCUM, "code": "a"},
    }
    assert found["appliesTo"] == [
        {"coding": [{"system": "http://snomed.info/sct", "code": "248152002", "display": "Female"}], "text": "Female"}
    ]


def test_an_open_ended_adult_band_has_only_a_low_age_and_no_band_means_everyone(chart_row, lab_ctx):
    adult = {**FULL, "ref_age_low": 18, "ref_age_high": None, "ref_sex": "M"}
    [found] = to_fhir(chart_row("lab_observations", **adult), lab_ctx)["referenceRange"]
    assert found["age"] == {"low": {"value": 18, "unit": "years", "system": UCUM, "code": "a"}}
    assert found["appliesTo"][0]["coding"][0]["code"] == "248153007"
    [anyone] = to_fhir(chart_row("lab_observations", **FULL), lab_ctx)["referenceRange"]
    assert "age" not in anyone and "appliesTo" not in anyone
