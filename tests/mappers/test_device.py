import pytest

from mappers import UnmappableValue
from mappers.device import RESOURCE, to_fhir

CARRIER = "(01)00643169007222(11)160120(17)280131(10)LOT4471(21)BLC200461H"
FULL = dict(
    uid="dev-1",
    device_code="704708004",
    device_name="Cardiac resynchronization therapy implantable pacemaker",
    udi_carrier=CARRIER,
    manufacturer="Medtronic",
    model="W1DR01",
    distinct_identifier="A99971312345600",
    implanted_on="2021-03-04",
    status="implanted",
)


def test_full_row_reads_the_udi_parts_from_the_carrier(chart_row, ctx, validate, assert_searchable):
    device = validate(to_fhir(chart_row("implants", **FULL), ctx))

    assert device == {
        "resourceType": "Device",
        "id": "dev-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-implantable-device"]},
        "udiCarrier": [
            {
                "deviceIdentifier": "00643169007222",
                "issuer": "http://hl7.org/fhir/NamingSystem/gs1-di",
                "jurisdiction": "http://hl7.org/fhir/NamingSystem/fda-udi",
                "carrierHRF": CARRIER,
            }
        ],
        "status": "active",
        "distinctIdentifier": "A99971312345600",
        "manufacturer": "Medtronic",
        "manufactureDate": "2016-01-20",
        "expirationDate": "2028-01-31",
        "lotNumber": "LOT4471",
        "serialNumber": "BLC200461H",
        "modelNumber": "W1DR01",
        "type": {
            "coding": [{"system": "http://snomed.info/sct", "code": "704708004"}],
            "text": "Cardiac resynchronization therapy implantable pacemaker",
        },
        "patient": {"reference": "Patient/pat-7f3a"},
    }
    assert_searchable(device, RESOURCE)


def test_charted_parts_win_over_the_carrier(chart_row, ctx):
    row = chart_row("implants", **FULL, lot_number="LOT9", udi_device_identifier="00643169007239")
    device = to_fhir(row, ctx)
    assert device["lotNumber"] == "LOT9"
    assert device["udiCarrier"][0]["deviceIdentifier"] == "00643169007239"


def test_malformed_carrier_is_kept_with_its_device_identifier_marked_absent(chart_row, ctx, validate):
    scanned = chart_row("implants", uid="dev-2", device_name="Knee prosthesis", udi_carrier="(01)123(10)X")
    device = validate(to_fhir(scanned, ctx))
    assert device["udiCarrier"] == [
        {
            "_deviceIdentifier": {
                "extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
                ]
            },
            "carrierHRF": "(01)123(10)X",
        }
    ]
    assert [k for k in ("lotNumber", "serialNumber", "manufactureDate", "expirationDate") if k in device] == []
    assert device["type"] == {"text": "Knee prosthesis"}

    charted = chart_row(
        "implants", uid="dev-3", device_name="Knee", udi_carrier="(01)123(10)X", udi_device_identifier="00888"
    )
    assert to_fhir(charted, ctx)["udiCarrier"][0] == {
        "deviceIdentifier": "00888",
        "issuer": "http://hl7.org/fhir/NamingSystem/gs1-di",
        "jurisdiction": "http://hl7.org/fhir/NamingSystem/fda-udi",
        "carrierHRF": "(01)123(10)X",
    }


def test_unknown_status_is_unmappable(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="Device.status"):
        to_fhir(chart_row("implants", **{**FULL, "status": "misplaced"}), ctx)


def test_no_carrier_no_udi(chart_row, ctx, validate):
    device = validate(to_fhir(chart_row("implants", uid="dev-4", device_name="Stent", status="inactive"), ctx))
    assert device == {
        "resourceType": "Device",
        "id": "dev-4",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-implantable-device"]},
        "status": "inactive",
        "type": {"text": "Stent"},
        "patient": {"reference": "Patient/pat-7f3a"},
    }
