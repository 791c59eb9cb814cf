"""Outbound calls: public addresses only (checked on the address connected to), no redirects, a size cap, an
overall deadline and a bound on waiting threads; sending a record to a FHIR server goes through them."""

import contextlib
import http.server
import socket
import threading
import time

import pytest

from gateway import outbound, transmit
from gateway.exports import ExportError


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_internal_addresses_are_not_public(ip):
    assert not outbound.is_public(ip)


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(ip):
    assert outbound.is_public(ip)


class Receiver:
    """A real HTTP server on loopback that counts the POSTs it receives."""

    def __init__(self, status=200, location=None):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                body = b'{"resourceType":"Bundle","type":"transaction-response","entry":[]}'
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/fhir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Export:
    fmt, start, end = "fhir", None, None
    body = b'{"resourceType":"Bundle","type":"collection","entry":[]}'


@pytest.fixture(autouse=True)
def bundle(monkeypatch):
    monkeypatch.setattr(
        transmit, "transaction_bundle", lambda export: {"resourceType": "Bundle", "type": "transaction"}
    )


def test_outside_production_a_local_server_receives_the_record():
    with Receiver() as receiver:
        result = transmit.push_fhir(receiver.url, Export())
    assert result.outcome == "sent" and len(receiver.received) == 1


def test_in_production_a_loopback_server_is_never_contacted():
    with Receiver() as receiver:
        result = transmit.push_fhir(receiver.url, Export(), public_only=True)
    assert result.outcome == "failed" and "not on the public internet" in result.message
    assert receiver.received == []


def test_a_name_that_turns_private_after_the_form_check_is_refused_at_connect(monkeypatch):
    """DNS rebinding: public when the form is checked, loopback when the record is sent."""
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        if host != "records.example.org":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    with Receiver() as receiver:
        endpoint = f"http://records.example.org:{receiver.server.server_port}/fhir"
        assert transmit.check_recipient("fhir", endpoint, "fhir", allow_http=True, public_only=True) == endpoint
        result = transmit.push_fhir(endpoint, Export(), public_only=True)
    assert result.outcome == "failed" and "not on the public internet" in result.message
    assert receiver.received == []


@pytest.mark.parametrize(
    "endpoint, message",
    [
        ("https://localhost/fhir", "public internet"),
        ("https://10.0.0.5/fhir", "public internet"),
        ("https://[::1]:8443/fhir", "public internet"),
        ("https://no-such-host.invalid/fhir", "could be found"),
    ],
)
def test_the_form_refuses_addresses_off_the_internet_in_production(endpoint, message, monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):  # no DNS server needed: .invalid never resolves (RFC 6761)
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolver)
    with pytest.raises(ExportError, match=message):
        transmit.check_recipient("fhir", endpoint, "fhir", allow_http=False, public_only=True)


def test_a_redirect_is_reported_not_followed():
    with Receiver(status=307, location="http://127.0.0.1:1/elsewhere") as receiver:
        result = transmit.push_fhir(receiver.url, Export())
    assert result.outcome == "failed" and "redirect (HTTP 307) to http://127.0.0.1:1/elsewhere" in result.message
    assert len(receiver.received) == 1


class Trickle:
    """A loopback server that answers with a long body one byte at a time (a slow-loris peer)."""

    def __init__(self, interval=0.05, size=10_000, declared=-1):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/jwks.json"
        self.interval, self.size, self.declared = interval, size, declared
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            length = self.size if self.declared == -1 else self.declared
            head = "Connection: close" if length is None else f"Content-Length: {length}"
            conn.sendall(f"HTTP/1.1 200 OK\r\n{head}\r\n\r\n".encode())
            for _ in range(self.size):
                if self.stop.wait(self.interval):
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()


def test_a_peer_answering_one_byte_at_a_time_is_cut_off_at_the_deadline():
    with Trickle(interval=0.05) as peer:
        started = time.monotonic()
        with pytest.raises(outbound.Timeout):
            outbound.request("GET", peer.url, public_only=False, deadline=0.5)
        assert time.monotonic() - started < 1.5


def test_a_peer_that_never_answers_is_cut_off_at_the_deadline():
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        started = time.monotonic()
        with pytest.raises(outbound.Timeout):
            outbound.request("GET", f"http://127.0.0.1:{silent.getsockname()[1]}/", public_only=False, deadline=0.4)
        assert time.monotonic() - started < 1.4
    finally:
        silent.close()


def test_a_body_over_the_cap_is_refused_while_it_arrives():
    with Trickle(interval=0, size=5000, declared=None) as peer:  # no length said: counted as it arrives
        with pytest.raises(outbound.TooLarge):
            outbound.request("GET", peer.url, public_only=False, max_bytes=1000)


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    with Trickle(interval=1, size=1, declared=10**9) as peer:
        started = time.monotonic()
        with pytest.raises(outbound.TooLarge):
            outbound.request("GET", peer.url, public_only=False, max_bytes=1000)
        assert time.monotonic() - started < 0.5


def test_only_so_many_threads_wait_on_outbound_calls_and_the_rest_fail_at_once():
    outbound.set_slots(2)
    peers = [Trickle(interval=0.05), Trickle(interval=0.05)]
    waiting = [
        threading.Thread(
            target=lambda url=p.url: pytest.raises(
                outbound.Timeout, outbound.request, "GET", url, public_only=False, deadline=1.0
            )
        )
        for p in peers
    ]
    try:
        for thread in waiting:
            thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(outbound.Busy):
            outbound.request("GET", "http://127.0.0.1:1/", public_only=False)
        assert time.monotonic() - started < 0.3
    finally:
        for thread in waiting:
            thread.join()
        for peer in peers:
            peer.__exit__()
    with Receiver() as receiver:  # the slots are free again
        assert outbound.request("POST", receiver.url, public_only=False, data=b"{}").status == 200


def test_in_production_loopback_is_refused_for_any_call():
    with Receiver() as receiver:
        with pytest.raises(outbound.Blocked):
            outbound.request("POST", receiver.url, public_only=True, data=b"{}")
    assert receiver.received == []


@pytest.mark.parametrize(("threads", "configured", "slots"), [(3, 2, 2), (2, 2, 1), (1, 2, 1), (8, 2, 2), (8, 5, 5)])
def test_a_worker_keeps_one_request_thread_free_of_outbound_calls(new_db_path, threads, configured, slots):
    """gateway.server._worker_app: a worker with ``threads`` request threads lets at most ``threads - 1`` of them
    wait on outbound calls (at least one, or no call could be made), whatever GATEWAY_OUTBOUND_SLOTS says."""
    from gateway.server import _worker_app

    try:
        _worker_app({"DB": new_db_path(), "OUTBOUND_SLOTS": configured}, threads)
        with contextlib.ExitStack() as held:
            for _ in range(slots):
                held.enter_context(outbound.slot())
            with pytest.raises(outbound.Busy):
                held.enter_context(outbound.slot())
    finally:
        outbound.set_slots(outbound.SLOTS)
