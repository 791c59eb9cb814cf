"""Chart ``vital_signs`` row (the vitals flowsheet) -> US Core vital-sign Observation.

Not a registered type of its own: mappers.observation lists it as a second ``Source`` of Observation.
Each flowsheet kind (its LOINC code) is one US Core 6.1.0 vital-sign profile, whose fixed LOINC code and
UCUM units are below as the profiles' StructureDefinitions fix them (us-core-vital-signs and its twelve
children), plus US Core 7.0.0's average blood pressure. Every resource also claims
us-core-vital-signs, base FHIR ``vitalsigns`` and, where there is one, the base FHIR vital-sign profile
of the same measure: US Core 3.1.1 used those base profiles for vitals (only pulse oximetry and the two
pediatric percentiles were its own), so a 3.1.1 client finds what it expects.
"""

from dataclasses import dataclass

from . import codes
from ._common import (
    BASE_PROFILE,
    US_CORE_PROFILE,
    UnmappableValue,
    codeable,
    coding,
    compact,
    encounter_reference,
    lookup,
    notes,
    number,
    period,
    reference,
)

PROFILE_VITAL_SIGNS = US_CORE_PROFILE + "us-core-vital-signs"
PROFILE_FHIR_VITAL_SIGNS = BASE_PROFILE + "vitalsigns"
MM_HG = "mm[Hg]"


@dataclass(frozen=True)
class Vital:
    """One flowsheet kind: its US Core profile, LOINC display, base FHIR profile and allowed UCUM units."""

    profile: str
    display: str
    base: "str | None"
    units: tuple[str, ...]
    also: tuple[tuple[str, str], ...] = ()  # more LOINC codings the profile requires in Observation.code


# LOINC code -> Vital. Units: the profile's fixed valueQuantity.code, else base FHIR R4's required
# value set for the measure (bodyweight kg|g|[lb_av], bodyheight and headcircum cm|[in_i], bodytemp Cel|[degF]).
VITALS = {
    "85354-9": Vital("us-core-blood-pressure", "Blood pressure panel with all children optional", "bp", (MM_HG,)),
    # US Core 7.0.0 (not in 6.1.0): mean systolic and diastolic over a span (effectivePeriod); the claim names
    # its version, as the profile is not one of the 6.1.0 (or 3.1.1) ones the rest of the record meets.
    "96607-7": Vital(
        "us-core-average-blood-pressure|7.0.0", "Blood pressure panel mean systolic and mean diastolic", None, (MM_HG,)
    ),
    "39156-5": Vital("us-core-bmi", "Body mass index (BMI) [Ratio]", "bmi", ("kg/m2",)),
    "8302-2": Vital("us-core-body-height", "Body height", "bodyheight", ("cm", "[in_i]")),
    "29463-7": Vital("us-core-body-weight", "Body weight", "bodyweight", ("kg", "g", "[lb_av]")),
    "8310-5": Vital("us-core-body-temperature", "Body temperature", "bodytemp", ("Cel", "[degF]")),
    "8867-4": Vital("us-core-heart-rate", "Heart rate", "heartrate", ("/min",)),
    "9279-1": Vital("us-core-respiratory-rate", "Respiratory rate", "resprate", ("/min",)),
    # us-core-pulse-oximetry: code.coding SHALL hold both 59408-5 and 2708-6 (base oxygensat fixes 2708-6).
    "59408-5": Vital(
        "us-core-pulse-oximetry",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        "oxygensat",
        ("%",),
        also=(("2708-6", "Oxygen saturation in Arterial blood"),),
    ),
    "9843-4": Vital(
        "us-core-head-circumference", "Head Occipital-frontal circumference", "headcircum", ("cm", "[in_i]")
    ),
    "8289-1": Vital(
        "head-occipital-frontal-circumference-percentile",
        "Head Occipital-frontal circumference Percentile",
        None,
        ("%",),
    ),
    "59576-9": Vital("pediatric-bmi-for-age", "Body mass index (BMI) [Percentile] Per age and sex", None, ("%",)),
    "77606-2": Vital("pediatric-weight-for-height", "Weight-for-length Per age and sex", None, ("%",)),
}
# Every profile a vital sign claims (the CapabilityStatement's supportedProfile lists them).
PROFILES = (
    *(US_CORE_PROFILE + vital.profile for vital in VITALS.values()),
    PROFILE_VITAL_SIGNS,
    PROFILE_FHIR_VITAL_SIGNS,
    *(BASE_PROFILE + vital.base for vital in VITALS.values() if vital.base),
)
# Component codes (LOINC, display, UCUM unit, chart column).
BLOOD_PRESSURE = (
    ("8480-6", "Systolic blood pressure", "systolic"),
    ("8462-4", "Diastolic blood pressure", "diastolic"),
)
AVERAGE_BLOOD_PRESSURE = (
    ("96608-5", "Systolic blood pressure mean", "systolic"),
    ("96609-3", "Diastolic blood pressure mean", "diastolic"),
)
INHALED_OXYGEN = (
    ("3151-8", "Inhaled oxygen flow rate", "L/min", "o2_flow_rate"),
    ("3150-0", "Inhaled oxygen concentration", "%", "o2_concentration"),
)
# Flowsheet words for a measurement not taken -> data-absent-reason code and display.
NOT_TAKEN = {
    "declined": ("asked-declined", "Asked But Declined"),
    "refused": ("asked-declined", "Asked But Declined"),
    "not done": ("not-performed", "Not Performed"),
    "not performed": ("not-performed", "Not Performed"),
    "unknown": ("unknown", "Unknown"),
    "error": ("error", "Error"),
}


def to_fhir(row, ctx):
    """Return the vital-sign Observation for one ``vital_signs`` row."""
    vital = VITALS.get(row["loinc_code"])
    if vital is None:
        raise UnmappableValue(f"Observation.code: {row['loinc_code']!r} is not a US Core vital sign")
    status = lookup(codes.OBSERVATION_STATUS, row["status"], "Observation.status")
    base = BASE_PROFILE + vital.base if vital.base else None
    taken = period(row["taken_at"], row["taken_until"]) if row["taken_until"] else None
    return compact(
        {
            "resourceType": "Observation",
            "id": row["uid"],
            "meta": {"profile": [US_CORE_PROFILE + vital.profile, PROFILE_VITAL_SIGNS, PROFILE_FHIR_VITAL_SIGNS, base]},
            "status": status,
            "category": [codeable(coding(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs"))],
            "code": codeable(
                coding(codes.LOINC, row["loinc_code"], vital.display),
                *(coding(codes.LOINC, code, display) for code, display in vital.also),
                text=vital.display,
            ),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "effectiveDateTime": None if taken else row["taken_at"],
            "effectivePeriod": taken,
            "performer": [reference("Practitioner", ctx.get("provider"))],
            **_value(row, vital),
            "note": notes(row["note"]),
            "component": _components(row),
        }
    )


def _quantity(value, unit, element):
    """A UCUM Quantity with value, unit, system and code, all four of which every vital-sign profile needs."""
    code = codes.ucum(unit)
    if code is None:
        raise UnmappableValue(f"{element}: {unit!r} is not a UCUM unit")
    return {"value": number(value), "unit": unit, "system": codes.UCUM, "code": code}


def _absent(row):
    """A dataAbsentReason for a measurement with no value (US Core us-core-2, R4 vs-2 and obs-6)."""
    reason = NOT_TAKEN.get((row["not_taken_reason"] or "unknown").strip().lower())
    if reason is None:
        raise UnmappableValue(f"Observation.dataAbsentReason: no code for {row['not_taken_reason']!r}")
    return codeable(coding(codes.DATA_ABSENT_REASON, *reason))


def _value(row, vital):
    """valueQuantity in one of the profile's units; a panel (blood pressure) has components instead."""
    if vital.profile.startswith(("us-core-blood-pressure", "us-core-average-blood-pressure")):
        return {}
    if row["value_num"] is None:
        return {"dataAbsentReason": _absent(row)}
    found = _quantity(row["value_num"], row["unit"], "Observation.valueQuantity")
    if found["code"] not in vital.units:
        raise UnmappableValue(f"Observation.valueQuantity: {vital.profile} takes {', '.join(vital.units)}")
    return {"valueQuantity": found}


def _component(code, display, value, unit, row):
    element = f"Observation.component({code}).valueQuantity"
    return {
        "code": codeable(coding(codes.LOINC, code, display), text=display),
        **(
            {"valueQuantity": _quantity(value, unit, element)}
            if value is not None
            else {"dataAbsentReason": _absent(row)}
        ),
    }


def _components(row):
    """Blood pressure: systolic and diastolic, always both (a missing one has a dataAbsentReason);
    pulse oximetry: the inhaled oxygen flow rate and concentration, when charted."""
    code = row["loinc_code"]
    if code in ("85354-9", "96607-7"):
        pairs = BLOOD_PRESSURE if code == "85354-9" else AVERAGE_BLOOD_PRESSURE
        return [_component(loinc, display, row[column], MM_HG, row) for loinc, display, column in pairs]
    if code == "59408-5":
        return [
            _component(loinc, display, row[column], unit, row)
            for loinc, display, unit, column in INHALED_OXYGEN
            if row[column] is not None
        ]
    return None
