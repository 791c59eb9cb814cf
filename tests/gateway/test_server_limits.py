"""A real gunicorn (the options ``serve`` uses) answers requests over its own limits with a FHIR
OperationOutcome, not gunicorn's HTML page (issue 10)."""

import socket
import subprocess
import sys
import time

import orjson
import pytest

from gateway import server

SERVE = """
import sys
from gateway.server import GatewayServer, options
GatewayServer({"DB": sys.argv[1], "BASE_URL": "http://127.0.0.1"}, options(sys.argv[2], 1, 2)).run()
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def address(demo_db_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, demo_db_path, f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield ("127.0.0.1", port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


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


def assert_outcome(status, headers, body, expected_status, code, words):
    assert status == expected_status
    assert headers["content-type"] == "application/fhir+json; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    outcome = orjson.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", code)
    for word in words:
        assert word in issue["diagnostics"]


def test_a_request_line_within_the_limit_reaches_the_app(address):
    # 8,000 bytes passed gunicorn's default limit (4,094) and got its HTML 414; the app now answers.
    status, headers, body = exchange(address, get(b"/fhir/Condition?code=" + b"x" * 8000))
    assert_outcome(status, headers, body, 401, "login", [])


def test_a_request_line_over_the_limit_is_an_outcome(address):
    status, headers, body = exchange(address, get(b"/fhir/Condition?code=" + b"x" * 9000))
    assert_outcome(status, headers, body, 414, "too-costly", [f"{server.LIMIT_REQUEST_LINE} bytes", "_search"])


def test_a_header_over_the_size_limit_is_an_outcome(address):
    status, headers, body = exchange(address, get(b"/fhir/metadata", b"X-Big: " + b"y" * 9000 + b"\r\n"))
    assert_outcome(status, headers, body, 431, "too-costly", [f"{server.LIMIT_REQUEST_FIELD_SIZE} bytes"])


def test_too_many_headers_is_an_outcome(address):
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(server.LIMIT_REQUEST_FIELDS + 5))
    status, headers, body = exchange(address, get(b"/fhir/metadata", many))
    assert_outcome(status, headers, body, 431, "too-costly", [f"{server.LIMIT_REQUEST_FIELDS} headers"])


def test_a_malformed_request_line_is_an_outcome(address):
    status, headers, body = exchange(address, b"GET /fhir/metadata HTTP/9.9\r\n\r\n")
    assert_outcome(status, headers, body, 400, "invalid", ["not valid HTTP"])


def test_the_server_still_answers_after_the_errors(address):
    status, _, body = exchange(address, get(b"/fhir/metadata"))
    assert status == 200 and orjson.loads(body)["resourceType"] == "CapabilityStatement"
