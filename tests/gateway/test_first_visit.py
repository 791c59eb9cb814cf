"""The first visit after sign-up, in the order the seed article gives: sign up, confirm the email, log in,
verify identity straight away, land on the record's Overview; after a lock, a plain "re-invite" message."""

import pytest
from markupsafe import escape

from gateway import store
from gateway.portal.wording import whose_record
from smart_auth import enrollment
from smart_auth.verification import MAX_FAILURES
from tests.enrollment_helpers import STAFF, context, last_link
from tests.web_helpers import enrollment_app, portal_login, post, text


@pytest.fixture
def web(new_db_path):
    app, db = enrollment_app(new_db_path)
    return app.test_client(), db


def invited_and_signed_up(client, db, confirm=True):
    """José is invited, follows the link, signs up and (by default) confirms his email; not logged in yet."""
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"}
    made = enrollment.invite_people(context(db), store.chart_row(db, "patients", 1), [person], STAFF)[0]
    client.get(f"/portal/invite/{last_link(db)}")
    post(client, "/portal/signup", {"email": "jose.r@example.com", "password": "Secret-Pass1", "name": "José"})
    if confirm:
        client.get(f"/portal/confirm/{last_link(db, '/portal/confirm/')}")
    return made


def test_first_login_goes_straight_to_verification(web):
    client, db = web
    made = invited_and_signed_up(client, db)
    login = portal_login(client, "jose.r@example.com")
    assert login.headers["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 302 and home.headers["Location"] == f"/portal/verify/{made['uid']}"
    page = text(client.get(home.headers["Location"]))
    assert "<h1>Verify your identity</h1>" in page
    assert "Use the link in the invitation" not in page and "Welcome" not in page


def test_unconfirmed_account_is_sent_to_verification_which_asks_to_confirm_first(web):
    client, db = web
    made = invited_and_signed_up(client, db, confirm=False)
    portal_login(client, "jose.r@example.com")
    home = client.get("/portal/")
    assert home.headers["Location"] == f"/portal/verify/{made['uid']}"
    page = text(client.get(home.headers["Location"]))
    assert "First confirm your email address" in page and "Send the email again" in page
    assert 'name="pin"' not in page


def test_linking_lands_on_the_records_overview(web):
    client, db = web
    made = invited_and_signed_up(client, db)
    portal_login(client, "jose.r@example.com")
    linked = post(client, f"/portal/verify/{made['uid']}/pin", {"pin": made["pin"]})
    assert linked.status_code == 302 and linked.headers["Location"] == "/portal/records/"
    overview = text(client.get("/portal/records/"))
    assert (
        "<h1>Your record</h1>" in overview and "Your account is now linked to the record at Test Practice" in overview
    )


def lock(client, made):
    for _ in range(MAX_FAILURES):
        response = post(client, f"/portal/verify/{made['uid']}/pin", {"pin": "WXYZ-2222"})
    return response


def test_after_a_lock_the_pages_say_the_practice_must_re_invite_with_no_dead_end_button(web):
    client, db = web
    made = invited_and_signed_up(client, db)
    portal_login(client, "jose.r@example.com")
    locked = lock(client, made)
    page = text(locked)
    assert locked.status_code == 423
    assert "<h1>This invitation is locked</h1>" in page
    assert "Test Practice must re-invite you" in page and 'name="pin"' not in page
    home = client.get("/portal/")
    assert home.status_code == 200
    html = text(home)
    assert "Test Practice must re-invite you" in html
    assert f"/portal/verify/{made['uid']}" not in html  # no button that leads nowhere
    assert "Use the link in the invitation" not in html
    assert text(client.get(f"/portal/verify/{made['uid']}")).count("Test Practice must re-invite you") == 1


def test_after_a_re_invite_the_next_login_goes_to_the_new_invitation(web):
    client, db = web
    made = invited_and_signed_up(client, db)
    portal_login(client, "jose.r@example.com")
    lock(client, made)
    fresh = enrollment.reinvite(context(db), enrollment.invite_in_practice(db, 1, made["uid"]), STAFF)
    client.get(f"/portal/invite/{last_link(db)}")
    claimed = client.get("/portal/invite/claim")
    assert claimed.headers["Location"] == f"/portal/verify/{fresh['uid']}"
    assert client.get("/portal/").headers["Location"] == f"/portal/verify/{fresh['uid']}"


def test_an_account_with_a_record_keeps_its_home_page_and_sees_the_pending_invitation(web):
    client, db = web
    made = invited_and_signed_up(client, db)
    portal_login(client, "jose.r@example.com")
    post(client, f"/portal/verify/{made['uid']}/pin", {"pin": made["pin"]})
    person = {"relation": "parent", "email": "jose.r@example.com", "phone": "555-010-0009"}
    child = enrollment.invite_people(context(db), store.chart_row(db, "patients", 2), [person], STAFF)[0]
    client.get(f"/portal/invite/{last_link(db)}")
    assert client.get("/portal/invite/claim").headers["Location"] == f"/portal/verify/{child['uid']}"
    home = client.get("/portal/")
    assert home.status_code == 200
    html = text(home)
    child_row = store.chart_row(db, "patients", 2)
    joining = whose_record({**child_row, "relation": "parent"})
    assert "Records you can see" in html and f"Join {escape(joining)} at Test Practice" in html
    assert 'href="/portal/verify/' + child["uid"] + '"' in html
