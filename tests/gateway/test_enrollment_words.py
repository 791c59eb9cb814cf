"""What an invitee reads must be true (issue 20): an older link after a resend, finalizing after a correction."""

import re

import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, verification
from tests.enrollment_helpers import STAFF, context, last_link, outbox
from tests.web_helpers import enrollment_app, portal_login, post, text


@pytest.fixture
def web(new_db_path):
    app, db = enrollment_app(new_db_path)
    return app.test_client(), db


def invite(db):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"}
    made = enrollment.invite_people(context(db), store.chart_row(db, "patients", 1), [person], STAFF)[0]
    return made, last_link(db)


@pytest.mark.parametrize("action", [enrollment.resend_invite, enrollment.reinvite])
def test_an_older_link_says_a_newer_invitation_was_sent(web, action):
    client, db = web
    made, first = invite(db)
    action(context(db), enrollment_store.invite_by_uid(db, made["uid"]), STAFF)
    assert last_link(db) != first
    response = client.get(f"/portal/invite/{first}")
    assert response.status_code == 410
    page = text(response)
    assert "A newer invitation was sent after this one. Use the link in the latest email or text message." in page
    assert "already been used" not in page


def test_a_used_link_says_it_was_used(web):
    client, db = web
    _, token = invite(db)
    holder = accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    verification.claim_invite(context(db), token, holder)
    page = text(client.get(f"/portal/invite/{token}"))
    assert "This link has already been used. Log in to continue." in page


@pytest.fixture
def corrected(web):
    """José linked, then staff correct his date of birth and re-invite him to finalize."""
    client, db = web
    made, token = invite(db)
    holder = accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    verification.claim_invite(context(db), token, holder)
    verification.verify_access_code(context(db), holder, made["uid"], made["pin"])
    with store.transaction(db):
        db.execute("UPDATE patients SET birth_date = '1980-05-18' WHERE id = 1")
    new = enrollment.reinvite(context(db), enrollment_store.invite_by_uid(db, made["uid"]), STAFF)
    portal_login(client, "jose@example.com")
    return client, db, new


def test_until_finalized_no_page_shows_the_corrected_date_of_birth(corrected):
    client, _, new = corrected
    for path in ("/portal/", f"/portal/verify/{new['uid']}", "/portal/profile", "/portal/records/"):
        page = text(client.get(path))
        assert "1980-05-18" not in page and "May 18, 1980" not in page, path
        assert "May 17, 1980" not in page, path  # nor the value it replaced
    profile = text(client.get("/portal/profile"))
    assert "Confirm your date of birth to finalize access on the" in profile
    assert f'<a href="/portal/verify/{new["uid"]}">Finalize access</a> page' in profile


def test_after_finalizing_the_date_of_birth_is_shown(corrected):
    client, _, new = corrected
    post(client, f"/portal/verify/{new['uid']}/pin", {"pin": new["pin"], "birth_date": "1980-05-18"})
    assert '(born <time datetime="1980-05-18">May 18, 1980</time>)' in text(client.get("/portal/records/"))


def test_a_wrong_date_keeps_the_typed_access_code(corrected):
    client, _, new = corrected
    response = post(client, f"/portal/verify/{new['uid']}/pin", {"pin": new["pin"], "birth_date": "1980-05-17"})
    assert response.status_code == 400
    page = text(response)
    assert "does not match" in page
    assert f'name="pin" value="{new["pin"]}"' in page


def test_the_reinvite_email_to_a_linked_patient_asks_to_confirm_the_changed_record(corrected):
    _, db, _ = corrected
    email = [m for m in outbox(db, "email") if m["kind"] == "invite"][-1]
    assert email["subject"] == "Your record at Test Practice was updated"
    assert email["body_text"].startswith(
        "Test Practice changed details in your record. To keep seeing it in the patient portal, "
        "confirm them: log in and enter your date of birth and the new access code the practice gave you."
    )
    assert "create your portal account" not in email["body_text"]


def test_the_demo_outbox_dates_its_messages_as_every_other_page(new_db_path):
    app, db = enrollment_app(new_db_path, DEMO=True)
    invite(db)
    page = text(app.test_client().get("/portal/outbox"))
    assert re.search(
        r'<p class="hint"><time datetime="[0-9T:.-]+Z">[A-Z][a-z]{2} \d{1,2}, \d{4}, [^<]+</time> · invite', page
    )
