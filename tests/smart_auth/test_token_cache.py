"""The bearer-token lookup keeps the rows it decoded, per handle, for as long as nothing has written the
database since (issue 16): a repeated token costs one ``PRAGMA data_version`` instead of a SELECT, and a
token revoked by any connection, in any process, is refused on the very next request."""

import pytest

from gateway import store
from smart_auth.tokens import CLI_CLIENT, InvalidToken, authenticate, issue_access_token


@pytest.fixture
def db_path(fresh_demo_db_path):
    return fresh_demo_db_path


@pytest.fixture
def token(db_path):
    return issue_access_token(store.connect(db_path), CLI_CLIENT, "patient/*.rs", "p1")


def _statements(conn, call):
    seen = []
    conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    return seen


@pytest.mark.sqlite_only  # SQLite's own statements and pragmas
def test_a_repeated_token_is_not_read_again(db_path, token):
    conn = store.connect(db_path)
    first = _statements(conn, lambda: authenticate(conn, token))
    again = _statements(conn, lambda: authenticate(conn, token))
    assert [s.split()[0] for s in first] == ["PRAGMA", "SELECT"]
    assert again == ["PRAGMA data_version"]
    assert authenticate(conn, token).patient_id == "p1"


def test_a_token_revoked_by_another_connection_is_refused_at_once(db_path, token):
    conn = store.connect(db_path)
    assert authenticate(conn, token).client_id == CLI_CLIENT
    other = store.connect(db_path)  # another thread, or another worker process
    with store.transaction(other):
        assert store.revoke_token(other, token)
    with pytest.raises(InvalidToken, match="unknown, expired or revoked"):
        authenticate(conn, token)


def test_a_token_revoked_on_the_same_connection_is_refused_at_once(db_path, token):
    conn = store.connect(db_path)
    assert authenticate(conn, token).client_id == CLI_CLIENT
    with store.transaction(conn):
        assert store.revoke_token(conn, token)
    with pytest.raises(InvalidToken, match="unknown, expired or revoked"):
        authenticate(conn, token)


@pytest.mark.sqlite_only  # SQLite's own statements and pragmas
def test_an_unknown_token_is_refused_every_time_and_not_kept(db_path):
    conn = store.connect(db_path)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            authenticate(conn, "no-such-token")
    assert len(conn.token_rows[1]) == 0


def test_a_cached_token_still_expires(db_path, monkeypatch):
    import time

    conn = store.connect(db_path)
    token = issue_access_token(store.connect(db_path), CLI_CLIENT, "patient/*.rs", "p1", ttl=60)
    assert authenticate(conn, token).patient_id == "p1"
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    with pytest.raises(InvalidToken):
        authenticate(conn, token)
