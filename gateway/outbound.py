"""The one client for every outbound call (client JWKS, SMS provider, SMTP, sending a record to a FHIR server).

Four promises, because an address in a request can be chosen by a stranger:
- **Public addresses only** (with ``public_only``, i.e. in production): the check runs when the connection is
  made, on the very address connected to, so a name that resolves to a public address when a form is checked
  and to a private one when the call is made (DNS rebinding) is still refused (OWASP SSRF Prevention Cheat Sheet).
  No proxy from the environment is used (it would be connected to instead of the checked host).
- **No redirects**: a 3xx is returned to the caller, never followed.
- **A size cap**: a body larger than ``max_bytes`` is refused while it arrives, not after.
- **An overall deadline**: per-read timeouts do not stop a peer that answers one byte at a time, so a watchdog
  shuts the call's sockets when the deadline passes, and the call fails with Timeout.
And a bound on how many request threads of one process may wait on outbound calls at once (``set_slots``), so a
slow peer can hold a few threads but never the whole server; past it a call fails at once with Busy.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

DEADLINE = 5.0
MAX_BYTES = 1024 * 1024
SLOTS = 2
SLOT_WAIT = 0.05
_CHUNK = 16 * 1024


class OutboundError(Exception):
    """An outbound call that did not complete; the message is for logs, never for the peer's eyes."""


class Blocked(OutboundError):
    """The host resolves to no public internet address."""


class Unreachable(OutboundError):
    """The host does not resolve, refuses the connection, or broke it."""


class Timeout(OutboundError):
    """The call did not finish before its deadline."""


class TooLarge(OutboundError):
    """The answer is larger than the call allows."""


class Busy(OutboundError):
    """Too many calls of this process are already waiting on other servers."""


@dataclass(frozen=True)
class Response:
    """A complete answer: status, headers (case-insensitive) and the whole body."""

    status: int
    headers: dict
    body: bytes

    def json(self):
        """The body as JSON (ValueError when it is not)."""
        import orjson

        return orjson.loads(self.body)


def is_public(ip):
    """Is ``ip`` a globally routable unicast address (not loopback, private, link-local, shared, reserved...)?"""
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def public_addresses(host, port):
    """The public addresses ``host`` resolves to (socket.gaierror when it does not resolve)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in found if is_public(info[4][0])]


class _Call(threading.local):
    """This thread's call in progress: whether it is public-only and the sockets its watchdog may shut."""

    public_only = False
    sockets = None


_call = _Call()


class _BlockedAddress(NewConnectionError):
    pass


class _Watched:
    """urllib3 connection mix-in: connect (to a checked public address when asked) and hand the socket to the
    call's watchdog."""

    def _new_conn(self):
        if not _call.public_only:
            sock = super()._new_conn()
        else:
            sock = self._public_conn()
        if _call.sockets is not None:
            _call.sockets.append(sock)
        return sock

    def _public_conn(self):
        try:
            addresses = public_addresses(self._dns_host, self.port)
        except (socket.gaierror, UnicodeError) as exc:
            raise NewConnectionError(self, f"{self.host} does not resolve: {exc}") from exc
        if not addresses:
            raise _BlockedAddress(self, f"{self.host} is not a public internet address")
        try:
            # Connect to the checked address itself; TLS still verifies the certificate against self.host.
            return connection.create_connection(
                (addresses[0], self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except socket.timeout as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


_slots = threading.BoundedSemaphore(SLOTS)


def set_slots(count):
    """How many threads of this process may wait on outbound calls at once (set at start-up)."""
    global _slots
    _slots = threading.BoundedSemaphore(max(1, int(count)))


@contextlib.contextmanager
def slot():
    """Hold one outbound slot for the block, or raise Busy at once when every slot is taken."""
    held = _slots
    if not held.acquire(timeout=SLOT_WAIT):
        raise Busy("too many outbound calls are in progress")
    try:
        yield
    finally:
        held.release()


@contextlib.contextmanager
def watchdog(seconds, shut):
    """Call ``shut()`` from another thread if the block is still running after ``seconds``; yield a flag whose
    ``is_set()`` says whether it fired."""
    fired = threading.Event()

    def expire():
        fired.set()
        with contextlib.suppress(OSError):
            shut()

    timer = threading.Timer(max(0.0, seconds), expire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def shut_sockets(sockets):
    """Shut every socket in the list, so a thread blocked reading one of them wakes up."""
    for sock in list(sockets):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def request(
    method,
    url,
    *,
    public_only,
    deadline=DEADLINE,
    max_bytes=MAX_BYTES,
    headers=None,
    data=None,
    json=None,
    auth=None,
    bounded=True,
):
    """Make one HTTP call under the promises of this module; return a Response or raise an OutboundError.

    ``bounded=False`` is for background senders, which hold no request thread.
    """
    with slot() if bounded else contextlib.nullcontext():
        started, sockets = time.monotonic(), []
        _call.public_only, _call.sockets = public_only, sockets
        try:
            with watchdog(deadline, lambda: shut_sockets(sockets)) as fired:
                try:
                    return _exchange(method, url, started + deadline, max_bytes, headers, data, json, auth, public_only)
                except requests.RequestException as exc:
                    raise _explain(exc, fired.is_set(), url) from exc
        finally:
            _call.public_only, _call.sockets = False, None


def _exchange(method, url, ends, max_bytes, headers, data, json, auth, public_only):
    with requests.Session() as http:
        if public_only:
            http.trust_env = False
        for prefix in ("http://", "https://"):
            http.mount(prefix, _Adapter(max_retries=0))
        remaining = max(0.01, ends - time.monotonic())
        with http.request(
            method,
            url,
            headers=headers,
            data=data,
            json=json,
            auth=auth,
            stream=True,
            allow_redirects=False,
            timeout=(remaining, remaining),
        ) as answer:
            declared = answer.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(f"{url} announced {declared} bytes (at most {max_bytes})")
            body = bytearray()
            for chunk in answer.iter_content(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise TooLarge(f"{url} sent more than {max_bytes} bytes")
                if time.monotonic() > ends:
                    raise Timeout(f"{url} did not finish in time")
            return Response(answer.status_code, answer.headers, bytes(body))


def _explain(exc, timed_out, url):
    """The OutboundError a requests failure stands for."""
    if timed_out or isinstance(exc, requests.Timeout):
        return Timeout(f"{url} did not finish in time")
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    if isinstance(reason, _BlockedAddress):
        return Blocked(f"{url} is not a public internet address")
    return Unreachable(f"{url} could not be reached: {type(exc).__name__}")
