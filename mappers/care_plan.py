"""Chart ``care_plans`` row -> US Core CarePlan (assessment and plan of treatment)."""

from html import escape

from . import codes
from ._common import (
    US_CORE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    lookup,
    meta,
    period,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-careplan"
XHTML = "http://www.w3.org/1999/xhtml"


def to_fhir(row, ctx):
    """Return the CarePlan resource for one ``care_plans`` row."""
    return compact(
        {
            "resourceType": "CarePlan",
            "id": row["uid"],
            "meta": meta(PROFILE),
            # US Core 3.1.1 requires text (status generated | additional); the narrative carries the
            # free-text plan, which the structured elements only repeat.
            "text": {"status": "additional", "div": narrative(row["title"], row["description"])},
            "status": lookup(codes.CAREPLAN_STATUS, row["status"], "CarePlan.status"),
            "intent": lookup(codes.CAREPLAN_INTENT, row["intent"], "CarePlan.intent"),
            "category": [
                codeable(coding(codes.US_CORE_CAREPLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment"))
            ],
            "title": row["title"],
            "description": row["description"],
            "subject": reference("Patient", ctx["patient"]),
            "period": period(row["period_start"], row["period_end"]),
            "author": reference("Practitioner", ctx.get("provider")),
        }
    )


def narrative(title, description):
    """Return the XHTML narrative div for a plan, with the chart's text escaped (never markup)."""
    body = escape(description or "").replace("\n", "<br/>")
    return f'<div xmlns="{XHTML}"><p><b>{escape(title or "")}</b></p><p>{body}</p></div>'


RESOURCE = ResourceType(
    name="CarePlan",
    table="care_plans",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("CarePlan"),
        us_core_param("CarePlan", "category", "token", "category"),
        us_core_param("CarePlan", "status", "token", "status"),
        us_core_param("CarePlan", "date", "date", "period"),
    ),
    words=Words("Care plans", "plans agreed with the care team"),
    care_date="date",
    section=RecordSection(
        "care-plans",
        "Care plans",
        60,
        "18776-5",
        "Plan of care note",
        "No care plans are on file.",
    ),
)
