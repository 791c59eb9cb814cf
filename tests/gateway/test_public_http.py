"""Sending a record to a FHIR server reaches public internet addresses only, checked on the address connected to."""
import http.server
import socket
import threading

import pytest

from gateway import public_http, transmit
from gateway.exports import ExportError


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1",
                                "::ffff:127.0.0.1", "::ffff:10.0.0.1"])
def test_internal_addresses_are_not_public(ip):
    assert not public_http.is_public(ip)


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(ip):
    assert public_http.is_public(ip)


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
    monkeypatch.setattr(transmit, "transaction_bundle", lambda export: {"resourceType": "Bundle", "type": "transaction"})


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

    monkeypatch.setattr(public_http.socket, "getaddrinfo", rebinding)
    with Receiver() as receiver:
        endpoint = f"http://records.example.org:{receiver.server.server_port}/fhir"
        assert transmit.check_recipient("fhir", endpoint, "fhir", allow_http=True, public_only=True) == endpoint
        result = transmit.push_fhir(endpoint, Export(), public_only=True)
    assert result.outcome == "failed" and "not on the public internet" in result.message
    assert receiver.received == []


@pytest.mark.parametrize("endpoint, message", [
    ("https://localhost/fhir", "public internet"),
    ("https://10.0.0.5/fhir", "public internet"),
    ("https://[::1]:8443/fhir", "public internet"),
    ("https://no-such-host.invalid/fhir", "could be found"),
])
def test_the_form_refuses_addresses_off_the_internet_in_production(endpoint, message, monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):  # no DNS server needed: .invalid never resolves (RFC 6761)
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(public_http.socket, "getaddrinfo", resolver)
    with pytest.raises(ExportError, match=message):
        transmit.check_recipient("fhir", endpoint, "fhir", allow_http=False, public_only=True)


def test_a_redirect_is_reported_not_followed():
    with Receiver(status=307, location="http://127.0.0.1:1/elsewhere") as receiver:
        result = transmit.push_fhir(receiver.url, Export())
    assert result.outcome == "failed" and "redirect (HTTP 307) to http://127.0.0.1:1/elsewhere" in result.message
    assert len(receiver.received) == 1
