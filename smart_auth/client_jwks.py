"""A client's JWK Set fetched from its ``jwks_uri`` (private_key_jwt, RFC 7523 / SMART Backend Services).

The address is chosen by whoever registered the client, so the fetch goes through the one outbound client
(gateway/outbound.py: public addresses only in production, no redirects, a size cap, an overall deadline) and every
failure is the same KeysUnavailable, so a token error never tells an open port from a closed one.

Fetched sets are cached by the answer's Cache-Control (RFC 9111 section 5.2.2), so a burst of assertions does
not refetch. The cache lives in this process's memory: that is acceptable because it is only a cache (every
worker may fetch once; nothing that must agree across processes is kept here), and it is bounded (LRU by count).
"""

import collections
import logging
import threading
import time
from dataclasses import dataclass

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header

from gateway import outbound

DEADLINE = 3.0
MAX_BYTES = 64 * 1024
DEFAULT_TTL = 300  # no Cache-Control lifetime: keep five minutes
MAX_TTL = 3600  # never trust a set longer than an hour, whatever the peer says
MAX_ENTRIES = 256
REFETCH_INTERVAL = 30  # an unknown kid refetches at most this often per URL (key rotation without a storm)
log = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """The client's keys could not be loaded, whatever the reason (the reason is logged, never shown)."""


@dataclass(frozen=True)
class _Entry:
    keys: KeySet
    fetched_at: float
    expires_at: float


def lifetime(cache_control):
    """Seconds a fetched set may be reused under its Cache-Control header (0: not at all)."""
    parsed = parse_cache_control_header(cache_control, cls=ResponseCacheControl)
    if parsed.no_store or parsed.no_cache:
        return 0
    if parsed.max_age is None:
        return DEFAULT_TTL
    return max(0, min(parsed.max_age, MAX_TTL))


def fetch(url, public_only):
    """GET a JWK Set; return ``(KeySet, lifetime in seconds)`` or raise KeysUnavailable."""
    try:
        answer = outbound.request(
            "GET",
            url,
            public_only=public_only,
            deadline=DEADLINE,
            max_bytes=MAX_BYTES,
            headers={"Accept": "application/jwk-set+json, application/json"},
        )
        if answer.status != 200:
            raise KeysUnavailable(f"{url} answered {answer.status}")
        keys = KeySet.import_key_set(answer.json())
    except outbound.OutboundError as exc:
        raise KeysUnavailable(str(exc)) from exc
    except (ValueError, TypeError, KeyError, AttributeError, JoseError) as exc:
        raise KeysUnavailable(f"{url} did not answer a JWK Set: {type(exc).__name__}") from exc
    return keys, lifetime(answer.headers.get("Cache-Control", ""))


class JwksCache:
    """Fetched JWK Sets by URL, bounded by count (least recently used goes first)."""

    def __init__(self, max_entries=MAX_ENTRIES, clock=time.monotonic, fetcher=fetch):
        self.max_entries, self.clock, self.fetcher = max_entries, clock, fetcher
        self._entries, self._lock = collections.OrderedDict(), threading.Lock()

    def key_set(self, url, public_only, kid=None):
        """The JWK Set at ``url``: cached while fresh, refetched when stale or (rarely) for an unknown ``kid``."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None:
                self._entries.move_to_end(url)
        if entry is not None and now < entry.expires_at and not self._should_refetch(entry, kid, now):
            return entry.keys
        try:
            keys, ttl = self.fetcher(url, public_only)
        except KeysUnavailable as exc:
            log.info("client keys unavailable: %s", exc)
            raise
        self._store(url, _Entry(keys, now, now + ttl))
        return keys

    def _should_refetch(self, entry, kid, now):
        known = kid is None or any(key.kid == kid for key in entry.keys.keys)
        return not known and now - entry.fetched_at >= REFETCH_INTERVAL

    def _store(self, url, entry):
        with self._lock:
            if entry.expires_at <= entry.fetched_at:
                self._entries.pop(url, None)
                return
            self._entries[url] = entry
            self._entries.move_to_end(url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()


cache = JwksCache()
