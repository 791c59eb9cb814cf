import pytest

from mappers.medication_statement import RESOURCE, to_fhir
from tests.mappers.test_medication_request import PRESCRIBED, REPORTED


def test_prescribed_row(chart_row, ctx, validate, assert_searchable):
    statement = validate(to_fhir(chart_row("medications", **{**PRESCRIBED, "end_date": "2024-02-01"}), ctx))

    assert statement["id"] == "med-31"
    assert "meta" not in statement  # US Core defines no MedicationStatement profile to claim
    assert statement["status"] == "active"
    assert statement["basedOn"] == [{"reference": "MedicationRequest/med-31"}]
    assert statement["medicationCodeableConcept"]["coding"] == [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "314076"}
    ]
    assert statement["subject"] == {"reference": "Patient/pat-7f3a"}
    assert statement["effectivePeriod"] == {"start": "2023-02-01", "end": "2024-02-01"}
    assert statement["dateAsserted"] == "2023-02-01T16:05:00Z"
    assert statement["informationSource"] == {"reference": "Practitioner/prac-9d0e"}
    assert statement["reasonCode"][0]["text"] == "Essential hypertension"
    assert statement["dosage"][0]["text"] == "Take 1 tablet by mouth once daily"
    assert statement["dosage"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    assert_searchable(statement, RESOURCE)


def test_start_date_alone_opens_a_period(chart_row, ctx):
    statement = to_fhir(chart_row("medications", **PRESCRIBED), ctx)
    assert statement["effectivePeriod"] == {"start": "2023-02-01"}
    assert "effectiveDateTime" not in statement


def test_reported_row_comes_from_the_patient(chart_row, validate):
    statement = validate(to_fhir(chart_row("medications", **REPORTED), {"patient": "pat-1", "provider": "prac-1"}))

    assert statement["informationSource"] == {"reference": "Patient/pat-1"}
    assert statement["medicationCodeableConcept"] == {"text": "Fish oil"}
    for absent in ("basedOn", "effectivePeriod", "dosage", "reasonCode", "dateAsserted"):
        assert absent not in statement


@pytest.mark.parametrize(
    "charted, sent",
    [
        ("active", "active"),
        ("completed", "completed"),
        ("discontinued", "stopped"),
        ("intended", "intended"),
        ("on-hold", "on-hold"),
        ("not-taken", "not-taken"),
        ("unknown", "unknown"),
    ],
)
def test_status(chart_row, ctx, charted, sent):
    assert to_fhir(chart_row("medications", **{**REPORTED, "status": charted}), ctx)["status"] == sent
