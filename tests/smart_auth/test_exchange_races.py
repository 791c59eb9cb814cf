"""The token endpoint's writes: one write transaction per exchange, and single use under real concurrency.

A code (or a refresh token) is used up in the same transaction that stores what it buys, so of N parallel
redemptions exactly one gets tokens, and every other one, whenever it arrives, revokes what the winner got
(RFC 6749 section 4.1.2; OAuth 2.0 Security BCP, RFC 9700 section 4.14.2 for refresh tokens).
"""

import threading

import pytest

from gateway import store
from gateway.store import oauth as oauth_store
from smart_auth import server as smart_server

from .oauth_helpers import KEALA, REDIRECT, bearer

PARALLEL = 8


@pytest.fixture
def slow_tokens(monkeypatch):
    """Token generation takes 20 ms: a wide window between a code's check and the storing of its tokens."""
    real = smart_server.secrets.token_urlsafe

    class Slow:
        @staticmethod
        def token_urlsafe(n):
            threading.Event().wait(0.02)
            return real(n)

    monkeypatch.setattr(smart_server, "secrets", Slow)


def redeem_in_parallel(app, form, n=PARALLEL):
    """POST ``form`` to /oauth/token from ``n`` threads released together; return (statuses, bodies) sorted."""
    barrier, results, lock = threading.Barrier(n), [], threading.Lock()

    def run():
        client = app.test_client()
        barrier.wait()
        response = client.post("/oauth/token", data=form)
        with lock:
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=lambda r: r[0])


def code_form(flow, code):
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": flow.client_id,
        "code_verifier": flow.verifier,
    }


def refresh_form(flow, token):
    return {"grant_type": "refresh_token", "client_id": flow.client_id, "refresh_token": token}


def writes_of(path, call):
    """The statements that write (and the transaction's edges) a call runs on this thread's handle."""
    seen = []
    conn = store.current(path)
    conn.set_trace_callback(seen.append)
    try:
        response = call()
    finally:
        conn.set_trace_callback(None)
    assert response.status_code == 200, response.get_json()
    return [s.split(" (")[0].split(" SET")[0] for s in seen if not s.startswith(("SELECT", "PRAGMA"))]


@pytest.mark.sqlite_only  # SQLite's own statements and pragmas
def test_a_code_exchange_writes_in_one_transaction(flow, oauth_db):
    code = flow.code(who=KEALA, patient="Keala")
    assert writes_of(oauth_db[0], lambda: flow.exchange(code)) == [
        "BEGIN IMMEDIATE",
        "UPDATE oauth_codes",
        "INSERT INTO access_tokens",
        "INSERT INTO refresh_tokens",
        "COMMIT",
    ]


@pytest.mark.sqlite_only  # SQLite's own statements and pragmas
def test_a_refresh_writes_in_one_transaction(flow, oauth_db):
    first = flow.tokens(who=KEALA, patient="Keala")
    assert writes_of(
        oauth_db[0], lambda: flow.client.post("/oauth/token", data=refresh_form(flow, first["refresh_token"]))
    ) == [
        "BEGIN IMMEDIATE",
        "UPDATE refresh_tokens",
        "INSERT INTO access_tokens",
        "INSERT INTO refresh_tokens",
        "COMMIT",
    ]


def test_parallel_redemptions_of_one_code_give_tokens_once_and_revoke_them(flow, oauth_app, slow_tokens):
    code = flow.code(who=KEALA, patient="Keala")
    results = redeem_in_parallel(oauth_app, code_form(flow, code))
    assert [status for status, _ in results] == [200] + [400] * (PARALLEL - 1)
    assert [body["error"] for _, body in results[1:]] == ["invalid_grant"] * (PARALLEL - 1)
    won = results[0][1]
    # The losers saw the code used: the winner's tokens are revoked, whichever order the requests ran in.
    assert flow.client.get("/fhir/Patient/x", headers=bearer(won["access_token"])).status_code == 401
    refresh = flow.client.post("/oauth/token", data=refresh_form(flow, won["refresh_token"]))
    assert (refresh.status_code, refresh.get_json()["error"]) == (400, "invalid_grant")


def test_parallel_uses_of_one_refresh_token_rotate_once_and_revoke_the_family(flow, oauth_app, slow_tokens):
    first = flow.tokens(who=KEALA, patient="Keala")
    results = redeem_in_parallel(oauth_app, refresh_form(flow, first["refresh_token"]))
    assert [status for status, _ in results] == [200] + [400] * (PARALLEL - 1)
    assert [body["error"] for _, body in results[1:]] == ["invalid_grant"] * (PARALLEL - 1)
    won = results[0][1]
    for token in (first["access_token"], won["access_token"]):
        assert flow.client.get("/fhir/Patient/x", headers=bearer(token)).status_code == 401
    refresh = flow.client.post("/oauth/token", data=refresh_form(flow, won["refresh_token"]))
    assert (refresh.status_code, refresh.get_json()["error"]) == (400, "invalid_grant")


@pytest.mark.sqlite_only  # SQLite's own statements and pragmas
def test_an_exchange_waits_for_another_processs_write_lock_and_keeps_the_busy_timeout(oauth_db):
    """While another connection holds the write lock the exchange's transaction waits (in short steps, no
    busy handler), then commits; the handle's busy timeout is as before."""
    other = store.connect(oauth_db[0])
    other.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.05, lambda: other.execute("COMMIT"))
    conn = store.connect(oauth_db[0])
    timer.start()
    with oauth_store.exchange_transaction(conn):
        conn.execute("INSERT INTO seen_assertions VALUES ('waiter', 'jti-1', 0)")
    timer.join()
    assert conn.execute("SELECT client_id, jti FROM seen_assertions WHERE client_id = 'waiter'").fetchall() == [
        ("waiter", "jti-1")
    ]
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (10_000,)
    assert (conn.in_transaction, other.in_transaction) == (False, False)
    conn.close()
    other.close()


@pytest.mark.parametrize(
    "wrong", [{"code_verifier": "wrong-verifier-" + "x" * 40}, {"redirect_uri": "http://127.0.0.1:9/elsewhere"}]
)
def test_a_failed_exchange_still_uses_up_the_code(flow, wrong):
    """As when the code was used up on lookup: a redemption that fails PKCE or the redirect_uri check spends the
    code, so the right verifier cannot follow a wrong guess (one try per code)."""
    code = flow.code(who=KEALA, patient="Keala")
    first = flow.exchange(code, **wrong)
    assert (first.status_code, first.get_json()["error"]) == (400, "invalid_grant")
    again = flow.exchange(code)
    assert (again.status_code, again.get_json()["error"]) == (400, "invalid_grant")
