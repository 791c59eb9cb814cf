import pytest

from mappers import UnmappableValue
from mappers.procedure import RESOURCE, to_fhir

FULL = dict(
    uid="proc-3",
    code_system="cpt",
    code="45378",
    description="Colonoscopy, diagnostic",
    status="completed",
    performed_at="2022-09-14T15:00:00Z",
    performed_end="2022-09-14T15:45:00Z",
    provider_id=2,
    reason_icd10="Z1211",
    reason_text="Colon cancer screening",
    updated_at="2022-09-14T16:00:00Z",
)
SPARSE = dict(uid="proc-4", code_system="snomed", code="80146002", description="Appendectomy")


def test_full_row(chart_row, ctx, validate, assert_searchable):
    procedure = validate(to_fhir(chart_row("procedures", **FULL), ctx))

    assert procedure["id"] == "proc-3"
    assert procedure["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-procedure"]
    assert procedure["status"] == "completed"
    assert procedure["code"] == {
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "45378"}],
        "text": "Colonoscopy, diagnostic",
    }
    assert procedure["subject"] == {"reference": "Patient/pat-7f3a"}
    assert procedure["performedPeriod"] == {"start": "2022-09-14T15:00:00Z", "end": "2022-09-14T15:45:00Z"}
    assert "performedDateTime" not in procedure
    assert procedure["performer"] == [{"actor": {"reference": "Practitioner/prac-9d0e"}}]
    assert procedure["reasonCode"] == [
        {
            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z12.11"}],
            "text": "Colon cancer screening",
        }
    ]
    assert_searchable(procedure, RESOURCE)


def test_single_time_is_a_date_time(chart_row, ctx):
    procedure = to_fhir(chart_row("procedures", **{**FULL, "performed_end": None}), ctx)
    assert procedure["performedDateTime"] == "2022-09-14T15:00:00Z"
    assert "performedPeriod" not in procedure


def test_sparse_row_marks_the_required_performed_time_absent(chart_row, validate):
    procedure = validate(to_fhir(chart_row("procedures", **SPARSE), {"patient": "pat-1", "provider": None}))

    assert procedure["_performedDateTime"] == {
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]
    }
    for absent in ("performedDateTime", "performedPeriod", "performer", "reasonCode"):
        assert absent not in procedure


@pytest.mark.parametrize(
    "charted, system",
    [
        ("cpt", "http://www.ama-assn.org/go/cpt"),
        ("snomed", "http://snomed.info/sct"),
        ("hcpcs", "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"),
        ("icd10pcs", "http://www.cms.gov/Medicare/Coding/ICD10"),
    ],
)
def test_code_systems(chart_row, ctx, validate, charted, system):
    procedure = validate(to_fhir(chart_row("procedures", **{**SPARSE, "code_system": charted}), ctx))
    assert procedure["code"]["coding"] == [{"system": system, "code": "80146002"}]


def test_icd10pcs_codes_are_not_dotted(chart_row, ctx):
    row = chart_row("procedures", **{**SPARSE, "code_system": "icd10pcs", "code": "0DTJ4ZZ"})
    assert to_fhir(row, ctx)["code"]["coding"][0]["code"] == "0DTJ4ZZ"


def test_unknown_code_system_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="Procedure.code"):
        to_fhir(chart_row("procedures", **{**SPARSE, "code_system": "loinc"}), ctx)


def test_a_procedure_is_based_on_its_order(chart_row, ctx, validate):
    procedure = validate(to_fhir(chart_row("procedures", **FULL), {**ctx, "links": {"order_id": "ord-9"}}))

    assert procedure["basedOn"] == [{"reference": "ServiceRequest/ord-9"}]
    assert "basedOn" not in to_fhir(chart_row("procedures", **FULL), ctx)
