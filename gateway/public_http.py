"""HTTP to addresses people type in (a FHIR server to send a record to) that reaches the public internet only.

A patient can name any URL, so without a check the gateway would POST from inside the practice's network
to loopback, private, link-local (cloud metadata at 169.254.169.254) or other internal addresses, and show
the answer (server-side request forgery, OWASP SSRF Prevention Cheat Sheet). The check runs when the
connection is made, on the very address connected to, so a name that resolves to a public address when the
form is checked and to a private one when the record is sent (DNS rebinding) is still refused.
"""
import ipaddress
import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection


class BlockedAddress(NewConnectionError):
    """The host resolves to no public internet address."""


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


class _PublicOnly:
    """urllib3 connection mix-in: connect only to a public address of the host, checked here."""

    def _new_conn(self):
        try:
            addresses = public_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NewConnectionError(self, f"{self.host} does not resolve: {exc}") from exc
        if not addresses:
            raise BlockedAddress(self, f"{self.host} is not a public internet address")
        try:
            # Connect to the checked address itself; TLS still verifies the certificate against self.host.
            return connection.create_connection((addresses[0], self.port), self.timeout,
                                                source_address=self.source_address,
                                                socket_options=self.socket_options)
        except socket.timeout as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


class _HTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _HTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """A requests adapter whose connections go to public addresses only."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def session(public_only):
    """A requests Session; with ``public_only`` it refuses non-public addresses and ignores proxy settings
    (a proxy would be connected to instead of the checked host)."""
    found = requests.Session()
    if public_only:
        found.trust_env = False
        for prefix in ("http://", "https://"):
            found.mount(prefix, PublicOnlyAdapter())
    return found


def blocked(exc):
    """Did a requests error come from refusing a non-public address? (ConnectionError(MaxRetryError(reason)))"""
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), BlockedAddress)
