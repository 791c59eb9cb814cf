"""A real granian, started by ``fhir-gateway serve``: requests over the limits the app owns get a FHIR
OperationOutcome (issue 10); what granian answers itself has the right status and no body; the master
replaces a worker that dies and stops everything on SIGTERM (issue 16)."""

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import orjson
import pytest

from gateway import server, store
from smart_auth.tokens import ALL_PRACTICES, CLI_CLIENT, issue_access_token


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(address, process):
    for _ in range(300):
        assert process.poll() is None, "the server exited"
        try:
            socket.create_connection(address, timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {address}")


@contextlib.contextmanager
def serving(db_path, workers=1, env=None):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--db", db_path, "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    try:
        _wait_for(("127.0.0.1", port), process)
        yield process, ("127.0.0.1", port)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.fixture(scope="module")
def served_db(demo_db_path, tmp_path_factory, pg_cluster, demo_template):
    if pg_cluster is not None:  # --store=postgres: a copy of the demo database for the served processes
        return pg_cluster.database(template=demo_template)
    path = str(tmp_path_factory.mktemp("served") / "demo.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return path


@pytest.fixture(scope="module")
def served(served_db):
    with serving(served_db) as found:
        yield found


@pytest.fixture(scope="module")
def address(served):
    return served[1]


@pytest.fixture(scope="module")
def patient_token(served_db):
    db = store.connect(served_db)
    patient = db.execute("SELECT id FROM resources WHERE type = 'Patient' ORDER BY id LIMIT 1").fetchone()[0]
    return issue_access_token(db, CLI_CLIENT, "patient/*.rs", patient).encode()


def exchange(address, request):
    """Send raw bytes, return (status, headers dict, body) of the answer."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def get(target, extra=b""):
    return b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"Connection: close\r\n\r\n"


def assert_outcome(status, headers, body, expected_status, code, diagnostics):
    assert status == expected_status
    assert headers["content-type"] == "application/fhir+json; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    assert orjson.loads(body) == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


def assert_granian_refusal(status, headers, body, expected_status):
    assert (status, headers["content-length"], headers["connection"], body) == (expected_status, "0", "close", b"")


def test_a_request_line_within_the_limit_reaches_the_app(address):
    # 8,000 bytes passed gunicorn's default limit (4,094) and got its HTML 414; the app answers.
    status, headers, body = exchange(address, get(b"/fhir/Condition?code=" + b"x" * 8000))
    assert_outcome(
        status, headers, body, 401, "login", "This request needs an OAuth 2.0 bearer token (Authorization: Bearer ...)"
    )


def test_a_request_line_over_the_limit_is_an_outcome(address):
    status, headers, body = exchange(address, get(b"/fhir/Condition?code=" + b"x" * 9000))
    assert_outcome(
        status,
        headers,
        body,
        414,
        "too-costly",
        "The request line is longer than 8190 bytes: send a long search as POST [type]/_search with a form body",
    )


def test_a_header_over_the_size_limit_is_an_outcome(address):
    status, headers, body = exchange(address, get(b"/fhir/metadata", b"X-Big: " + b"y" * 9000 + b"\r\n"))
    assert_outcome(status, headers, body, 431, "too-costly", "The request has a header longer than 8190 bytes")


def test_a_body_over_the_limit_is_the_apps_outcome_not_a_reset(address, patient_token):
    form = b"code=" + b"x" * (2 * 1024 * 1024)
    request = (
        b"POST /fhir/Condition/_search HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + patient_token + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % len(form)
    )
    status, headers, body = exchange(address, request + form)
    assert_outcome(status, headers, body, 413, "too-costly", "The request body is too large")


def test_more_than_100_headers_is_granians_431(address):
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(105))
    assert_granian_refusal(*exchange(address, get(b"/fhir/metadata", many)), 431)


def test_a_head_over_twice_the_buffer_is_granians_431(address):
    # hyper checks the buffer after a read that may take it up to twice HEAD_BUFFER (96,000 bytes passed).
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"z" * 8000) for i in range(2 * server.HEAD_BUFFER // 8000 + 1))
    assert_granian_refusal(*exchange(address, get(b"/fhir/metadata", headers)), 431)


def test_a_malformed_request_line_is_granians_400(address):
    assert_granian_refusal(*exchange(address, b"GET /fhir/metadata HTTP/9.9\r\n\r\n"), 400)


def test_the_server_still_answers_after_the_errors(address):
    status, _, body = exchange(address, get(b"/fhir/metadata"))
    assert (status, orjson.loads(body)["resourceType"]) == (200, "CapabilityStatement")


def test_an_export_runs_on_the_workers_threads_started_after_the_fork(served, served_db):
    # Only the worker answers requests and the export threads start at its first Bulk Data request
    # (gateway/fhir/bulk.py), so a finished job shows they run there; the master gains no thread.
    process, where = served
    master_threads = sorted(os.listdir(f"/proc/{process.pid}/task"))
    token = issue_access_token(store.connect(served_db), CLI_CLIENT, "system/*.rs", practice_reach=ALL_PRACTICES)
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
    kickoff = get(b"/fhir/Patient/$export", auth + b"Prefer: respond-async\r\nAccept: application/fhir+json\r\n")
    status, headers, _ = exchange(where, kickoff)
    assert status == 202
    status_path = headers["content-location"].split(f"{where[1]}", 1)[1].encode()
    for _ in range(300):
        status, _, body = exchange(where, get(status_path, auth))
        if status != 202:
            break
        time.sleep(0.1)
    assert (status, orjson.loads(body)["error"]) == (200, [])
    assert sorted(os.listdir(f"/proc/{process.pid}/task")) == master_threads


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return sorted(map(int, listing.read().split()))


def test_a_dead_worker_is_replaced_and_sigterm_stops_every_process(served_db):
    with serving(served_db) as (process, where):
        (worker,) = _children(process.pid)
        os.kill(worker, signal.SIGKILL)
        for _ in range(100):
            replaced = [pid for pid in _children(process.pid) if pid != worker]
            if replaced:
                break
            time.sleep(0.1)
        assert len(replaced) == 1
        _wait_for(where, process)
        status, _, _ = exchange(where, get(b"/fhir/metadata"))
        assert status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(server.SHUTDOWN_SECONDS + 5) == 0
        assert not os.path.exists(f"/proc/{replaced[0]}")
