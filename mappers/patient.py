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
                race(row["race_code"], ctx.get("races", {}).get("race")),
                ethnicity(row["ethnicity_code"], ctx.get("races", {}).get("ethnicity")),
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


def race(code, answers=None):
    """Return the us-core-race extension for the self-reported answers (``[(code, display)]`` in order), or, when
    there are none, for the single ``race_code`` column (an OMB category or null flavor); else None."""
    return _omb_extension(codes.EXT_RACE, _answers(code, answers, codes.RACE), codes.RACE, max_categories=5)


def ethnicity(code, answers=None):
    """Return the us-core-ethnicity extension for the self-reported answers, or the single ``ethnicity_code``."""
    # US Core 3.1.1's omb-ethnicity-category holds only the two OMB codes (6.1.0 adds UNK and ASKU), so an
    # unknown ethnicity says so in the 1..1 text alone, which both versions accept.
    return _omb_extension(
        codes.EXT_ETHNICITY,
        _answers(code, answers, codes.ETHNICITY),
        codes.ETHNICITY,
        null_flavor_coded=False,
        max_categories=1,
    )


def _answers(code, answers, categories):
    # The single column of old charts: only an OMB category or a null flavor maps (as before the answers table).
    if answers:
        return list(answers)
    return [(code, None)] if code in categories or code in codes.NULL_FLAVOR_DISPLAY else []


def _omb_extension(url, answers, categories, null_flavor_coded=True, max_categories=5):
    # US Core 3.1.1 and 6.1.0 us-core-race: ombCategory 0..5, detailed 0..*, text 1..1 (us-core-ethnicity:
    # ombCategory 0..1). 3.1.1 binds race's ombCategory to the OMB categories plus v3-NullFlavor UNK/ASKU;
    # ethnicity's to the two OMB codes only. Any other CDC code goes to 'detailed': without the CDC hierarchy
    # we cannot name its OMB category, so none is derived.
    omb, detailed, texts = [], [], []
    for code, display in answers:
        if code in categories:
            if len(omb) < max_categories and code not in [c["code"] for c in omb]:
                omb.append(coding(codes.CDC_RACE_ETHNICITY, code, categories[code]))
            texts.append(display or categories[code])
        elif code in codes.NULL_FLAVOR_DISPLAY:
            if null_flavor_coded and not omb:
                omb.append(coding(codes.NULL_FLAVOR, code, codes.NULL_FLAVOR_DISPLAY[code]))
            texts.append(codes.NULL_FLAVOR_TEXT[code])
        elif code:
            detailed.append(coding(codes.CDC_RACE_ETHNICITY, code, display))
            texts.append(display or code)
    if not texts:
        return None
    parts = [{"url": "ombCategory", "valueCoding": c} for c in omb]
    parts += [{"url": "detailed", "valueCoding": c} for c in detailed]
    return {"url": url, "extension": [*parts, {"url": "text", "valueString": ", ".join(texts)}]}


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
