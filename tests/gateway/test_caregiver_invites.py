"""An adult patient invites a caregiver themselves (email, relation, sections, until when); the caregiver
verifies with a code the patient reads to them; the practice sees the invitation and can cancel or revoke it;
the caregiver and their apps see only the shared sections, and nothing after the last day."""

import datetime as dt

import orjson
import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, proxy_policy, representatives, verification
from smart_auth.enrollment import InvalidInvite, access_code
from smart_auth.tokens import issue_access_token
from tests.enrollment_helpers import SECRET, STAFF, context, outbox
from tests.web_helpers import enrollment_app, portal_login, post, staff_login, text

PATIENT, CAREGIVER = "jose@example.com", "ana@example.com"
TODAY = dt.datetime.now(dt.timezone.utc).date()
UNTIL = (TODAY + dt.timedelta(days=90)).isoformat()


@pytest.fixture
def patient(new_db_path):
    app, db = enrollment_app(new_db_path)
    jose = accounts.create_account(db, PATIENT, "Secret-Pass1", name="José Ramírez", confirmed=True)
    accounts.link_account_to_chart(db, jose["id"], 1, "self")
    client = app.test_client()
    portal_login(client, PATIENT)
    return app, db, client


def invite(client, **form):
    data = {"email": CAREGIVER, "relation": "caregiver", "sections": ["lab-results"], "until": UNTIL, **form}
    return post(client, "/portal/people/invite", data)


def test_the_patient_invites_a_caregiver_and_reads_them_the_code(patient):
    app, db, client = patient
    done = invite(client)
    assert done.status_code == 200
    page = text(done)
    made = enrollment_store.invites_of_patient(db, 1)[-1]
    code = access_code(SECRET, made, reader="patient")
    assert f"Read this code to {CAREGIVER}: <strong>{code}</strong>" in page
    assert (made["relation"], made["sections"], made["access_until"], made["created_by"], made["by_patient"]) == (
        "caregiver",
        "lab-results",
        UNTIL,
        f"account {PATIENT}",
        1,
    )
    assert [m["recipient"] for m in outbox(db)] == [CAREGIVER]
    assert access_code(SECRET, made) is None  # the practice never reads a code the patient gave
    staff = app.test_client()
    staff_login(staff)
    chart = text(staff.get("/practice/patients/pat-1"))
    assert CAREGIVER in chart and "invited by the patient" in chart


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"relation": "self"}, "Choose how they are related to you."),
        ({"sections": ["gossip"]}, "Choose the parts of your record to share."),
        ({"sections": []}, "Choose the parts of your record to share."),
        ({"until": "2020-01-01"}, "The last day must be today or later."),
        ({"until": "soon"}, "Write the last day like 2026-12-31."),
    ],
)
def test_a_bad_invitation_says_what_to_fix(patient, form, problem):
    _, db, client = patient
    response = invite(client, **form)
    assert response.status_code == 400 and problem in text(response)
    assert enrollment_store.invites_of_patient(db, 1) == []


def test_a_representative_cannot_invite_for_the_record(patient):
    app, db, _ = patient
    ana = accounts.create_account(db, CAREGIVER, "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(db, ana["id"], 1, "spouse")
    client = app.test_client()
    portal_login(client, CAREGIVER)
    assert invite(client, email="sam@example.com").status_code == 404
    with pytest.raises(InvalidInvite):
        representatives.invite_caregiver(context(db), ana, accounts.linked_records(db, ana["id"])[0], {})


def linked_caregiver(db, client):
    invite(client)
    made = enrollment_store.invites_of_patient(db, 1)[-1]
    ana = accounts.create_account(db, CAREGIVER, "Secret-Pass1", name="Ana Ramírez", confirmed=True)
    with store.transaction(db):
        enrollment_store.update_invite(db, made["id"], {"account_id": ana["id"]}, "2026-01-01T00:00:00Z")
    verification.verify_access_code(context(db), ana, made["uid"], access_code(SECRET, made, reader="patient"))
    return ana


def test_the_caregiver_and_their_apps_see_only_the_shared_sections(patient):
    app, db, client = patient
    ana = linked_caregiver(db, client)
    headers = {"Authorization": "Bearer " + issue_access_token(db, "app", "patient/*.rs", "pat-1", subject=ana["uid"])}
    fhir = app.test_client()
    everything = orjson.loads(fhir.get("/fhir/Patient/pat-1/$everything", headers=headers).data)
    types = sorted({e["resource"]["resourceType"] for e in everything["entry"]})
    assert types == ["DiagnosticReport", "Observation", "Organization", "Patient", "Practitioner"]
    refused = fhir.get("/fhir/Condition?patient=pat-1", headers=headers)
    assert refused.status_code == 403
    assert orjson.loads(refused.data)["resourceType"] == "OperationOutcome"
    assert fhir.get("/fhir/Condition/dx-1", headers=headers).status_code == 403


def test_after_the_last_day_the_caregiver_sees_nothing(patient):
    _, db, client = patient
    ana = linked_caregiver(db, client)
    assert proxy_policy.access_of(db, ana["uid"], "pat-1").stage == "shared"
    later = TODAY + dt.timedelta(days=91)
    assert proxy_policy.access_of(db, ana["uid"], "pat-1", on=later).stage == "ended"
    assert proxy_policy.access_of(db, ana["uid"], "pat-1", on=TODAY + dt.timedelta(days=90)).stage == "shared"


def test_the_caregivers_menu_lists_only_the_shared_sections(patient):
    app, db, client = patient
    linked_caregiver(db, client)
    caregiver = app.test_client()
    portal_login(caregiver, CAREGIVER)
    page = text(caregiver.get("/portal/records/"))
    assert 'href="/portal/records/lab-results"' in page
    assert 'href="/portal/records/diagnoses"' not in page


def test_the_patient_cancels_an_invitation_that_waits(patient):
    app, db, client = patient
    invite(client)
    made = enrollment_store.invites_of_patient(db, 1)[-1]
    page = text(client.get("/portal/people"))
    assert f'action="/portal/people/invites/{made["uid"]}/cancel"' in page
    done = post(client, f"/portal/people/invites/{made['uid']}/cancel")
    assert done.status_code == 302 and done.headers["Location"] == "/portal/people"
    page = text(client.get("/portal/people"))
    assert f"The invitation to {CAREGIVER} is cancelled; its code no longer works." in page
    assert "Invited, not joined yet" not in page
    assert enrollment_store.invite_by_uid(db, made["uid"])["status"] == "cancelled"
    event = enrollment_store.events_of_patient(db, 1)[0]
    assert (event["event"], event["actor"]) == ("cancelled", f"account {PATIENT}")
    assert post(client, f"/portal/people/invites/{made['uid']}/cancel").status_code == 404


def test_the_patient_cannot_cancel_the_practices_invitations(patient):
    _, db, client = patient
    made = enrollment.invite_people(
        context(db), store.chart_row(db, "patients", 1), [{"relation": "spouse", "email": "x@example.com"}], STAFF
    )[0]
    assert post(client, f"/portal/people/invites/{made['uid']}/cancel").status_code == 404
    assert enrollment_store.invite_by_uid(db, made["uid"])["status"] == "invited"


def test_the_caregiver_is_asked_for_the_patients_code_not_the_practices(patient):
    app, db, client = patient
    invite(client)
    email = outbox(db)[-1]["body_text"]
    assert "you will need the code the person who invited you reads to you" in email
    assert "the practice gave you" not in email
    made = enrollment_store.invites_of_patient(db, 1)[-1]
    ana = accounts.create_account(db, CAREGIVER, "Secret-Pass1", name="Ana Ramírez", confirmed=True)
    with store.transaction(db):
        enrollment_store.update_invite(db, made["id"], {"account_id": ana["id"]}, "2026-01-01T00:00:00Z")
    caregiver = app.test_client()
    portal_login(caregiver, CAREGIVER)
    page = text(caregiver.get(f"/portal/verify/{made['uid']}"))
    assert '<label for="pin">The code José Ramírez read to you</label>' in page
    assert "Text me a code" not in page and "from your practice" not in page


def test_after_the_last_day_the_record_leaves_the_caregivers_switcher(patient):
    _, db, client = patient
    ana = linked_caregiver(db, client)
    assert [r["patient_uid"] for r in accounts.linked_records(db, ana["id"])] == ["pat-1"]
    with store.transaction(db):
        db.execute(
            "UPDATE account_links SET access_until = ? WHERE account_id = ?", (str(TODAY.replace(year=2020)), ana["id"])
        )
    assert accounts.linked_records(db, ana["id"]) == []


def test_a_patient_cannot_send_invitation_emails_without_end(patient):
    """Each invitation emails an address the patient types: at most MAX_WAITING wait at once and MAX_A_DAY are made
    in a day (cancelling does not free the day's count), so the form is no way to mail strangers in bulk."""
    _, db, client = patient
    for n in range(representatives.MAX_WAITING):
        assert invite(client, email=f"person{n}@example.com").status_code == 200
    refused = invite(client, email="one-more@example.com")
    assert refused.status_code == 400
    assert f"{representatives.MAX_WAITING} invitations are waiting" in text(refused)
    for made in enrollment_store.invites_of_patient(db, 1):
        post(client, f"/portal/people/invites/{made['uid']}/cancel", {})
    for n in range(representatives.MAX_A_DAY - representatives.MAX_WAITING):
        assert invite(client, email=f"later{n}@example.com").status_code == 200
        post(client, f"/portal/people/invites/{enrollment_store.invites_of_patient(db, 1)[-1]['uid']}/cancel", {})
    refused = invite(client, email="too-many@example.com")
    assert refused.status_code == 400
    assert f"You have sent {representatives.MAX_A_DAY} invitations today" in text(refused)
    assert len(outbox(db)) == representatives.MAX_A_DAY
