"""Chart ``care_teams`` row and its ``care_team_members`` -> US Core CareTeam.

``ctx["members"]`` lists the team's members as the store resolves them, in chart order: dicts with
``type`` (Practitioner, RelatedPerson or Patient), ``id`` (FHIR id), ``role_code`` and ``role_name``.
"""

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

# Versioned: US Core 6.1.0 lets a care team name RelatedPerson members (the patient's representatives), which
# 3.1.1's us-core-careteam does not (member: Patient, Practitioner, Organization), so the claim says which it meets.
PROFILE = US_CORE_PROFILE + "us-core-careteam|6.1.0"


def to_fhir(row, ctx):
    """Return the CareTeam resource for one ``care_teams`` row, or None when it has no members."""
    participants = [participant(member) for member in ctx.get("members", ())]
    if not participants:
        return None  # US Core requires at least one participant
    return compact(
        {
            "resourceType": "CareTeam",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "status": lookup(codes.CARE_TEAM_STATUS, row["status"], "CareTeam.status"),
            "name": row["name"],
            "subject": reference("Patient", ctx["patient"]),
            "participant": participants,
        }
    )


def participant(member):
    """Return one participant: its role and member reference.

    A role code of digits is SNOMED CT (US Core 6.1.0 binds role to the VSAC "Care Team Member Function"
    SNOMED value set, 2.16.840.1.113762.1.4.1099.30); one of ten characters ending in X is a NUCC
    provider taxonomy code (US Core 3.1.1's us-core-careteam-provider-roles includes NUCC).
    """
    code = member["role_code"]
    system = codes.SNOMED if code.isdigit() else codes.NUCC_TAXONOMY
    return {
        "role": [codeable(coding(system, code, member["role_name"]), text=member["role_name"])],
        "member": reference(member["type"], member["id"]),
    }


RESOURCE = ResourceType(
    name="CareTeam",
    table="care_teams",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("CareTeam"),
        us_core_param("CareTeam", "status", "token", "status"),
        us_core_param("CareTeam", "role", "token", "participant.role"),
    ),
    words=Words("Care team", "the clinicians, family members and caregivers who look after you"),
    section=RecordSection(
        "care-team",
        "Care team",
        64,
        "85847-2",
        "Patient Care team information",
        "No care team is on file.",
        also=("RelatedPerson",),
        entry=Entry("name", "status", "period.start"),
    ),
)
