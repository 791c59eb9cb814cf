"""The access log's row of a disclosure is durable before the response leaves (issue 16): a server killed
with SIGKILL right after answering has every row; the log's WAL is checkpointed by a thread of its own,
never inside a request, and stays bounded."""

import contextlib
import os
import signal
import socket
import sqlite3
import threading
import time

import pytest

from gateway import store
from gateway.store import connection, disclosures, log_shards
from smart_auth.tokens import CLI_CLIENT, issue_access_token
from tests.gateway.test_server_limits import serving

pytestmark = pytest.mark.sqlite_only  # the access log's own SQLite file and its checkpoints


@pytest.fixture
def served_db(demo_db_path, tmp_path):
    path = str(tmp_path / "demo.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return path


def _log_rows(db_path, patient):
    """The rows a reader sees: the main log and every worker's shard (gateway/store/log_shards.py)."""
    with contextlib.closing(store.connect(db_path)) as db:
        log_shards.readable(db)
        return db.execute(
            "SELECT kind, client_id, what, count FROM disclosures WHERE patient_id = ?", (patient,)
        ).fetchall()


def _read(sock, request):
    """Send one keep-alive request and read its whole response; return the status line."""
    sock.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(65536)
    head, _, body = head.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b"\r\n")[0]


def test_a_server_killed_right_after_its_responses_has_logged_every_one(served_db):
    db = store.connect(served_db)
    patient = db.execute("SELECT id FROM resources WHERE type = 'Patient' ORDER BY id LIMIT 1").fetchone()[0]
    token = issue_access_token(db, CLI_CLIENT, "patient/*.rs", patient)
    request = (f"GET /fhir/Patient/{patient} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    with serving(served_db) as (process, address), socket.create_connection(address, timeout=10) as sock:
        statuses = [_read(sock, request) for _ in range(25)]
        os.killpg(process.pid, signal.SIGKILL)  # no shutdown, no checkpoint, no flush: what the OS holds counts
        process.wait(10)
    assert statuses == [b"HTTP/1.1 200 OK"] * 25
    assert _log_rows(served_db, patient) == [("read", CLI_CLIENT, "Patient", 1)] * 25
    # The one worker wrote them to its own file, the first shard, with ids above the shard's floor.
    shard = log_shards.shard_path(store.access_log_path(served_db), 1)
    with contextlib.closing(sqlite3.connect(shard)) as log:
        assert log.execute("SELECT count(*), min(id) > ? FROM disclosures", (log_shards.SPAN,)).fetchone() == (25, 1)


def test_no_request_connection_checkpoints(tmp_path):
    path = str(tmp_path / "a.db")
    store.connect(path).close()
    assert store.current(path).execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    log = store.access_log(path)
    assert log.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    assert log.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL: see connection._open_log
    assert log.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_checkpoint_round_copies_the_log_into_its_file_and_restarts_a_long_wal(tmp_path, monkeypatch):
    path = str(tmp_path / "a.db")
    store.connect(path).close()
    log = store.access_log(path)
    for n in range(20):
        disclosures.insert_read(log, n, "p", "c", None, "Patient", 1)
    log_path = store.access_log_path(path)
    # The round lock keeps this process's checkpoint thread (started by an earlier test) from taking the same
    # round at the same moment: the later of two rounds is told SQLITE_BUSY and copies nothing (-1, -1).
    with connection._round_lock:
        frames, done = connection.checkpoint(log_path)
    assert frames == done and frames >= 20  # PASSIVE: every frame copied, the WAL kept
    monkeypatch.setattr(connection, "WAL_RESTART_BYTES", 10 * 4096)
    for n in range(20):
        disclosures.insert_read(log, n, "p", "c", None, "Patient", 1)
    with connection._round_lock:
        connection.checkpoint(log_path)  # over 10 frames: RESTART, so the next write starts the WAL again
    disclosures.insert_read(log, 99, "p", "c", None, "Patient", 1)
    with connection._round_lock:
        frames, done = connection.checkpoint(log_path)
    assert (frames, done) == (2, 2)  # one row: its table page and its index page
    with contextlib.closing(sqlite3.connect(store.access_log_path(path))) as reader:
        assert reader.execute("SELECT count(*) FROM disclosures").fetchone() == (41,)


def test_the_checkpoint_round_of_a_log_that_is_gone_creates_nothing(tmp_path):
    missing = str(tmp_path / "gone" / "a.db")
    assert connection.checkpoint(missing) is None
    assert connection.checkpoint(store.access_log_path(missing)) is None
    assert not os.path.exists(tmp_path / "gone")


def test_the_process_checkpoint_thread_checkpoints_the_chart_and_the_log_it_writes(tmp_path, monkeypatch):
    import time

    rounds = []
    original = connection.checkpoint
    monkeypatch.setattr(connection, "CHECKPOINT_SECONDS", 0.02)
    monkeypatch.setattr(connection, "checkpoint", lambda path: rounds.append(path) or original(path))
    path = str(tmp_path / "a.db")
    store.connect(path).close()
    disclosures.insert_read(store.access_log(path), 1, "p", "c", None, "Patient", 1)
    deadline = time.monotonic() + 5
    while not {path, store.access_log_path(path)} <= set(rounds) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert {path, store.access_log_path(path)} <= set(rounds)
    assert [t.name for t in threading.enumerate()].count("sqlite-checkpoint") == 1


def test_a_process_forked_during_checkpoint_rounds_opens_and_writes_the_log(tmp_path, monkeypatch):
    import time

    monkeypatch.setattr(connection, "CHECKPOINT_SECONDS", 0.0)  # the parent's thread is always in a round
    path = str(tmp_path / "a.db")
    store.connect(path).close()
    disclosures.insert_read(store.access_log(path), 1, "p", "c", None, "Patient", 1)
    outcomes = []
    for _ in range(5):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child's exit status is the assertion
            try:
                disclosures.insert_read(store.access_log(path), 2, "p", "c", None, "Patient", 1)
                os._exit(0 if connection._checkpointer_pid == os.getpid() else 3)
            except BaseException:
                os._exit(2)
        deadline = time.monotonic() + 20
        while (done := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if done[0] == 0:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            outcomes.append("hung")
        else:
            outcomes.append(os.waitstatus_to_exitcode(done[1]))
    assert outcomes == [0] * 5
    with contextlib.closing(sqlite3.connect(store.access_log_path(path))) as log:
        assert log.execute("SELECT count(*) FROM disclosures WHERE at = 2").fetchone() == (5,)


def test_a_workers_mover_puts_its_reads_into_its_shard_with_no_reader_asking(served_db):
    db = store.connect(served_db)
    patient = db.execute("SELECT id FROM resources WHERE type = 'Patient' ORDER BY id LIMIT 1").fetchone()[0]
    token = issue_access_token(db, CLI_CLIENT, "patient/*.rs", patient)
    request = (f"GET /fhir/Patient/{patient} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    shard = log_shards.shard_path(store.access_log_path(served_db), 1)
    with serving(served_db) as (_, address), socket.create_connection(address, timeout=10) as sock:
        assert [_read(sock, request) for _ in range(5)] == [b"HTTP/1.1 200 OK"] * 5
        deadline, moved = time.monotonic() + 10, 0
        while moved < 5 and time.monotonic() < deadline:  # the checkpoint thread's round, every second
            time.sleep(0.2)
            with contextlib.closing(sqlite3.connect(shard)) as log:
                moved = log.execute("SELECT count(*) FROM disclosures").fetchone()[0]
    assert moved == 5
