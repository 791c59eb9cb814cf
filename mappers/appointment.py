"""Chart ``appointments`` row -> FHIR R4 Appointment (US Core defines no Appointment profile)."""

from datetime import datetime

from . import codes
from ._common import (
    BASE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    display_reference,
    lookup,
    meta,
    patient_param,
    reference,
)

PROFILE = BASE_PROFILE + "Appointment"


def to_fhir(row, ctx):
    """Return the Appointment resource for one ``appointments`` row."""
    reason = codeable(coding(codes.ICD10CM, codes.icd10cm(row["reason_icd10"])), text=row["reason_text"])
    return compact(
        {
            "resourceType": "Appointment",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "status": lookup(codes.APPOINTMENT_STATUS, row["status"], "Appointment.status"),
            "serviceType": [codeable(text=row["visit_type"])],
            "appointmentType": appointment_type(row["visit_type_code"], row["visit_type"]),
            "reasonCode": [reason],
            "description": row["visit_type"],
            "start": row["start_at"],
            "end": row["end_at"],
            "minutesDuration": minutes_between(row["start_at"], row["end_at"]),
            "comment": row["comment"],
            "participant": participants(ctx, row["location"]),
        }
    )


def appointment_type(code, text):
    """Return the appointmentType: a v2-0276 coding when the charted code is one, with the visit text."""
    code = code.strip().upper() if code else None
    display = codes.V2_0276_DISPLAY.get(code)
    return codeable(coding(codes.APPOINTMENT_REASON, code, display) if display else None, text=text)


def minutes_between(start, end):
    """Return the whole minutes from start to end, or None when they are missing or out of order."""
    if not start or not end:
        return None
    minutes = int((_instant(end) - _instant(start)).total_seconds() // 60)
    # minutesDuration is a positiveInt.
    return minutes if minutes > 0 else None


def _instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def participants(ctx, location):
    """Return the patient, the provider and the location (text only: no Location resources yet)."""
    actors = [
        reference("Patient", ctx["patient"]),
        reference("Practitioner", ctx.get("provider")),
        display_reference("Location", location),
    ]
    return [{"actor": actor, "required": "required", "status": "accepted"} for actor in actors if actor]


RESOURCE = ResourceType(
    name="Appointment",
    table="appointments",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        patient_param("Appointment", "participant.actor", "Appointment-patient"),
        base_param("Appointment-actor", "actor", "reference", "participant.actor"),
        base_param(
            "Appointment-practitioner", "practitioner", "reference", "participant.actor", targets=("Practitioner",)
        ),
        base_param("Appointment-date", "date", "date", "start"),
        base_param("Appointment-status", "status", "token", "status"),
        base_param("Appointment-service-type", "service-type", "token", "serviceType"),
        base_param("Appointment-appointment-type", "appointment-type", "token", "appointmentType"),
    ),
    includes=("Appointment:practitioner",),
    words=Words("Appointments", "past and upcoming visits"),
    care_date="date",
    section=RecordSection(
        "appointments",
        "Appointments",
        80,
        "56446-8",
        "Appointment summary Document",
        "No appointments are on file.",
    ),
)
