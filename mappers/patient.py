"""Chart ``patients`` row -> US Core Patient (3.1.1, also valid against 6.1)."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    lookup,
    lookup_optional,
    meta,
    reference,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-patient"


def to_fhir(row, ctx):
    """Return the Patient resource for one ``patients`` row."""
    return compact(
        {
            "resourceType": "Patient",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "extension": [
                race(row["race_code"]),
                ethnicity(row["ethnicity_code"]),
                tribal_affiliation(row["tribal_affiliation_code"], row["tribal_enrolled"]),
                birth_sex(row["birth_sex"]),
                recorded_sex(row["sex_for_clinical_use"]),
            ],
            "identifier": [mrn(row["mrn"], ctx["mrn_system"])],
            "name": names(row),
            "telecom": telecom(row),
            "gender": lookup(codes.GENDER, row["sex"], "Patient.gender"),
            "birthDate": row["birth_date"],
            "deceasedDateTime": row["deceased_at"],
            "address": [address(row), previous_address(row)],
            "communication": [communication(row["preferred_language"])],
            "generalPractitioner": [reference("Practitioner", ctx.get("provider"))],
            "managingOrganization": reference("Organization", ctx.get("organization")),
        }
    )


def mrn(value, system):
    """Return the medical record number Identifier in the practice's own system."""
    kind = codeable(coding(codes.IDENTIFIER_TYPE, "MR", "Medical record number"))
    return {"use": "usual", "type": kind, "system": system, "value": value}


def names(row):
    """Return the official name and, when charted, the previous last name as an 'old' name."""
    official = {
        "use": "official",
        "family": row["last_name"],
        "given": [row["first_name"], row["middle_name"]],
        "suffix": [row["suffix"]],
    }
    old = {"use": "old", "family": row["previous_last_name"]} if row["previous_last_name"] else None
    return [official, old]


def telecom(row):
    """Return the mobile phone, home phone and email ContactPoints that are charted."""
    points = [
        ("phone", row["phone"], "mobile"),
        ("phone", row["home_phone"], "home"),
        ("email", row["email"], None),
    ]
    return [{"system": system, "value": value, "use": use} for system, value, use in points if value]


def address(row):
    """Return the home Address, or None when no part of it is charted."""
    parts = {
        "line": [row["address_line"], row["address_line2"]],
        "city": row["city"],
        "state": row["state"],
        "postalCode": row["postal_code"],
    }
    if not compact(parts):
        return None
    return {"use": "home", **parts, "country": "US"}


def previous_address(row):
    """Return the address the patient moved out of as an 'old' Address with the dates lived there, or None."""
    parts = {
        "line": [row["previous_address_line"]],
        "city": row["previous_city"],
        "state": row["previous_state"],
        "postalCode": row["previous_postal_code"],
    }
    if not compact(parts):
        return None
    period = {"start": row["previous_address_from"], "end": row["moved_out_on"]}
    return {"use": "old", **parts, "country": "US", "period": period}


def communication(language):
    """Return the preferred-language communication entry (BCP-47), or None."""
    if not language:
        return None
    display = lookup_optional(codes.LANGUAGE, language)
    return {"language": codeable(coding(codes.BCP47, language, display)), "preferred": True}


def race(code):
    """Return the us-core-race extension for an OMB race category or null flavor, or None."""
    return _omb_extension(codes.EXT_RACE, code, codes.RACE)


def ethnicity(code):
    """Return the us-core-ethnicity extension for an OMB ethnicity category or null flavor, or None."""
    # US Core 3.1.1's omb-ethnicity-category holds only the two OMB codes (6.1.0 adds UNK and ASKU), so an
    # unknown ethnicity says so in the 1..1 text alone, which both versions accept.
    return _omb_extension(codes.EXT_ETHNICITY, code, codes.ETHNICITY, null_flavor_coded=False)


def _omb_extension(url, code, categories, null_flavor_coded=True):
    # US Core 3.1.1 binds race's ombCategory to the OMB categories plus v3-NullFlavor UNK/ASKU, and makes
    # the 'text' sub-extension 1..1. Codes outside the OMB categories (detailed CDC codes) are not
    # mapped: without the CDC hierarchy we cannot name their OMB category.
    if code in categories:
        category, text = coding(codes.CDC_RACE_ETHNICITY, code, categories[code]), categories[code]
    elif code in codes.NULL_FLAVOR_DISPLAY:
        category = coding(codes.NULL_FLAVOR, code, codes.NULL_FLAVOR_DISPLAY[code]) if null_flavor_coded else None
        text = codes.NULL_FLAVOR_TEXT[code]
    else:
        return None
    parts = [{"url": "ombCategory", "valueCoding": category}] if category else []
    return {"url": url, "extension": [*parts, {"url": "text", "valueString": text}]}


def birth_sex(value):
    """Return the us-core-birthsex extension for the charted birth sex (F, M, else UNK), or None."""
    if not value:
        return None
    return {"url": codes.EXT_BIRTHSEX, "valueCode": lookup(codes.BIRTH_SEX, value, "birthsex")}


def recorded_sex(value):
    """Return the us-core-sex extension (6.1.0) for the sex charted for care, or None."""
    if not value:
        return None
    return {"url": codes.EXT_SEX, "valueCode": lookup(codes.SEX_RECORDED, value, "us-core-sex")}


def tribal_affiliation(code, enrolled):
    """Return the us-core-tribal-affiliation extension for a v3-TribalEntityUS code, or None."""
    if not code:
        return None
    display = codes.TRIBE.get(code)
    tribe = {"coding": [coding(codes.TRIBAL_ENTITY, code, display)], "text": display}
    parts = [{"url": "tribalAffiliation", "valueCodeableConcept": tribe}]
    if enrolled is not None:
        parts.append({"url": "isEnrolled", "valueBoolean": bool(enrolled)})
    return {"url": codes.EXT_TRIBAL, "extension": parts}


RESOURCE = ResourceType(
    name="Patient",
    table="patients",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        us_core_param("Patient", "identifier", "token", "identifier"),
        us_core_param("Patient", "name", "string", "name"),
        us_core_param("Patient", "family", "string", "name.family"),
        us_core_param("Patient", "given", "string", "name.given"),
        us_core_param("Patient", "birthdate", "date", "birthDate"),
        us_core_param("Patient", "gender", "token", "gender"),
        us_core_param("Patient", "death-date", "date", "deceasedDateTime"),
        base_param("individual-address", "address", "string", "address"),
        base_param("individual-telecom", "telecom", "token", "telecom"),
        base_param("Patient-language", "language", "token", "communication.language"),
        base_param(
            "Patient-organization", "organization", "reference", "managingOrganization", targets=("Organization",)
        ),
        base_param(
            "Patient-general-practitioner",
            "general-practitioner",
            "reference",
            "generalPractitioner",
            targets=("Practitioner",),
        ),
    ),
    compartment=True,
    includes=("Patient:general-practitioner", "Patient:organization"),
    words=Words("Personal details", "name, date of birth, sex, language, address and phone"),
)
