from mappers.diagnostic_report import RESOURCE, to_fhir

FULL = dict(
    uid="lab-1",
    panel_loinc="24323-8",
    panel_name="Comprehensive metabolic panel",
    status="final",
    collected_at="2024-01-15T09:00:00Z",
    reported_at="2024-01-15T15:00:00Z",
    performing_lab="Quest Diagnostics",
    conclusion="Glucose mildly elevated.",
    shared_with_patient=1,
    provider_id=2,
    updated_at="2024-01-15T15:00:00Z",
)
SPARSE = dict(
    uid="lab-2",
    panel_loinc="4548-4",
    panel_name="Hemoglobin A1c",
    collected_at="2024-03-01T09:00:00Z",
    shared_with_patient=1,
)


def test_full_row(chart_row, ctx, validate, assert_searchable):
    report = validate(to_fhir(chart_row("lab_results", **FULL), {**ctx, "result_ids": ["obs-1", "obs-2"]}))

    assert report["id"] == "lab-1"
    assert report["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-lab"]
    assert report["status"] == "final"
    assert report["category"] == [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory"}
            ]
        }
    ]
    assert report["code"] == {
        "coding": [{"system": "http://loinc.org", "code": "24323-8"}],
        "text": "Comprehensive metabolic panel",
    }
    assert report["subject"] == {"reference": "Patient/pat-7f3a"}
    assert report["effectiveDateTime"] == "2024-01-15T09:00:00Z"
    assert report["issued"] == "2024-01-15T15:00:00Z"
    assert report["performer"] == [
        {"reference": "Practitioner/prac-9d0e"},
        {"type": "Organization", "display": "Quest Diagnostics"},
    ]
    assert report["result"] == [{"reference": "Observation/obs-1"}, {"reference": "Observation/obs-2"}]
    assert report["conclusion"] == "Glucose mildly elevated."
    assert_searchable(report, RESOURCE)


def test_unshared_report_is_not_projected(chart_row, ctx):
    assert to_fhir(chart_row("lab_results", **{**FULL, "shared_with_patient": 0}), ctx) is None


def test_unshared_is_the_schema_default(chart_row, ctx):
    row = chart_row("lab_results", **{k: v for k, v in SPARSE.items() if k != "shared_with_patient"})
    assert to_fhir(row, ctx) is None


def test_sparse_row_marks_the_required_release_time_absent(chart_row, validate):
    report = validate(to_fhir(chart_row("lab_results", **SPARSE), {"patient": "pat-1", "result_ids": []}))

    assert report["status"] == "final"
    assert report["_issued"] == {
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]
    }
    for absent in ("issued", "performer", "result", "conclusion"):
        assert absent not in report


def test_in_house_lab_is_the_practice_organization(chart_row, ctx, validate):
    # A client follows DiagnosticReport.performer to the Organization the practice's own lab belongs to.
    row = chart_row("lab_results", **{**FULL, "performing_lab": "Sunrise in-house laboratory", "performed_in_house": 1})
    report = validate(to_fhir(row, {**ctx, "result_ids": ["obs-1"]}))
    assert report["performer"] == [
        {"reference": "Practitioner/prac-9d0e"},
        {"reference": "Organization/org-11c2", "display": "Sunrise in-house laboratory"},
    ]


def test_a_report_is_based_on_its_order_and_names_its_specimen(chart_row, ctx, validate):
    links = {"order_id": "ord-1", "specimen_id": "spec-1"}
    report = validate(to_fhir(chart_row("lab_results", **FULL), {**ctx, "links": links}))

    assert report["basedOn"] == [{"reference": "ServiceRequest/ord-1"}]
    assert report["specimen"] == [{"reference": "Specimen/spec-1"}]
