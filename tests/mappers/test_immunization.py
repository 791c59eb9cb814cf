import pytest

from mappers.immunization import RESOURCE, to_fhir

FULL = dict(
    uid="imm-8",
    cvx_code="208",
    vaccine_name="COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose",
    administered_at="2021-04-12T17:00:00Z",
    status="completed",
    lot_number="EW0182",
    expiration_date="2021-08-31",
    manufacturer="PFR",
    route="IM",
    site="LD",
    dose_ml=0.3,
    primary_source=1,
    provider_id=2,
    updated_at="2021-04-12T17:00:00Z",
)
SPARSE = dict(uid="imm-9", cvx_code="03", vaccine_name="MMR", administered_at="1990-06-01")


def test_full_row(chart_row, ctx, validate, assert_searchable):
    immunization = validate(to_fhir(chart_row("immunizations", **FULL), ctx))

    assert immunization["id"] == "imm-8"
    assert immunization["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-immunization"]
    assert immunization["status"] == "completed"
    assert "statusReason" not in immunization
    assert immunization["vaccineCode"] == {
        "coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}],
        "text": "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose",
    }
    assert immunization["patient"] == {"reference": "Patient/pat-7f3a"}
    assert immunization["occurrenceDateTime"] == "2021-04-12T17:00:00Z"
    assert immunization["primarySource"] is True
    assert immunization["manufacturer"] == {
        "type": "Organization",
        "identifier": {"system": "http://hl7.org/fhir/sid/mvx", "value": "PFR"},
        "display": "Pfizer, Inc",
    }
    assert immunization["lotNumber"] == "EW0182"
    assert immunization["expirationDate"] == "2021-08-31"
    assert immunization["site"] == {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActSite", "code": "LD", "display": "left deltoid"}
        ],
        "text": "LD",
    }
    assert immunization["route"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
                "code": "IM",
                "display": "Injection, intramuscular",
            }
        ],
        "text": "IM",
    }
    assert immunization["doseQuantity"] == {
        "value": 0.3,
        "unit": "mL",
        "system": "http://unitsofmeasure.org",
        "code": "mL",
    }
    assert immunization["performer"] == [
        {
            "function": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0443",
                        "code": "AP",
                        "display": "Administering Provider",
                    }
                ]
            },
            "actor": {"reference": "Practitioner/prac-9d0e"},
        }
    ]
    assert_searchable(immunization, RESOURCE)


def test_sparse_historical_record(chart_row, validate):
    row = chart_row("immunizations", **{**SPARSE, "primary_source": 0})
    immunization = validate(to_fhir(row, {"patient": "pat-1", "provider": None}))

    assert immunization["status"] == "completed"
    assert immunization["primarySource"] is False
    for absent in ("lotNumber", "expirationDate", "manufacturer", "site", "route", "doseQuantity", "performer"):
        assert absent not in immunization


@pytest.mark.parametrize(
    "reason, code, display",
    [
        ("PATOBJ", "PATOBJ", "patient objection"),
        ("IMMUNE", "IMMUNE", "immunity"),
        ("MEDPREC", "MEDPREC", "medical precaution"),
        ("OSTOCK", "OSTOCK", "product out of stock"),
    ],
)
def test_not_done_with_reason(chart_row, ctx, validate, reason, code, display):
    row = chart_row("immunizations", **{**SPARSE, "status": "not-done", "not_done_reason": reason})
    immunization = validate(to_fhir(row, ctx))
    assert immunization["status"] == "not-done"
    assert immunization["statusReason"]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": code, "display": display}
    ]
    assert immunization["statusReason"]["text"] == display.capitalize()  # words, not the charted code


def test_a_dose_not_given_names_no_one_who_gave_it(chart_row, ctx, validate):
    # performer is who "performed the vaccination event"; a not-done dose had none (R4 Immunization.performer).
    row = chart_row(
        "immunizations", **{**SPARSE, "status": "not-done", "not_done_reason": "PATOBJ", "administered_in_house": 1}
    )
    immunization = validate(to_fhir(row, ctx))
    assert "performer" not in immunization


def test_not_done_reason_in_free_text(chart_row, ctx):
    row = chart_row("immunizations", **{**SPARSE, "status": "not-done", "not_done_reason": "Fever today"})
    assert to_fhir(row, ctx)["statusReason"] == {"text": "Fever today"}


def test_reason_is_ignored_when_the_dose_was_given(chart_row, ctx):
    row = chart_row("immunizations", **{**SPARSE, "not_done_reason": "PATOBJ"})
    assert "statusReason" not in to_fhir(row, ctx)


def test_manufacturer_name_is_display_only(chart_row, ctx, validate):
    row = chart_row("immunizations", **{**SPARSE, "manufacturer": "Merck Sharp & Dohme"})
    immunization = validate(to_fhir(row, ctx))
    assert immunization["manufacturer"] == {"type": "Organization", "display": "Merck Sharp & Dohme"}


@pytest.mark.parametrize("route, code", [("SQ", "SQ"), ("subcutaneous", "SQ"), ("PO", "PO"), ("IM", "IM")])
def test_routes(chart_row, ctx, route, code):
    row = chart_row("immunizations", **{**SPARSE, "route": route})
    assert to_fhir(row, ctx)["route"]["coding"][0]["code"] == code


def test_dose_given_at_the_practice_names_it_as_performer(chart_row, ctx, validate):
    # Immunization.performer.actor may be an Organization; ours is the practice the dose was given at.
    row = chart_row("immunizations", **{**SPARSE, "administered_in_house": 1})
    immunization = validate(to_fhir(row, {**ctx, "provider": None}))
    assert immunization["performer"] == [{"actor": {"reference": "Organization/org-11c2"}}]
