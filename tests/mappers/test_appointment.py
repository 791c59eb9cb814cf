import pytest

from mappers import UnmappableValue
from mappers.appointment import RESOURCE, minutes_between, to_fhir

FULL = dict(
    uid="appt-1",
    provider_id=2,
    start_at="2024-01-10T15:00:00Z",
    end_at="2024-01-10T15:30:00Z",
    status="booked",
    visit_type="Follow-up visit",
    visit_type_code="FOLLOWUP",
    reason_text="Blood pressure check",
    reason_icd10="I10",
    location="Sunrise Family Health, Room 4",
    comment="Bring your home BP log.",
    updated_at="2024-01-02T00:00:00Z",
)
SPARSE = dict(uid="appt-2", start_at="2024-02-01T16:00:00Z", end_at="2024-02-01T16:20:00Z")


def test_full_row(chart_row, ctx, validate, assert_searchable):
    appointment = validate(to_fhir(chart_row("appointments", **FULL), ctx))

    assert appointment["id"] == "appt-1"
    assert "meta" not in appointment  # no US Core profile to claim
    assert appointment["status"] == "booked"
    assert appointment["serviceType"] == [{"text": "Follow-up visit"}]
    assert appointment["appointmentType"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v2-0276",
                "code": "FOLLOWUP",
                "display": "A follow up visit from a previous appointment",
            }
        ],
        "text": "Follow-up visit",
    }
    assert appointment["reasonCode"] == [
        {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}], "text": "Blood pressure check"}
    ]
    assert appointment["description"] == "Follow-up visit"
    assert appointment["start"] == "2024-01-10T15:00:00Z"
    assert appointment["end"] == "2024-01-10T15:30:00Z"
    assert appointment["minutesDuration"] == 30
    assert appointment["comment"] == "Bring your home BP log."
    assert appointment["participant"] == [
        {"actor": {"reference": "Patient/pat-7f3a"}, "required": "required", "status": "accepted"},
        {"actor": {"reference": "Practitioner/prac-9d0e"}, "required": "required", "status": "accepted"},
        {
            "actor": {"type": "Location", "display": "Sunrise Family Health, Room 4"},
            "required": "required",
            "status": "accepted",
        },
    ]
    assert_searchable(appointment, RESOURCE)


def test_sparse_row_has_only_the_patient(chart_row, validate):
    appointment = validate(to_fhir(chart_row("appointments", **SPARSE), {"patient": "pat-1", "provider": None}))

    assert appointment["status"] == "booked"
    assert appointment["participant"] == [
        {"actor": {"reference": "Patient/pat-1"}, "required": "required", "status": "accepted"}
    ]
    assert appointment["minutesDuration"] == 20
    for absent in ("serviceType", "appointmentType", "reasonCode", "description", "comment"):
        assert absent not in appointment


def test_unknown_visit_type_code_stays_text(chart_row, ctx, validate):
    row = chart_row("appointments", **{**SPARSE, "visit_type": "Telehealth", "visit_type_code": "TELE"})
    assert validate(to_fhir(row, ctx))["appointmentType"] == {"text": "Telehealth"}


@pytest.mark.parametrize(
    "charted, sent",
    [
        ("booked", "booked"),
        ("fulfilled", "fulfilled"),
        ("completed", "fulfilled"),
        ("cancelled", "cancelled"),
        ("no-show", "noshow"),
        ("checked-in", "checked-in"),
        ("arrived", "arrived"),
    ],
)
def test_status(chart_row, ctx, charted, sent):
    assert to_fhir(chart_row("appointments", **{**SPARSE, "status": charted}), ctx)["status"] == sent


def test_unknown_status_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="Appointment.status"):
        to_fhir(chart_row("appointments", **{**SPARSE, "status": "maybe"}), ctx)


@pytest.mark.parametrize(
    "start, end, minutes",
    [
        ("2024-01-10T15:00:00Z", "2024-01-10T16:15:00Z", 75),
        ("2024-01-10T15:00:00Z", "2024-01-10T15:00:00Z", None),
        ("2024-01-10T15:00:00Z", "2024-01-10T14:00:00Z", None),
        ("2024-01-10T23:30:00Z", "2024-01-11T00:10:00Z", 40),
    ],
)
def test_minutes_between(start, end, minutes):
    assert minutes_between(start, end) == minutes
