from mappers.goal import RESOURCE, to_fhir

FULL = dict(
    uid="goal-1",
    snomed_code="289169006",
    description="Weight loss",
    status="active",
    start_date="2024-01-15",
    due_date="2024-07-15",
    expressed_by="provider",
    provider_id=2,
)


def test_full_row(chart_row, ctx, validate, assert_searchable):
    goal = validate(to_fhir(chart_row("goals", **FULL), ctx))

    assert goal == {
        "resourceType": "Goal",
        "id": "goal-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-goal"]},
        "lifecycleStatus": "active",
        "description": {
            "coding": [{"system": "http://snomed.info/sct", "code": "289169006", "display": "Weight loss"}],
            "text": "Weight loss",
        },
        "subject": {"reference": "Patient/pat-7f3a"},
        "startDate": "2024-01-15",
        "target": [{"dueDate": "2024-07-15"}],
        "expressedBy": {"reference": "Practitioner/prac-9d0e"},
    }
    assert_searchable(goal, RESOURCE)


def test_patient_goal_in_text_only(chart_row, ctx, validate):
    row = chart_row("goals", uid="goal-2", description="Walk my granddaughter to school", expressed_by="patient")
    goal = validate(to_fhir(row, ctx))
    assert goal["description"] == {"text": "Walk my granddaughter to school"}
    assert goal["expressedBy"] == {"reference": "Patient/pat-7f3a"}
    assert "target" not in goal and "startDate" not in goal
