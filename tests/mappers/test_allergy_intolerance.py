import pytest

from mappers.allergy_intolerance import RESOURCE, to_fhir

CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"

FULL = dict(
    uid="alg-4",
    substance_system="rxnorm",
    substance_code="7984",
    substance_name="Penicillin V",
    category="medication",
    criticality="high",
    reaction_snomed="39579001",
    reaction_name="Anaphylaxis",
    severity="severe",
    status="active",
    verification="confirmed",
    onset_date="2009-04-01",
    recorded_at="2019-06-11T18:00:00Z",
    provider_id=2,
    updated_at="2019-06-11T18:00:00Z",
)
NO_KNOWN_ALLERGY = dict(
    uid="alg-5", substance_system="snomed", substance_code="716186003", substance_name="No known allergy"
)


def test_full_row(chart_row, ctx, validate, assert_searchable):
    allergy = validate(to_fhir(chart_row("allergies", **FULL), ctx))

    assert allergy["id"] == "alg-4"
    assert allergy["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-allergyintolerance"]
    assert allergy["clinicalStatus"] == {"coding": [{"system": CLINICAL, "code": "active", "display": "Active"}]}
    assert allergy["verificationStatus"] == {
        "coding": [{"system": VERIFICATION, "code": "confirmed", "display": "Confirmed"}]
    }
    assert allergy["type"] == "allergy"
    assert allergy["category"] == ["medication"]
    assert allergy["criticality"] == "high"
    assert allergy["code"] == {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7984"}],
        "text": "Penicillin V",
    }
    assert allergy["patient"] == {"reference": "Patient/pat-7f3a"}
    assert allergy["onsetDateTime"] == "2009-04-01"
    assert allergy["recordedDate"] == "2019-06-11T18:00:00Z"
    assert allergy["recorder"] == {"reference": "Practitioner/prac-9d0e"}
    assert allergy["reaction"] == [
        {
            "manifestation": [
                {"coding": [{"system": "http://snomed.info/sct", "code": "39579001"}], "text": "Anaphylaxis"}
            ],
            "severity": "severe",
        }
    ]
    assert_searchable(allergy, RESOURCE)


def test_no_known_allergy_row(chart_row, validate):
    allergy = validate(to_fhir(chart_row("allergies", **NO_KNOWN_ALLERGY), {"patient": "pat-1"}))

    assert allergy["code"] == {
        "coding": [{"system": "http://snomed.info/sct", "code": "716186003"}],
        "text": "No known allergy",
    }
    assert allergy["clinicalStatus"]["coding"][0]["code"] == "active"
    for absent in ("category", "criticality", "reaction", "onsetDateTime", "recordedDate", "recorder"):
        assert absent not in allergy


def test_entered_in_error_has_no_clinical_status(chart_row, ctx, validate):
    allergy = validate(to_fhir(chart_row("allergies", **{**FULL, "verification": "entered-in-error"}), ctx))
    assert "clinicalStatus" not in allergy  # R4 ait-2


def test_refuted_keeps_its_clinical_status(chart_row, ctx):
    allergy = to_fhir(chart_row("allergies", **{**FULL, "verification": "refuted", "status": "inactive"}), ctx)
    # R4 ait-1 requires clinicalStatus unless the entry is entered-in-error.
    assert allergy["clinicalStatus"]["coding"][0]["code"] == "inactive"
    assert allergy["verificationStatus"]["coding"][0]["code"] == "refuted"


@pytest.mark.parametrize(
    "charted, system",
    [
        ("rxnorm", "http://www.nlm.nih.gov/research/umls/rxnorm"),
        ("snomed", "http://snomed.info/sct"),
        ("unii", "http://fdasis.nlm.nih.gov"),
        ("ndfrt", "http://hl7.org/fhir/ndfrt"),
    ],
)
def test_substance_systems(chart_row, ctx, validate, charted, system):
    allergy = validate(to_fhir(chart_row("allergies", **{**FULL, "substance_system": charted}), ctx))
    assert allergy["code"]["coding"][0]["system"] == system


def test_severity_without_a_manifestation_is_dropped(chart_row, ctx, validate):
    row = chart_row("allergies", **{**FULL, "reaction_snomed": None, "reaction_name": None})
    allergy = validate(to_fhir(row, ctx))
    assert "reaction" not in allergy  # reaction.manifestation is 1..*


def test_text_only_reaction(chart_row, ctx):
    row = chart_row("allergies", **{**FULL, "reaction_snomed": None, "reaction_name": "Felt faint"})
    assert to_fhir(row, ctx)["reaction"][0]["manifestation"] == [{"text": "Felt faint"}]
