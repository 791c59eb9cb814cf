"""Web sessions: a password reset logs the account out everywhere, and an ended session stays ended."""

import time

import pytest

from gateway import store
from gateway.store import accounts as account_store
from gateway.web.sessions import DbSession, _hash
from smart_auth import accounts
from tests.enrollment_helpers import last_link, outbox
from tests.web_helpers import enrollment_app, portal_login, post, text


@pytest.fixture
def web(new_db_path):
    app, db = enrollment_app(new_db_path)
    accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    accounts.create_account(db, "ana@example.com", "Secret-Pass1", confirmed=True)
    return app, db


def logged_in(app, email="jose@example.com"):
    client = app.test_client()
    assert portal_login(client, email).status_code == 302
    assert client.get("/portal/settings").status_code == 200
    return client


def test_a_password_reset_logs_the_account_out_everywhere_else(web):
    app, db = web
    laptop, phone, someone_else = logged_in(app), logged_in(app), logged_in(app, "ana@example.com")
    visitor = app.test_client()
    post(visitor, "/portal/forgot", {"email": "jose@example.com"})
    [email] = [m for m in outbox(db, "email") if m["kind"] == "password reset"]
    assert "logs out every device" in email["body_text"]
    page = f"/portal/reset/{last_link(db, '/portal/reset/')}"
    done = post(visitor, page, {"password": "Brand-New-Pass2"}, page)
    assert done.status_code == 302 and done.headers["Location"] == "/portal/login"
    login_page = text(visitor.get("/portal/login"))
    assert "every device that was logged in to your account is logged out" in login_page
    for client in (laptop, phone):
        response = client.get("/portal/settings")
        assert response.status_code == 302 and response.headers["Location"].startswith("/portal/login")
    assert someone_else.get("/portal/settings").status_code == 200


def test_a_reset_from_a_logged_in_browser_logs_that_browser_out_too(web):
    app, db = web
    client = logged_in(app)
    post(client, "/portal/forgot", {"email": "jose@example.com"}, "/portal/settings")
    page = f"/portal/reset/{last_link(db, '/portal/reset/')}"
    assert post(client, page, {"password": "Brand-New-Pass2"}, page).status_code == 302
    assert "is logged out" in text(client.get("/portal/login"))
    assert client.get("/portal/settings").status_code == 302


def test_sessions_are_findable_by_account(web):
    app, db = web
    logged_in(app), logged_in(app), logged_in(app, "ana@example.com")
    jose = account_store.account_by_email(db, "jose@example.com")
    with store.transaction(db):
        assert account_store.end_sessions_of_account(db, jose["id"]) == 2
    assert db.execute("SELECT count(*) FROM web_sessions WHERE account_id IS NOT NULL").fetchone() == (1,)


def test_an_ended_session_is_not_brought_back_by_a_request_still_running(web):
    app, db = web
    now = int(time.time())
    with store.transaction(db):
        account_store.insert_session(db, _hash("old-sid"), '{"account_id": 1}', now, now + 60, 1)
        account_store.end_sessions_of_account(db, 1)
    session = DbSession({"account_id": 1}, sid="old-sid")
    session["csrf"] = "changed during the request"
    with app.test_request_context("/portal/"):
        app.session_interface.save_session(app, session, app.response_class())
    assert account_store.load_session(db, _hash("old-sid"), now) is None
