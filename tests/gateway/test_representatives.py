"""The adult patient's Representatives page: who is linked, removing them (their sessions and every token they
hold for the record end at once, and the practice sees it), and the email when someone is linked."""

import datetime as dt
import re

import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, verification
from smart_auth.tokens import issue_access_token
from tests.enrollment_helpers import STAFF, context, last_link, outbox
from tests.web_helpers import enrollment_app, portal_login, post, staff_login, text

FIFTEEN_YEARS_AGO = f"{dt.datetime.now(dt.timezone.utc).year - 15}-01-01"
PATIENT, SPOUSE, OTHER = "jose@example.com", "ana@example.com", "sam@example.com"


@pytest.fixture
def linked(new_db_path):
    """José (chart 1) with his own account, Ana linked to his record as his spouse, and an app token of Ana's."""
    app, db = enrollment_app(new_db_path)
    jose = accounts.create_account(db, PATIENT, "Secret-Pass1", name="José Ramírez", confirmed=True)
    ana = accounts.create_account(db, SPOUSE, "Secret-Pass1", name="Ana Ramírez", confirmed=True)
    accounts.link_account_to_chart(db, jose["id"], 1, "self")
    link_id = accounts.link_account_to_chart(db, ana["id"], 1, "spouse")
    link = db.execute("SELECT uid FROM account_links WHERE id = ?", (link_id,)).fetchone()[0]
    token = issue_access_token(db, "test-app", "patient/*.rs", "pat-1", subject=ana["uid"])
    return app, db, link, {"Authorization": f"Bearer {token}"}


def test_the_patient_sees_their_representative_with_a_remove_button(linked):
    app, _, link, _ = linked
    client = app.test_client()
    portal_login(client, PATIENT)
    page = text(client.get("/portal/people"))
    assert "<strong>Ana Ramírez</strong>, your spouse, since" in page and "Sees your whole record." in page
    assert f'action="/portal/people/{link}/remove"' in page
    confirm = text(client.get(f"/portal/people/{link}/remove"))
    assert "Remove Ana Ramírez?" in confirm
    assert "logged out, and every app they connected to your record loses access at once" in confirm


def test_removing_a_representative_ends_their_tokens_and_sessions_at_once(linked):
    app, db, link, headers = linked
    spouse = app.test_client()
    portal_login(spouse, SPOUSE)
    assert spouse.get("/portal/records/").status_code == 200
    assert app.test_client().get("/fhir/Patient/pat-1", headers=headers).status_code == 200
    patient = app.test_client()
    portal_login(patient, PATIENT)
    done = post(patient, f"/portal/people/{link}/remove")
    assert done.status_code == 302 and done.headers["Location"] == "/portal/people"
    page = text(patient.get("/portal/people"))
    assert "Ana Ramírez can no longer see your record." in page and "Only you can see your record." in page
    refused = app.test_client().get("/fhir/Patient/pat-1", headers=headers)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert spouse.get("/portal/records/").status_code == 302  # logged out: sent to the login page
    assert spouse.get("/portal/records/").headers["Location"].startswith("/portal/login")
    event = enrollment_store.events_of_patient(db, 1)[0]
    assert (event["event"], event["actor"], event["detail"]) == (
        "removed by patient",
        f"account {PATIENT}",
        f"spouse: {SPOUSE}",
    )


def test_the_practice_sees_the_removal_in_the_enrollment_history(linked):
    app, _, link, _ = linked
    patient = app.test_client()
    portal_login(patient, PATIENT)
    post(patient, f"/portal/people/{link}/remove")
    staff = app.test_client()
    staff_login(staff)
    chart = text(staff.get("/practice/patients/pat-1"))
    assert re.search(r"<td>removed by patient</td><td>account jose@example.com</td>", chart)


def test_only_the_patient_removes_and_only_others_on_their_own_record(linked):
    app, db, link, headers = linked
    own = db.execute("SELECT uid FROM account_links WHERE relation = 'self'").fetchone()[0]
    spouse = app.test_client()
    portal_login(spouse, SPOUSE)
    assert post(spouse, f"/portal/people/{own}/remove").status_code == 404  # a representative removes no one
    patient = app.test_client()
    portal_login(patient, PATIENT)
    assert post(patient, f"/portal/people/{own}/remove").status_code == 404  # not themself
    assert post(patient, "/portal/people/no-such-link/remove").status_code == 404
    sam = accounts.create_account(db, OTHER, "Secret-Pass1", confirmed=True)
    elsewhere = accounts.link_account_to_chart(db, sam["id"], 2, "parent")
    other = db.execute("SELECT uid FROM account_links WHERE id = ?", (elsewhere,)).fetchone()[0]
    assert post(patient, f"/portal/people/{other}/remove").status_code == 404  # another chart's link
    assert app.test_client().get("/fhir/Patient/pat-1", headers=headers).status_code == 200
    post(patient, f"/portal/people/{link}/remove")
    assert post(patient, f"/portal/people/{link}/remove").status_code == 404  # already removed


def test_the_patient_is_emailed_when_a_representative_is_linked(new_db_path):
    _, db = enrollment_app(new_db_path)
    jose = accounts.create_account(db, PATIENT, "Secret-Pass1", name="José Ramírez", confirmed=True)
    accounts.link_account_to_chart(db, jose["id"], 1, "self")
    ctx = context(db)
    person = {"relation": "spouse", "email": SPOUSE}
    made = enrollment.invite_people(ctx, store.chart_row(db, "patients", 1), [person], STAFF)[0]
    last_link(db)
    ana = accounts.create_account(db, SPOUSE, "Secret-Pass1", name="Ana Ramírez", confirmed=True)
    with store.transaction(db):
        enrollment_store.update_invite(db, made["id"], {"account_id": ana["id"]}, "2026-01-01T00:00:00Z")
    verification.verify_access_code(ctx, ana, made["uid"], made["pin"])
    notice = outbox(db)[-1]
    assert (notice["recipient"], notice["subject"]) == (PATIENT, "Someone can now see your Test Practice record")
    assert "Ana Ramírez (ana@example.com) was linked to your record as your spouse." in notice["body_text"]
    assert "If you do not know them, remove them: http://gateway.test/portal/people" in notice["body_text"]


def test_a_teen_with_their_own_account_sees_but_cannot_remove_their_parent(new_db_path):
    app, db = enrollment_app(new_db_path)
    store.insert_rows(
        db,
        "patients",
        [
            {
                "id": 10,
                "uid": "teen",
                "practice_id": 1,
                "mrn": "T010",
                "first_name": "Linh",
                "last_name": "Nguyen",
                "birth_date": FIFTEEN_YEARS_AGO,
                "sex": "F",
            }
        ],
    )
    teen = accounts.create_account(db, "linh@example.org", "Secret-Pass1", name="Linh Nguyen", confirmed=True)
    hoa = accounts.create_account(db, "hoa@example.com", "Secret-Pass1", name="Hoa Nguyen", confirmed=True)
    accounts.link_account_to_chart(db, teen["id"], 10, "self")
    link = db.execute(
        "SELECT uid FROM account_links WHERE id = ?", (accounts.link_account_to_chart(db, hoa["id"], 10, "parent"),)
    ).fetchone()[0]
    client = app.test_client()
    portal_login(client, "linh@example.org")
    page = text(client.get("/portal/people"))
    assert "<strong>Hoa Nguyen</strong>, your parent" in page
    assert "Until you are an adult, Test Practice manages who can see your record." in page
    assert "/remove" not in page and "Invite a caregiver" not in page
    assert post(client, f"/portal/people/{link}/remove").status_code == 404
    assert post(client, "/portal/people/invite", {"email": "x@example.com"}).status_code == 404
