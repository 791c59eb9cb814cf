from mappers.care_team import RESOURCE, to_fhir

MEMBERS = [
    {"type": "Practitioner", "id": "prac-9d0e", "role_code": "446050000", "role_name": "Primary care physician"},
    {"type": "Practitioner", "id": "prac-2", "role_code": "207Q00000X", "role_name": "Family Medicine"},
    {"type": "RelatedPerson", "id": "rp-1", "role_code": "133932002", "role_name": "Caregiver"},
    {"type": "Patient", "id": "pat-7f3a", "role_code": "116154003", "role_name": "Patient"},
]


def test_full_team(chart_row, ctx, validate, assert_searchable):
    row = chart_row("care_teams", uid="ct-1", name="Primary care team", status="active")
    team = validate(to_fhir(row, {**ctx, "members": MEMBERS}))

    assert team["meta"] == {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-careteam|6.1.0"]}
    assert team["status"] == "active"
    assert team["name"] == "Primary care team"
    assert team["subject"] == {"reference": "Patient/pat-7f3a"}
    assert team["participant"] == [
        {
            "role": [
                {
                    "coding": [
                        {"system": "http://snomed.info/sct", "code": "446050000", "display": "Primary care physician"}
                    ],
                    "text": "Primary care physician",
                }
            ],
            "member": {"reference": "Practitioner/prac-9d0e"},
        },
        {
            "role": [
                {
                    "coding": [
                        {
                            "system": "http://nucc.org/provider-taxonomy",
                            "code": "207Q00000X",
                            "display": "Family Medicine",
                        }
                    ],
                    "text": "Family Medicine",
                }
            ],
            "member": {"reference": "Practitioner/prac-2"},
        },
        {
            "role": [
                {
                    "coding": [{"system": "http://snomed.info/sct", "code": "133932002", "display": "Caregiver"}],
                    "text": "Caregiver",
                }
            ],
            "member": {"reference": "RelatedPerson/rp-1"},
        },
        {
            "role": [
                {
                    "coding": [{"system": "http://snomed.info/sct", "code": "116154003", "display": "Patient"}],
                    "text": "Patient",
                }
            ],
            "member": {"reference": "Patient/pat-7f3a"},
        },
    ]
    assert_searchable(team, RESOURCE)


def test_team_without_members_is_not_projected(chart_row, ctx):
    row = chart_row("care_teams", uid="ct-2", name="Empty team")
    assert to_fhir(row, {**ctx, "members": []}) is None
