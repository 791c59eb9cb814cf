"""Chart ``goals`` row (a goal under a care plan) -> US Core Goal."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    Entry,
    RecordSection,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    lookup,
    meta,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-goal"


def to_fhir(row, ctx):
    """Return the Goal resource for one ``goals`` row."""
    return compact(
        {
            "resourceType": "Goal",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "lifecycleStatus": lookup(codes.GOAL_LIFECYCLE_STATUS, row["status"], "Goal.lifecycleStatus"),
            # US Core 6.1.0 binds description extensibly to SNOMED CT; a goal without a code keeps its text.
            "description": codeable(
                coding(codes.SNOMED, row["snomed_code"], row["description"]), text=row["description"]
            ),
            "subject": reference("Patient", ctx["patient"]),
            "startDate": row["start_date"],
            "target": [{"dueDate": row["due_date"]}] if row["due_date"] else None,
            "expressedBy": expressed_by(row, ctx),
        }
    )


def expressed_by(row, ctx):
    """Return who set the goal: the patient, or the row's provider."""
    if (row["expressed_by"] or "").lower() == "patient":
        return reference("Patient", ctx["patient"])
    return reference("Practitioner", ctx.get("provider"))


RESOURCE = ResourceType(
    name="Goal",
    table="goals",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("Goal"),
        us_core_param("Goal", "lifecycle-status", "token", "lifecycleStatus"),
        us_core_param("Goal", "target-date", "date", "target.dueDate"),
        us_core_param("Goal", "description", "token", "description"),
    ),
    words=Words("Goals", "the health goals you and your care team agreed on"),
    care_date="target-date",
    section=RecordSection(
        "goals",
        "Goals",
        62,
        "61146-7",
        "Goals",
        "No goals are on file.",
        entry=Entry("description.text", "lifecycleStatus", "target.dueDate"),
    ),
)
