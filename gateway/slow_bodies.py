"""Request bodies read under a bound, so that slow senders cannot hold every one of the server's request threads.

granian hands a request to one of a worker's few request threads (BLOCKING_THREADS) once its head has arrived;
reading the body then blocks that thread until the bytes come, with no deadline (granian has one for heads only).
Nor can the app give up on a read: a read left running in another thread freezes the whole worker, because granian
(2.8.7 and 2.8.9, src/wsgi/callbacks.rs ``call_http``) ends every request by taking the body's lock while holding
the GIL. So the request thread reads the body itself, before the app runs, holding one of the process's READ_SLOTS:
the request threads less one (a thread is always left for requests without a body, the FHIR API's reads), and one
per client address. A body that is already there (what clients send with the head: forms, token requests,
``_search``) holds its slot for microseconds; a request that finds no slot within SLOT_WAIT seconds gets 429 (its
address is reading another body) or 503 (the process is), with Retry-After, and its body is never read.

An attacker sending bodies a byte at a time can hold at most one thread per address and the threads less one per
process, for as long as it keeps sending: reads and every request without a body go on. A deployment facing the
open internet still belongs behind a reverse proxy that buffers request bodies (README, Limits).

An address is the client's (after GATEWAY_TRUSTED_PROXIES hops of X-Forwarded-For, as ProxyFix reads them), an
IPv6 address counted by its /64. A chunked body (no Content-Length) is read the same way, up to one byte past
MAX_CONTENT_LENGTH; a Content-Length over it is left to the app, which answers 413 without reading.
"""

import collections
import io
import ipaddress
import threading
from typing import NamedTuple

import orjson

from gateway.errors import operation_outcome
from gateway.web.json_errors import description_key

SLOT_WAIT = 0.05
RETRY_AFTER = "10"


class Refusal(NamedTuple):
    status: str
    issue: str  # FHIR issue type, for the OperationOutcome on /fhir
    error: str  # the JSON APIs' error code (gateway/web/json_errors.py)
    message: str
    retry: bool  # with Retry-After: the same request may succeed later


BUSY = Refusal(
    "503 Service Unavailable",
    "transient",
    "temporarily_unavailable",
    "The server is busy reading other requests: try again in a few seconds",
    True,
)
PEER_BUSY = Refusal(
    "429 Too Many Requests",
    "throttled",
    "too_many_requests",
    "This address is already sending a request body: try again in a few seconds",
    True,
)
TOO_LARGE = Refusal(
    "413 Request Entity Too Large", "too-costly", "request_too_large", "The request body is too large", False
)


class ReadSlots:
    """Slots counted per process and per client address; ``take`` waits up to ``wait`` seconds for one."""

    def __init__(self, most, per_peer=1):
        self.most, self.per_peer = most, per_peer
        self.freed = threading.Condition()
        self.by_peer = collections.Counter()
        self.total = 0

    def take(self, peer, wait):
        """None once a slot is held, else the refusal of the bound that stayed full."""
        with self.freed:
            if self._refusal(peer) is not None and not self.freed.wait_for(lambda: self._refusal(peer) is None, wait):
                return self._refusal(peer)
            self.by_peer[peer] += 1
            self.total += 1
        return None

    def give(self, peer):
        with self.freed:
            self.total -= 1
            self.by_peer[peer] -= 1
            if not self.by_peer[peer]:
                del self.by_peer[peer]
            self.freed.notify_all()

    def _refusal(self, peer):
        if self.by_peer[peer] >= self.per_peer:
            return PEER_BUSY
        return BUSY if self.total >= self.most else None


class SlowBodies:
    """WSGI middleware: the app gets a request's body whole as a BytesIO, or the client a 429 or 503."""

    def __init__(self, app, config, threads):
        self.app = app
        self.limit = int(config["MAX_CONTENT_LENGTH"])
        self.hops = int(config["TRUSTED_PROXIES"])
        self.slots = ReadSlots(max(1, threads - 1))

    def __call__(self, environ, start_response):
        length = self._to_read(environ)
        if length is None:
            return self.app(environ, start_response)
        peer = client_address(environ, self.hops)
        refusal = self.slots.take(peer, SLOT_WAIT)
        if refusal is not None:
            return refuse(environ, start_response, refusal)
        try:
            body = environ["wsgi.input"].read(length)
        finally:
            self.slots.give(peer)
        if len(body) > self.limit:  # only a chunked body can be: werkzeug would cut it at the limit, not refuse it
            return refuse(environ, start_response, TOO_LARGE)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _to_read(self, environ):
        """The bytes to read before the app runs, or None to leave the body (none, or over the limit) to the app."""
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.limit + 1
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None  # the app answers a malformed Content-Length without reading
        return length if 0 < length <= self.limit else None


def client_address(environ, hops):
    """The address the per-address bound counts: ProxyFix's X-Forwarded-For choice, an IPv6 address's /64."""
    address = environ.get("REMOTE_ADDR", "")
    if hops:
        forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    if ":" not in address:  # IPv4 (or not an address): counted as it is
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    return str(ip.ipv4_mapped or ipaddress.IPv6Network(f"{ip}/64", strict=False))


def refuse(environ, start_response, refusal):
    """Answer in the door's own form: an OperationOutcome on /fhir, the JSON APIs' error shape, else a page."""
    message = refusal.message
    path = environ.get("PATH_INFO", "")
    key = description_key(path)
    if key is not None:
        body = orjson.dumps({"error": refusal.error, key: message})
        kind = "application/json"
    elif path.startswith("/fhir"):
        body = orjson.dumps(operation_outcome(message, refusal.issue))
        kind = "application/fhir+json; charset=utf-8"
    else:
        body = f"<!doctype html><title>Try again</title><p>{message}.</p>".encode()
        kind = "text/html; charset=utf-8"
    headers = [
        ("Content-Type", kind),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("Connection", "close"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'"),
    ]
    start_response(refusal.status, headers + [("Retry-After", RETRY_AFTER)] * refusal.retry)
    return [body]
