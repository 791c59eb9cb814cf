"""The attacker's side of gateway/slow_bodies.py, against a real `fhir-gateway serve` (1 worker, 3 threads, so 2
read slots): connections that send a request head and then their body a byte at a time must not stop the server.
Before the bound, 12 such connections stopped 2 workers x 3 threads (README, sixth session)."""

import contextlib
import socket
import threading
import time

import orjson
import pytest

from gateway import server, store
from smart_auth.tokens import CLI_CLIENT, issue_access_token
from tests.gateway.test_server_limits import exchange, get, served_db, serving  # noqa: F401 (served_db: fixture)

TOKEN_FORM = b"grant_type=password&username=a&password=b"
SLOW_LENGTH = 1000


@pytest.fixture(scope="module")
def address(served_db):  # noqa: F811
    with serving(served_db) as (_, where):
        yield where


@pytest.fixture(scope="module")
def patient_token(served_db):  # noqa: F811
    db = store.connect(served_db)
    patient = db.execute("SELECT id FROM resources WHERE type = 'Patient' ORDER BY id LIMIT 1").fetchone()[0]
    return issue_access_token(db, CLI_CLIENT, "patient/*.rs", patient).encode()


def post_head(path, length=None, extra=b""):
    framing = b"Transfer-Encoding: chunked\r\n" if length is None else b"Content-Length: %d\r\n" % length
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + extra
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        + framing
        + b"\r\n"
    )


def connect(address, source):
    """A connection from ``source``: every 127.x address is this machine, a different client address to the app."""
    return socket.create_connection(address, timeout=10, source_address=(source, 0))


def answer(sock):
    """(status, headers, body) of the one response on ``sock`` (every request here asks to close)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}, body


def post(address, source, path, form, extra=b""):
    with connect(address, source) as sock:
        sock.sendall(post_head(path, len(form), extra) + form)
        return answer(sock)


def assert_metadata_answers_at_once(address):
    started = time.monotonic()
    status, _, body = exchange(address, get(b"/fhir/metadata"))
    assert (status, orjson.loads(body)["resourceType"]) == (200, "CapabilityStatement")
    assert time.monotonic() - started < 1


class SlowSenders:
    """Connections from one address that each send a head promising SLOW_LENGTH bytes, then a byte a second."""

    def __init__(self, address, source, count, path):
        self.lock, self.sent, self.socks = threading.Lock(), {}, []
        for _ in range(count):
            sock = connect(address, source)
            sock.sendall(post_head(path, SLOW_LENGTH) + b"grant_type=")
            self.socks.append(sock)
            self.sent[sock] = len(b"grant_type=")
            time.sleep(0.05)

    def trickle(self, stop):
        while not stop.wait(1):
            with self.lock:
                for sock, sent in self.sent.items():
                    with contextlib.suppress(OSError):
                        sock.sendall(b"x")
                        self.sent[sock] = sent + 1

    def finish(self, sock):
        """Send the rest of the body."""
        with self.lock:
            sock.sendall(b"x" * (SLOW_LENGTH - self.sent.pop(sock)))


@contextlib.contextmanager
def slow_bodies(address, source, count, path=b"/oauth/token"):
    senders, stop = SlowSenders(address, source, count, path), threading.Event()
    thread = threading.Thread(target=senders.trickle, args=(stop,), daemon=True)
    thread.start()
    try:
        yield senders
    finally:
        stop.set()
        thread.join()
        for sock in senders.socks:
            sock.close()


def test_a_dozen_slow_bodies_from_one_address_hold_one_thread(address):
    with slow_bodies(address, "127.0.0.1", 12) as senders:
        socks = senders.socks
        time.sleep(0.3)
        assert_metadata_answers_at_once(address)
        # The first holds the address's one read slot; the other eleven were told at once to come back later.
        for sock in socks[1:]:
            status, headers, body = answer(sock)
            assert (status, headers["retry-after"], headers["connection"]) == (429, "10", "close")
            assert orjson.loads(body) == {
                "error": "too_many_requests",
                "error_description": "This address is already sending a request body: try again in a few seconds",
            }
        # Another address's token request, its body sent with its head, is answered as ever.
        status, _, body = post(address, "127.0.0.2", b"/oauth/token", TOKEN_FORM)
        assert (status, orjson.loads(body)["error"]) == (400, "unsupported_grant_type")
        assert_metadata_answers_at_once(address)
        # The first body, once whole, reaches the app; then the address may send another.
        senders.finish(socks[0])
        status, _, body = answer(socks[0])
        assert (status, orjson.loads(body)["error"]) == (400, "unsupported_grant_type")
    status, _, body = post(address, "127.0.0.1", b"/oauth/token", TOKEN_FORM)
    assert (status, orjson.loads(body)["error"]) == (400, "unsupported_grant_type")


def test_slow_bodies_from_many_addresses_hold_at_most_the_threads_but_one(address, patient_token):
    assert server.BLOCKING_THREADS == 3  # so two read slots
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(slow_bodies(address, f"127.0.0.{n}", 1, b"/fhir/Patient/_search")) for n in (3, 4)]
        time.sleep(0.3)
        assert_metadata_answers_at_once(address)  # the thread no read may take
        auth = b"Authorization: Bearer " + patient_token + b"\r\n"
        status, headers, body = post(address, "127.0.0.5", b"/fhir/Patient/_search", b"_count=1", auth)
        assert (status, headers["retry-after"], headers["content-type"]) == (
            503,
            "10",
            "application/fhir+json; charset=utf-8",
        )
        assert orjson.loads(body)["issue"][0] == {
            "severity": "error",
            "code": "transient",
            "diagnostics": "The server is busy reading other requests: try again in a few seconds",
        }
        for senders in held:
            senders.finish(senders.socks[0])
            assert answer(senders.socks[0])[0] == 401  # whole at last, and the search carries no token
    status, _, body = post(address, "127.0.0.5", b"/fhir/Patient/_search", b"_count=1&_elements=id", auth)
    assert (status, len(orjson.loads(body)["entry"])) == (200, 1)


def test_a_body_arriving_in_parts_is_served(address, patient_token):
    form = b"_count=1&_elements=id"
    with connect(address, "127.0.0.6") as sock:
        auth = b"Authorization: Bearer " + patient_token + b"\r\n"
        sock.sendall(post_head(b"/fhir/Patient/_search", len(form), auth) + form[:5])
        time.sleep(0.5)
        sock.sendall(form[5:])
        status, _, body = answer(sock)
    assert (status, len(orjson.loads(body)["entry"])) == (200, 1)


def test_a_chunked_body_is_read_under_the_same_bound(address, patient_token):
    auth = b"Authorization: Bearer " + patient_token + b"\r\n"
    form = b"_count=1&_elements=id"
    with connect(address, "127.0.0.7") as slow:
        slow.sendall(post_head(b"/fhir/Patient/_search", None, auth) + b"%x\r\n%s\r\n" % (len(form), form))
        time.sleep(0.3)  # one chunk sent, the last (empty) chunk not yet: the read goes on
        status, _, _ = post(address, "127.0.0.7", b"/fhir/Patient/_search", form, auth)
        assert status == 429
        slow.sendall(b"0\r\n\r\n")
        status, _, body = answer(slow)
    assert (status, len(orjson.loads(body)["entry"])) == (200, 1)


def test_a_chunked_body_over_the_limit_is_the_apps_413(address, patient_token):
    auth = b"Authorization: Bearer " + patient_token + b"\r\n"
    chunk = b"code=" + b"x" * (1024 * 1024)
    with connect(address, "127.0.0.8") as sock:
        sock.sendall(post_head(b"/fhir/Condition/_search", None, auth) + b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk))
        status, _, body = answer(sock)
    assert (status, orjson.loads(body)["issue"][0]["diagnostics"]) == (413, "The request body is too large")
