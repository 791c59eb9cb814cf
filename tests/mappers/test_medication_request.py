import pytest

from mappers import UnmappableValue
from mappers.medication_request import RESOURCE, to_fhir

DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UCUM = "http://unitsofmeasure.org"

PRESCRIBED = dict(
    uid="med-31",
    rxnorm_code="314076",
    name="lisinopril 10 MG Oral Tablet",
    sig="Take 1 tablet by mouth once daily",
    dose_value=10,
    dose_unit="mg",
    route="oral",
    status="active",
    source="prescribed",
    start_date="2023-02-01",
    end_date=None,
    prescribed_at="2023-02-01T16:05:00Z",
    provider_id=2,
    dispense_quantity=90,
    dispense_unit="{tablet}",
    refills=3,
    reason_icd10="I10",
    reason_text="Essential hypertension",
    updated_at="2023-02-01T16:05:00Z",
)
REPORTED = dict(uid="med-32", name="Fish oil", source="reported")


def test_prescribed_row(chart_row, ctx, validate, assert_searchable):
    request = validate(to_fhir(chart_row("medications", **PRESCRIBED), ctx))

    assert request["id"] == "med-31"
    assert request["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest"]
    assert request["status"] == "active"
    assert request["intent"] == "order"
    assert request["reportedBoolean"] is False
    assert request["category"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                    "code": "community",
                    "display": "Community",
                }
            ]
        }
    ]
    assert request["medicationCodeableConcept"] == {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "314076"}],
        "text": "lisinopril 10 MG Oral Tablet",
    }
    assert request["subject"] == {"reference": "Patient/pat-7f3a"}
    assert request["authoredOn"] == "2023-02-01T16:05:00Z"
    assert request["requester"] == {"reference": "Practitioner/prac-9d0e"}
    assert request["reasonCode"] == [
        {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}], "text": "Essential hypertension"}
    ]
    assert request["dosageInstruction"] == [
        {
            "text": "Take 1 tablet by mouth once daily",
            "route": {
                "coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}],
                "text": "oral",
            },
            "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }
    ]
    assert request["dispenseRequest"] == {
        "quantity": {"value": 90, "unit": "{tablet}", "system": UCUM, "code": "{tablet}"},
        "numberOfRepeatsAllowed": 3,
    }
    # medication: every request codes its medication inline, so nothing is indexed for it (the include adds none).
    # The visit a prescription was written at is linked in tests/mappers/test_encounter.py.
    assert_searchable(request, RESOURCE, unindexed=("medication", "encounter"))
    assert "medicationReference" not in request


def test_reported_row_is_a_plan_with_absent_author_and_date(chart_row, validate):
    request = validate(to_fhir(chart_row("medications", **REPORTED), {"patient": "pat-1", "provider": None}))

    assert request["intent"] == "plan"
    assert request["reportedBoolean"] is True
    assert request["medicationCodeableConcept"] == {"text": "Fish oil"}
    # US Core 3.1.1 requires requester and authoredOn; the chart has neither.
    absent = {"extension": [{"url": DAR, "valueCode": "unknown"}]}
    assert request["requester"] == absent
    assert request["_authoredOn"] == absent
    assert "authoredOn" not in request
    for missing in ("dosageInstruction", "dispenseRequest", "reasonCode"):
        assert missing not in request


def test_zero_refills_are_sent(chart_row, ctx):
    request = to_fhir(chart_row("medications", **{**PRESCRIBED, "refills": 0}), ctx)
    assert request["dispenseRequest"]["numberOfRepeatsAllowed"] == 0


def test_unknown_route_and_unit_stay_text(chart_row, ctx, validate):
    row = chart_row("medications", **{**PRESCRIBED, "route": "per G-tube", "dose_unit": "tablet"})
    dosage = validate(to_fhir(row, ctx))["dosageInstruction"][0]
    assert dosage["route"] == {"text": "per G-tube"}
    assert dosage["doseAndRate"] == [{"doseQuantity": {"value": 10, "unit": "tablet"}}]


@pytest.mark.parametrize(
    "charted, sent",
    [
        ("active", "active"),
        ("completed", "completed"),
        ("stopped", "stopped"),
        ("discontinued", "stopped"),
        ("on-hold", "on-hold"),
        ("entered-in-error", "entered-in-error"),
        ("intended", "draft"),
    ],
)
def test_status(chart_row, ctx, charted, sent):
    assert to_fhir(chart_row("medications", **{**PRESCRIBED, "status": charted}), ctx)["status"] == sent


def test_unknown_source_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="intent"):
        to_fhir(chart_row("medications", **{**PRESCRIBED, "source": "imported"}), ctx)


GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


@pytest.mark.parametrize(
    "charted, repeat",
    [
        ("BID", {"frequency": 2, "period": 1, "periodUnit": "d"}),
        ("q6h", {"frequency": 1, "period": 6, "periodUnit": "h"}),
        ("AM", {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]}),
        ("BED", {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}),
    ],
)
def test_coded_sig_frequency_is_the_dosage_timing(chart_row, ctx, validate, charted, repeat):
    # US Core 6.1.0 must-support dosageInstruction.timing; the code from R4's TimingAbbreviation (v3 GTS).
    row = chart_row("medications", **{**PRESCRIBED, "sig_frequency": charted})
    dosage = validate(to_fhir(row, ctx))["dosageInstruction"][0]
    assert dosage["timing"] == {"repeat": repeat, "code": {"coding": [{"system": GTS, "code": charted.upper()}]}}


def test_unknown_sig_frequency_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="'Q5X'"):
        to_fhir(chart_row("medications", **{**PRESCRIBED, "sig_frequency": "Q5X"}), ctx)


FORMULARY_ITEM = dict(uid="form-1", name="Hydrocortisone 1% / ketoconazole 2% compounded cream", status="active")


def test_formulary_prescription_references_its_medication(chart_row, ctx, validate):
    ctx["formulary"] = chart_row("formulary", **FORMULARY_ITEM)
    row = chart_row("medications", **{**PRESCRIBED, "formulary_id": 1, "rxnorm_code": None, "name": "HC/keto cream"})
    request = validate(to_fhir(row, ctx))

    # medication[x] is a choice: the reference replaces the inline code (US Core 6.1.0 MedicationRequest
    # "medication[x]": CodeableConcept or Reference(US Core Medication), both Must Support for a server).
    assert "medicationCodeableConcept" not in request
    assert request["medicationReference"] == {
        "reference": "Medication/form-1",
        "display": "Hydrocortisone 1% / ketoconazole 2% compounded cream",
    }
    assert RESOURCE.search_params[-1].paths == ("medicationReference",)
