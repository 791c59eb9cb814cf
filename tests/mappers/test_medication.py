from mappers.medication import RESOURCE, to_fhir

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-medication"
COMPOUNDED = dict(
    uid="form-1",
    name="Hydrocortisone 1% / ketoconazole 2% compounded cream",
    rxnorm_code=None,
    dose_form_code="385101003",
    dose_form="Cutaneous cream",
    ingredients="hydrocortisone 1%\nketoconazole 2%\nin Cetaphil cream base",
    status="active",
)


def test_compounded_cream_is_text_form_and_ingredients(chart_row, ctx, validate):
    ctx["patient"] = None
    medication = validate(to_fhir(chart_row("formulary", **COMPOUNDED), ctx))

    assert medication == {
        "resourceType": "Medication",
        "id": "form-1",
        "meta": {"profile": [PROFILE]},
        # A compounded product has no RxNorm clinical drug: the binding is extensible, so text alone.
        "code": {"text": "Hydrocortisone 1% / ketoconazole 2% compounded cream"},
        "status": "active",
        "form": {
            "coding": [{"system": "http://snomed.info/sct", "code": "385101003", "display": "Cutaneous cream"}],
            "text": "Cutaneous cream",
        },
        "ingredient": [
            {"itemCodeableConcept": {"text": "hydrocortisone 1%"}},
            {"itemCodeableConcept": {"text": "ketoconazole 2%"}},
            {"itemCodeableConcept": {"text": "in Cetaphil cream base"}},
        ],
    }


def test_coded_formulary_item_keeps_its_own_name(chart_row, ctx, validate):
    row = chart_row("formulary", uid="form-2", name="Amoxicillin 400 mg/5 mL suspension, banana", rxnorm_code="308189")
    medication = validate(to_fhir(row, ctx))

    assert medication["code"] == {
        "coding": [{"system": RXNORM, "code": "308189"}],
        "text": "Amoxicillin 400 mg/5 mL suspension, banana",
    }
    assert sorted(medication) == ["code", "id", "meta", "resourceType", "status"]


def test_registered_outside_the_compartment_and_searchable_by_code():
    assert RESOURCE.table == "formulary"
    assert RESOURCE.compartment is False
    assert RESOURCE.practice_directory is False
    assert [p.name for p in RESOURCE.search_params] == ["code"]
