import pytest

from mappers import UnmappableValue
from mappers.condition import RESOURCE, to_fhir

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

FULL = dict(
    uid="dx-51",
    icd10_code="I10",
    snomed_code="59621000",
    description="Essential hypertension",
    category="problem-list-item",
    status="resolved",
    verification="confirmed",
    onset_date="2015-06-01",
    resolved_date="2020-01-01",
    recorded_at="2015-06-01T17:20:00Z",
    provider_id=2,
    note="Resolved after weight loss.",
    updated_at="2020-01-01T00:00:00Z",
)
SPARSE = dict(uid="dx-52", description="Knee pain")


def test_full_row(chart_row, ctx, validate, assert_searchable):
    condition = validate(to_fhir(chart_row("diagnoses", **FULL), ctx))

    assert condition["id"] == "dx-51"
    assert condition["meta"]["profile"] == [
        US_CORE + "us-core-condition",
        US_CORE + "us-core-condition-problems-health-concerns",
    ]
    assert condition["clinicalStatus"] == {"coding": [{"system": CLINICAL, "code": "resolved", "display": "Resolved"}]}
    assert condition["verificationStatus"] == {
        "coding": [{"system": VERIFICATION, "code": "confirmed", "display": "Confirmed"}]
    }
    assert condition["category"] == [
        {"coding": [{"system": CATEGORY, "code": "problem-list-item", "display": "Problem List Item"}]}
    ]
    assert condition["code"] == {
        "coding": [
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"},
            {"system": "http://snomed.info/sct", "code": "59621000"},
        ],
        "text": "Essential hypertension",
    }
    assert condition["subject"] == {"reference": "Patient/pat-7f3a"}
    assert condition["onsetDateTime"] == "2015-06-01"
    assert condition["abatementDateTime"] == "2020-01-01"
    assert condition["recordedDate"] == "2015-06-01T17:20:00Z"
    assert condition["recorder"] == condition["asserter"] == {"reference": "Practitioner/prac-9d0e"}
    assert condition["note"] == [{"text": "Resolved after weight loss."}]
    # The visit a diagnosis was made at is linked in the encounter tests (tests/mappers/test_encounter.py).
    assert_searchable(condition, RESOURCE, unindexed=("encounter",))


def test_sparse_row_uses_the_schema_defaults(chart_row, validate):
    condition = validate(to_fhir(chart_row("diagnoses", **SPARSE), {"patient": "pat-1"}))

    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert condition["code"] == {"text": "Knee pain"}
    for absent in ("onsetDateTime", "abatementDateTime", "recordedDate", "recorder", "asserter", "note"):
        assert absent not in condition


def test_entered_in_error_has_no_clinical_status(chart_row, ctx, validate):
    # R4 con-5, and con-4 then rules out the abatement too.
    condition = validate(to_fhir(chart_row("diagnoses", **{**FULL, "verification": "entered-in-error"}), ctx))
    assert "clinicalStatus" not in condition
    assert "abatementDateTime" not in condition
    assert condition["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def test_resolved_date_on_an_active_condition_is_not_an_abatement(chart_row, ctx):
    # R4 con-4: an abated condition must be inactive, resolved or in remission.
    condition = to_fhir(chart_row("diagnoses", **{**FULL, "status": "active"}), ctx)
    assert "abatementDateTime" not in condition


@pytest.mark.parametrize(
    "category, system, profile",
    [
        ("problem-list-item", CATEGORY, "us-core-condition-problems-health-concerns"),
        ("encounter-diagnosis", CATEGORY, "us-core-condition-encounter-diagnosis"),
        (
            "health-concern",
            "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
            "us-core-condition-problems-health-concerns",
        ),
    ],
)
def test_category_picks_system_and_6_1_profile(chart_row, ctx, validate, category, system, profile):
    condition = validate(to_fhir(chart_row("diagnoses", **{**SPARSE, "category": category}), ctx))
    assert condition["category"][0]["coding"][0]["system"] == system
    assert condition["category"][0]["coding"][0]["code"] == category
    assert condition["meta"]["profile"] == [US_CORE + "us-core-condition", US_CORE + profile]


@pytest.mark.parametrize(
    "charted, sent", [("E119", "E11.9"), ("e11.9", "E11.9"), ("I10", "I10"), ("S93401A", "S93.401A")]
)
def test_icd10_codes_are_sent_dotted(chart_row, ctx, charted, sent):
    condition = to_fhir(chart_row("diagnoses", **{**SPARSE, "icd10_code": charted}), ctx)
    assert condition["code"]["coding"][0]["code"] == sent


def test_unknown_status_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="clinicalStatus"):
        to_fhir(chart_row("diagnoses", **{**SPARSE, "status": "chronic"}), ctx)


def test_a_social_need_found_by_a_screening_is_an_sdoh_health_concern_citing_the_answer(chart_row, ctx, validate):
    from tests.profiles.validator import US_CORE as PACKAGES
    from tests.profiles.validator import Package, Validator

    row = chart_row(
        "diagnoses",
        uid="cond-food",
        snomed_code="733423003",
        description="Food insecurity",
        category="health-concern",
        assessment_category="sdoh",
        recorded_at="2024-05-02T14:30:00Z",
        screening_answer_id=7,
    )
    ctx["links"] = {"screening_answer_id": "ans-food"}
    resource = validate(to_fhir(row, ctx))
    assert resource["category"] == [
        {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
                    "code": "health-concern",
                    "display": "Health Concern",
                }
            ]
        },
        {
            "coding": [
                {"system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category", "code": "sdoh", "display": "SDOH"}
            ]
        },
    ]
    assert resource["evidence"] == [{"detail": [{"reference": "Observation/ans-food"}]}]
    for version in ("3.1.1", "6.1.0"):
        checker = Validator(Package.load(PACKAGES / version))
        for url in resource["meta"]["profile"]:
            if checker.package.profile(url):
                assert checker.validate(resource, url) == []


def test_an_assessment_category_outside_us_core_is_refused(chart_row, ctx):
    row = chart_row("diagnoses", uid="c", description="x", category="health-concern", assessment_category="mood")
    with pytest.raises(UnmappableValue, match="Condition.category: no FHIR code for chart value 'mood'"):
        to_fhir(row, ctx)
