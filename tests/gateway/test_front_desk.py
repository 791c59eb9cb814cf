"""The front desk's enrollment pages: Revoke, Re-invite and Cancel ask first (a second page, no JavaScript)
and say what will happen; the printable access code names the patient; hints and times read the same for
staff and patient."""

import re

import pytest

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, audit, enrollment, pins, verification
from tests.enrollment_helpers import STAFF, context, last_link
from tests.web_helpers import enrollment_app, portal_login, post, staff_login, text

CHART = "/practice/patients/pat-1"


@pytest.fixture
def web(new_db_path):
    app, db = enrollment_app(new_db_path)
    client = app.test_client()
    staff_login(client)
    return client, db


def invited(db, **person):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001", **person}
    return enrollment.invite_people(context(db), store.chart_row(db, "patients", 1), [person], STAFF)[0]


def status_of(db, uid):
    return enrollment_store.invite_by_uid(db, uid)["status"]


def test_cancel_asks_first_and_says_what_will_happen(web):
    client, db = web
    made = invited(db)
    chart = text(client.get(CHART))
    assert f'<a class="button secondary" href="/practice/invites/{made["uid"]}/cancel">Cancel invite' in chart
    asked = client.get(f"/practice/invites/{made['uid']}/cancel")
    page = text(asked)
    assert asked.status_code == 200 and status_of(db, made["uid"]) == "invited"
    assert "<h1>Cancel the invitation of jose@example.com?</h1>" in page
    assert "Their access code and the link in their email stop working at once." in page
    assert '<button type="submit" name="confirm" value="yes" class="danger">Cancel the invitation</button>' in page
    assert f'href="{CHART}#portal-access">Keep the invitation</a>' in page
    done = post(client, f"/practice/invites/{made['uid']}/cancel", {"confirm": "yes"}, page=CHART)
    assert done.status_code == 302 and status_of(db, made["uid"]) == "cancelled"


def test_a_post_without_the_confirmation_only_asks(web):
    client, db = web
    made = invited(db)
    for action in ("cancel", "reinvite"):
        asked = post(client, f"/practice/invites/{made['uid']}/{action}", page=CHART)
        assert asked.status_code == 200 and 'name="confirm" value="yes"' in text(asked)
    assert status_of(db, made["uid"]) == "invited" and len(enrollment_store.invites_of_patient(db, 1)) == 1


def test_reinvite_asks_first_and_says_what_will_happen(web):
    client, db = web
    made = invited(db)
    page = text(client.get(f"/practice/invites/{made['uid']}/reinvite"))
    assert "<h1>Re-invite jose@example.com?</h1>" in page
    assert (
        "They get a new invitation email. You give them a new access code; the current code and link stop working."
        in page
    )
    post(client, f"/practice/invites/{made['uid']}/reinvite", {"confirm": "yes"}, page=CHART)
    assert status_of(db, made["uid"]) == "superseded" and len(enrollment_store.invites_of_patient(db, 1)) == 2


def test_reinvite_of_a_linked_account_says_it_keeps_access_until_it_finalizes(web):
    client, db = web
    made = invited(db)
    account = accounts.create_account(db, "jose.r@example.com", "Secret-Pass1", confirmed=True)
    verification.claim_invite(context(db), last_link(db), account)
    verification.verify_access_code(context(db), account, made["uid"], made["pin"])
    page = text(client.get(f"/practice/invites/{made['uid']}/reinvite"))
    assert (
        "Their account keeps its access meanwhile; at their next login they finalize access with the "
        "patient’s date of birth and the new code." in page
    )


def test_resend_needs_no_confirmation_and_has_no_confirmation_page(web):
    client, db = web
    made = invited(db)
    assert client.get(f"/practice/invites/{made['uid']}/resend").status_code == 404
    assert post(client, f"/practice/invites/{made['uid']}/resend", page=CHART).status_code == 302


def test_revoke_asks_first_and_says_what_will_happen(web):
    client, db = web
    account = accounts.create_account(db, "jose.r@example.com", "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    chart = text(client.get(CHART))
    link_uid = re.search(r'href="/practice/links/([0-9a-f]+)/revoke"', chart).group(1)
    page = text(client.get(f"/practice/links/{link_uid}/revoke"))
    assert "<h1>Revoke the access of jose.r@example.com to José Ramírez’s record?</h1>" in page
    assert (
        "They will no longer see this record in the patient portal, and every app they connected to it loses "
        "access at once. To give access again, invite them again." in page
    )
    asked = post(client, f"/practice/links/{link_uid}/revoke", page=CHART)
    assert asked.status_code == 200 and accounts.linked_records(db, account["id"]) != []
    post(client, f"/practice/links/{link_uid}/revoke", {"confirm": "yes"}, page=CHART)
    assert accounts.linked_records(db, account["id"]) == []


def test_confirmation_pages_of_another_practice_are_not_found(web):
    client, db = web
    [other] = enrollment.invite_people(
        context(db), store.chart_row(db, "patients", 3), [{"relation": "self", "email": "x@example.com"}], STAFF
    )
    assert client.get(f"/practice/invites/{other['uid']}/cancel").status_code == 404
    assert client.get("/practice/links/nope/revoke").status_code == 404


def test_the_invite_forms_email_box_fits_a_normal_address(web):
    client, _ = web
    html = text(client.get("/practice/patients/pat-1/invite"))
    assert '<div class="field field-email"><label for="email-0">Email</label>' in html
    assert 'id="email-0" name="people-0-email" type="email" size="40" autocomplete="off"' in html


def test_the_printable_access_code_names_the_patient_and_has_a_print_button(web):
    client, db = web
    made = invited(db)
    child = invited(db, relation="parent", email="mom@example.com", phone="")
    page = text(client.get(f"/practice/invites/{made['uid']}/print"))
    assert "<h1>Patient portal access code for José Ramírez</h1>" in page
    assert '<button type="button" class="no-print" data-print hidden>Print this page</button>' in page
    assert '<script src="/static/print.js" defer></script>' in page
    parent = text(client.get(f"/practice/invites/{child['uid']}/print"))
    assert "<h1>Patient portal access code for José Ramírez’s record</h1>" in parent
    assert "invited you, as parent of José Ramírez," in parent


def test_the_access_code_hint_uses_an_example_that_cannot_be_a_code(new_db_path):
    app, db = enrollment_app(new_db_path)
    client = app.test_client()
    made = invited(db)
    accounts.create_account(db, "jose.r@example.com", "Secret-Pass1", confirmed=True)
    portal_login(client, "jose.r@example.com")
    verification.claim_invite(context(db), last_link(db), account_store.account_by_email(db, "jose.r@example.com"))
    page = text(client.get(f"/portal/verify/{made['uid']}"))
    example = re.search(r'id="pin-hint">Eight letters and numbers, like ([A-Z0-9-]+)\.</p>', page).group(1)
    assert example == "ABCD-1234"
    assert set(example.replace("-", "")) - set(pins.PIN_ALPHABET) == {"B", "D", "1", "2"}


def test_staff_and_patient_see_the_same_event_at_the_same_local_time(web, tmp_path):
    client, db = web
    account = accounts.create_account(db, "mom@example.com", "Secret-Pass1", confirmed=True)
    me = accounts.create_account(db, "jose.r@example.com", "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(db, me["id"], 1, "self")
    accounts.link_account_to_chart(db, account["id"], 1, "parent")
    audit.record(db, "linked", "account mom@example.com", patient_id=1, practice_id=1, account_id=account["id"])
    with store.transaction(db):
        db.execute(
            "UPDATE account_links SET linked_at = ? WHERE account_id = ?", ("2026-01-15T18:30:00.000Z", account["id"])
        )
        db.execute("UPDATE enrollment_events SET at = ? WHERE event = 'linked'", ("2026-01-15T18:30:00.000Z",))
    shown = "Jan 15, 2026, 10:30\u202fAM PST"
    staff = text(client.get(CHART))
    assert '<th scope="col">When</th>' in staff and "(UTC)" not in staff
    assert f'<time datetime="2026-01-15T18:30:00.000Z">{shown}</time>' in staff
    patient = client.application.test_client()
    portal_login(patient, "jose.r@example.com")
    people = text(patient.get("/portal/people"))
    assert f'<time datetime="2026-01-15T18:30:00.000Z">{shown}</time>' in people
