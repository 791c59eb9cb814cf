"""Chart ``implants`` row -> US Core Implantable Device (6.1.0; also satisfies 3.1.1's profile)."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    data_absent,
    lookup,
    meta,
    patient_param,
    reference,
    us_core_param,
)
from .udi import parse_hrf

PROFILE = US_CORE_PROFILE + "us-core-implantable-device"


def to_fhir(row, ctx):
    """Return the Device resource for one ``implants`` row; charted UDI parts win over ones read from the carrier."""
    parsed = parse_hrf(row["udi_carrier"])
    part = {
        name: row[f"udi_{name}" if name == "device_identifier" else name] or value for name, value in parsed.items()
    }
    return compact(
        {
            "resourceType": "Device",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "udiCarrier": [udi_carrier(row["udi_carrier"], part["device_identifier"])],
            "status": lookup(codes.DEVICE_STATUS, row["status"], "Device.status"),
            "distinctIdentifier": row["distinct_identifier"],
            "manufacturer": row["manufacturer"],
            "manufactureDate": part["manufacture_date"],
            "expirationDate": part["expiration_date"],
            "lotNumber": part["lot_number"],
            "serialNumber": part["serial_number"],
            "modelNumber": row["model"],
            # Device.type is 1..1 (extensible to SNOMED CT device kinds); the charted name is its text.
            "type": codeable(coding(codes.SNOMED, row["device_code"]), text=row["device_name"]),
            "patient": reference("Patient", ctx["patient"]),
        }
    )


def udi_carrier(carrier, device_identifier):
    """Return the udiCarrier, or None when neither a carrier nor a device identifier is charted.

    A carrier that does not read as GS1 is still served as scanned; its deviceIdentifier, 1..1 in US Core,
    is then marked absent (US Core 6.1.0 "Missing Data": a data-absent-reason for a required element).
    """
    if not device_identifier:
        return {"_deviceIdentifier": data_absent(), "carrierHRF": carrier} if carrier else None
    return {
        "deviceIdentifier": device_identifier,
        "issuer": codes.GS1_DI,
        "jurisdiction": codes.FDA_UDI,
        "carrierHRF": carrier,
    }


RESOURCE = ResourceType(
    name="Device",
    table="implants",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        patient_param("Device", "patient"),
        us_core_param("Device", "type", "token", "type"),
        us_core_param("Device", "status", "token", "status"),
    ),
    words=Words("Implants", "implanted devices and their identifiers"),
    section=RecordSection(
        "implants",
        "Implants",
        55,
        "46264-8",
        "History of medical device use",
        "No implants are on file.",
    ),
)
