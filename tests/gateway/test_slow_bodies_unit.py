"""gateway/slow_bodies.py in-process: the read slots, the address they count, and each door's refusal."""

import io
import threading
import time

import orjson
import pytest

from gateway.slow_bodies import BUSY, PEER_BUSY, TOO_LARGE, ReadSlots, SlowBodies, client_address, refuse

CONFIG = {"MAX_CONTENT_LENGTH": 100, "TRUSTED_PROXIES": 0}


class Recorder:
    def __call__(self, status, headers):
        self.status, self.headers = status, dict(headers)


def echo(environ, start_response):
    """An app answering with the body it read and the Content-Length it saw."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("X-Length", environ.get("CONTENT_LENGTH", "-"))])
    return [body]


def call(gate, environ):
    recorder = Recorder()
    body = b"".join(gate(environ, recorder))
    return recorder.status, recorder.headers, body


def test_a_slot_per_address_and_the_threads_less_one_per_process():
    slots = ReadSlots(2)
    assert slots.take("a", 0) is None
    assert slots.take("a", 0) is PEER_BUSY
    assert slots.take("b", 0) is None
    assert slots.take("c", 0) is BUSY
    slots.give("a")
    assert slots.take("c", 0) is None
    assert (slots.total, dict(slots.by_peer)) == (2, {"b": 1, "c": 1})


def test_a_taker_waits_for_a_slot_given_back_within_its_wait():
    slots = ReadSlots(1)
    assert slots.take("a", 0) is None
    threading.Timer(0.05, slots.give, ("a",)).start()
    started = time.monotonic()
    assert slots.take("b", 1) is None
    assert time.monotonic() - started < 0.5


def test_the_app_gets_the_whole_body_and_its_length():
    gate = SlowBodies(echo, CONFIG, threads=3)
    environ = {"REMOTE_ADDR": "192.0.2.1", "CONTENT_LENGTH": "5", "wsgi.input": io.BytesIO(b"hello, and more")}
    assert call(gate, environ) == ("200 OK", {"X-Length": "5"}, b"hello")
    assert gate.slots.total == 0


@pytest.mark.parametrize("length", [None, "0", "101", "five"])
def test_no_body_a_body_over_the_limit_or_a_bad_length_is_left_to_the_app(length):
    stream = io.BytesIO(b"x" * 200)
    environ = {"REMOTE_ADDR": "192.0.2.1", "wsgi.input": stream}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    gate = SlowBodies(lambda env, start: [env["wsgi.input"] is stream], CONFIG, threads=3)
    assert gate(environ, None) == [True]


def test_a_chunked_body_is_read_to_its_end_and_refused_past_the_limit():
    gate = SlowBodies(echo, CONFIG, threads=3)
    chunked = {"REMOTE_ADDR": "192.0.2.1", "HTTP_TRANSFER_ENCODING": "chunked"}
    assert call(gate, {**chunked, "wsgi.input": io.BytesIO(b"a=1")}) == ("200 OK", {"X-Length": "3"}, b"a=1")
    status, headers, body = call(
        gate, {**chunked, "PATH_INFO": "/fhir/Condition/_search", "wsgi.input": io.BytesIO(b"x" * 101)}
    )
    assert (status, "Retry-After" in headers) == ("413 Request Entity Too Large", False)
    assert orjson.loads(body)["issue"][0] == {
        "severity": "error",
        "code": "too-costly",
        "diagnostics": "The request body is too large",
    }


def test_a_request_finding_no_slot_is_refused_without_its_body_being_read():
    gate = SlowBodies(echo, CONFIG, threads=3)
    gate.slots.take("192.0.2.1", 0)
    stream = io.BytesIO(b"hello")
    environ = {"REMOTE_ADDR": "192.0.2.1", "CONTENT_LENGTH": "5", "wsgi.input": stream, "PATH_INFO": "/oauth/token"}
    status, headers, body = call(gate, environ)
    assert (status, headers["Retry-After"], stream.tell()) == ("429 Too Many Requests", "10", 0)
    assert orjson.loads(body)["error"] == "too_many_requests"


@pytest.mark.parametrize(
    ("path", "kind", "shape"),
    [
        ("/fhir/Patient/_search", "application/fhir+json; charset=utf-8", "outcome"),
        ("/oauth/token", "application/json", "error_description"),
        ("/practice/api/patients", "application/json", "message"),
        ("/portal/login", "text/html; charset=utf-8", "page"),
    ],
)
def test_each_door_is_refused_in_its_own_form(path, kind, shape):
    recorder = Recorder()
    body = b"".join(refuse({"PATH_INFO": path}, recorder, BUSY))
    assert recorder.status == "503 Service Unavailable"
    assert recorder.headers == {
        "Content-Type": kind,
        "Content-Length": str(len(body)),
        "Cache-Control": "no-store",
        "Connection": "close",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "Retry-After": "10",
    }
    if shape == "outcome":
        assert orjson.loads(body)["issue"][0]["code"] == "transient"
    elif shape == "page":
        assert body.decode() == f"<!doctype html><title>Try again</title><p>{BUSY.message}.</p>"
    else:
        assert orjson.loads(body) == {"error": "temporarily_unavailable", shape: BUSY.message}
    assert TOO_LARGE.retry is False


@pytest.mark.parametrize(
    ("environ", "hops", "expected"),
    [
        ({"REMOTE_ADDR": "192.0.2.7"}, 0, "192.0.2.7"),
        ({"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, 0, "192.0.2.7"),
        ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9"}, 1, "203.0.113.9"),
        ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9"}, 2, "198.51.100.1"),
        ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, 2, "10.0.0.1"),
        ({"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"}, 0, "2001:db8:1:2::/64"),
        ({"REMOTE_ADDR": "2001:db8:1:2:bbbb::9"}, 0, "2001:db8:1:2::/64"),
        ({"REMOTE_ADDR": "::ffff:192.0.2.7"}, 0, "192.0.2.7"),
        ({"REMOTE_ADDR": "not an address"}, 0, "not an address"),
    ],
)
def test_the_address_counted_is_proxyfixs_and_an_ipv6_slash_64(environ, hops, expected):
    assert client_address(environ, hops) == expected
