"""SQLite's write lock held past the busy timeout: every door answers 503 with Retry-After in its own shape, the
refused write leaves nothing behind, and the next request after the lock is freed succeeds (nothing cached the
failure). Which errors count as "the database cannot do it now" on either engine (gateway/store/errors.py)."""

import contextlib
import re
import sqlite3

import psycopg
import psycopg_pool
import pytest

from gateway import store
from gateway.store import connection, disclosures
from gateway.store import oauth as oauth_store
from gateway.store.errors import unavailable
from smart_auth import accounts
from smart_auth.tokens import issue_access_token
from tests.gateway.test_faults_outage import CLIENT, _code

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def web(make_app, fresh_demo_db_path, monkeypatch):
    """The app on a writable demo copy, with a busy timeout of 0.2 s instead of 10 (the behaviour is the same)."""
    for module in (connection, oauth_store, disclosures):
        monkeypatch.setattr(module, "BUSY_TIMEOUT_S", 0.2)
    from fixtures import demo_clients

    demo_clients.load(store.connect(fresh_demo_db_path))
    app = make_app(fresh_demo_db_path, OUTBOX_SENDER="off")
    return app.test_client(), fresh_demo_db_path


@contextlib.contextmanager
def write_lock(path):
    """Another process's writer, holding the database's write lock (BEGIN IMMEDIATE) until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _assert_unavailable(response, content_type):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"].startswith(content_type)


def _refresh(client, token):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token}, auth=CLIENT)


def test_a_token_refresh_while_the_write_lock_is_held_is_503_and_spends_nothing(web):
    client, path = web
    db = store.connect(path)
    patient = store.chart_rows(db, "patients")[0]["uid"]
    from fixtures import demo_clients

    exchanged = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": _code(db, patient, "subject-1"),
            "redirect_uri": demo_clients.REDIRECT_URI,
            "code_verifier": demo_clients.CODE_VERIFIER,
        },
        auth=CLIENT,
    )
    assert exchanged.status_code == 200, exchanged.get_data(as_text=True)
    refresh_token = exchanged.get_json()["refresh_token"]
    with write_lock(path):
        refused = _refresh(client, refresh_token)
    _assert_unavailable(refused, "application/json")
    assert refused.get_json()["error"] == "temporarily_unavailable"
    assert oauth_store.find_refresh_token(db, refresh_token)["used_at"] is None  # rolled back, not half-spent
    assert _refresh(client, refresh_token).status_code == 200  # and the same token works once the lock is gone


def test_a_fhir_read_whose_access_log_entry_cannot_be_written_is_503_not_an_unlogged_disclosure(web):
    client, path = web
    db = store.connect(path)
    patient = store.chart_rows(db, "patients")[0]["uid"]
    bearer = {"Authorization": "Bearer " + issue_access_token(db, CLIENT[0], "patient/*.rs", patient)}
    with write_lock(store.access_log_path(path)):
        refused = client.get(f"/fhir/Patient/{patient}", headers=bearer)
        conditional = client.get(f"/fhir/Patient/{patient}", headers={**bearer, "If-None-Match": 'W/"0"'})
    for response in (refused, conditional):  # the lean front's answer and the Flask route's
        _assert_unavailable(response, "application/fhir+json")
        issue = response.get_json()["issue"][0]
        assert (issue["severity"], issue["code"]) == ("error", "transient")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/fhir/Patient/{patient}", headers=bearer).status_code == 200


def test_a_portal_login_while_the_write_lock_is_held_is_a_503_page_and_the_next_one_works(web):
    client, path = web
    accounts.create_account(store.connect(path), "lou@example.com", "Right-Pass1", name="Lou", confirmed=True)
    page = client.get("/portal/login").get_data(as_text=True)
    form = {
        "email": "lou@example.com",
        "password": "Right-Pass1",
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
    }
    with write_lock(path):
        refused = client.post("/portal/login", data=form)
    _assert_unavailable(refused, "text/html")
    assert "Briefly unavailable" in refused.get_data(as_text=True)
    assert client.post("/portal/login", data=form).status_code == 302


@pytest.mark.parametrize(
    "exc",
    [
        psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"),
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_what_says_the_database_cannot_do_it_now(exc):
    assert unavailable(exc)


def test_a_bug_is_not_an_outage(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db")
    with pytest.raises(sqlite3.OperationalError) as missing:
        conn.execute("SELECT * FROM no_such_table")
    assert not unavailable(missing.value)
    assert not unavailable(psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"))
    assert not unavailable(psycopg.errors.UndefinedTable("relation does not exist"))
    assert not unavailable(ValueError("not a database error"))
