"""Read replicas: PostgreSQL hot standbys that serve the FHIR API's reads (GATEWAY_DATABASE_REPLICA_URL).

What goes where. A replica serves what the FHIR read, search, ``$everything``, ``$summary`` and Binary handlers
select. The primary serves everything else: every write, and every read that decides access or a write — the
bearer-token check (the token row and its revocation, the proxy rule), sessions, lockouts, codes, exports — so a
token revoked through one host is refused by every host at once (issue 17), whatever a replica has replayed. The
access-log row of a read is a write: the primary's.

Read-your-writes. After a request that wrote (a ``transaction()`` committed), the writer's read floor is the
primary's WAL insert position (``read_floors``, on the primary); the person's reads go to a replica only once
``pg_last_wal_replay_lsn()`` there has reached it, else to the primary. The insert position, not
``pg_current_wal_lsn()`` (the write position): with ``synchronous_commit = off`` a commit returns before its WAL
is written, and the insert position is past it (https://www.postgresql.org/docs/15/functions-admin.html,
table 9.91 and 9.92). A person is an account or staff uid (what a token's ``sub`` holds), or a client without one.

Lag bound. A replica whose replay has not reached the position the primary had ``max_lag`` seconds ago is left
alone until it catches up: each process samples the primary's position when it asks a replica (at most every
CHECK_SECONDS), so a standby that stopped streaming is noticed, though it still answers, within about
``max_lag + 2 * CHECK_SECONDS``.

Faults. A replica that refuses connections, times out, cancels a statement (a recovery conflict,
https://www.postgresql.org/docs/15/hot-standby.html#HOT-STANDBY-CONFLICT) or is no standby at all is logged and
left alone for DOWN_SECONDS; the statement runs again on the primary, so no request fails because of a replica.
"""

import itertools
import logging
import os
import threading
import time
from collections import deque

import psycopg
import psycopg_pool

from . import postgres

CHECK_SECONDS = 1.0  # how long a replica's replayed position is trusted before this process asks again
DOWN_SECONDS = 5.0  # how long a replica that failed is left alone
WAIT_SECONDS = 0.5  # how long a request waits for a replica's connection before it reads the primary
CONNECT_TIMEOUT = 2  # seconds for one connection attempt to a replica (libpq's minimum is 2)
_sets = {}
_sets_lock = threading.Lock()
_wrote = threading.local()
_log = logging.getLogger(__name__)

_FLOOR = "SELECT lsn FROM read_floors WHERE person = ?"
_NOTE = (
    "INSERT INTO read_floors (person, lsn) VALUES (?, (pg_current_wal_insert_lsn() - '0/0')::bigint)"
    # Never lowered: two hosts' notes for one person may land in either order.
    " ON CONFLICT (person) DO UPDATE SET lsn = greatest(read_floors.lsn, excluded.lsn)"
)
_POSITION = "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint"
_REPLAYED = "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0')::bigint"


class ReadOnlyHandle(RuntimeError):
    """A write tried on a replica's handle: the caller should have written through the primary's."""


def person_of(token):
    """Whose read floor a token's reads keep to: its subject (an account or staff uid), else its client's."""
    return token.subject or f"client:{token.client_id}"


def track_writes():
    """Have every committed write transaction of this process mark the request that made it (see took_writes)."""
    postgres.PgStore.committed = _note_commit


def _note_commit():
    _wrote.value = True


def took_writes():
    """True when this thread committed a write since the last call (a request's end asks; its start clears)."""
    wrote, _wrote.value = getattr(_wrote, "value", False), False
    return wrote


def note_write(primary, person):
    """Raise ``person``'s read floor to the primary's WAL insert position, past the write just committed."""
    primary.execute(_NOTE, (person,))


def reader(primary, urls, person, max_lag):
    """The handle ``person``'s reads run on: a replica of ``urls`` that has replayed their last write, else
    ``primary`` (this thread's handle on the primary)."""
    replicas = _replica_set(primary.url, urls, max_lag)
    if not replicas.any_up(time.monotonic()):
        return primary  # every replica failed a moment ago: no floor to look up
    row = primary.execute(_FLOOR, (person,)).fetchone()
    return replicas.reader(row[0] if row else 0) or primary


def _replica_set(primary_url, urls, max_lag):
    key = (primary_url, urls, max_lag, os.getpid())  # a forked child asks its own pools
    found = _sets.get(key)
    if found is None:
        with _sets_lock:
            found = _sets.setdefault(key, ReplicaSet(primary_url, urls, max_lag))
    return found


class ReplicaSet:
    """This process's view of one primary's replicas: which of them may serve a read, in turn."""

    def __init__(self, primary_url, urls, max_lag):
        self.primary = postgres.PgStore(primary_url)
        self.replicas = [Replica(url, self) for url in urls]
        self.max_lag = max_lag
        self.samples = deque()  # (monotonic seconds, the primary's WAL insert position then), oldest first
        self.sampling = threading.Lock()  # held for one sample and the walk along them
        self._turn = itertools.cycle(range(len(self.replicas)))

    def any_up(self, now):
        """False while every replica is left alone after a failure."""
        return any(now >= replica.down_until for replica in self.replicas)

    def reader(self, floor):
        """The handle of a replica that has replayed ``floor`` and is within the lag bound, or None."""
        now = time.monotonic()
        first = next(self._turn)
        for replica in self.replicas[first:] + self.replicas[:first]:
            if replica.serves(floor, now):
                return replica.handle
        return None

    def lag_floor(self, now):
        """The primary's position ``max_lag`` seconds ago (0 while this process has no sample that old), sampling
        it again first when the newest sample is older than CHECK_SECONDS."""
        with self.sampling:
            if not self.samples or now - self.samples[-1][0] >= CHECK_SECONDS:
                self.samples.append((now, self.primary.execute(_POSITION).fetchone()[0]))
            cutoff = now - self.max_lag
            while len(self.samples) > 1 and self.samples[1][0] <= cutoff:
                self.samples.popleft()
            return self.samples[0][1] if self.samples[0][0] <= cutoff else 0


class Replica:
    """One standby as this process knows it: how far it has replayed (asked at most every CHECK_SECONDS)."""

    def __init__(self, url, replica_set):
        self.url, self.set = url, replica_set
        self.handle = ReplicaStore(url, self)
        self.replayed, self.asked, self.down_until, self.stale = -1, float("-inf"), 0.0, False
        self.asking = threading.Lock()

    def serves(self, floor, now):
        """True when this replica may serve a read whose floor is ``floor``."""
        if now < self.down_until:
            return False
        if (now - self.asked >= CHECK_SECONDS or self.replayed < floor) and self.asking.acquire(False):
            try:
                self._ask(now)
            finally:
                self.asking.release()
        return now >= self.down_until and not self.stale and self.replayed >= floor

    def _ask(self, now):
        lag_floor = self.set.lag_floor(now)  # first: the position the primary had before the replica is asked
        try:
            with postgres.pool(self.url, WAIT_SECONDS, CONNECT_TIMEOUT).connection(WAIT_SECONDS) as conn:
                recovering, replayed = conn.execute(_REPLAYED).fetchone()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self.fail(exc)
            return
        if not recovering:  # a primary (or a promoted standby): not the database GATEWAY_DATABASE_REPLICA_URL names
            self.fail(f"{postgres.shown(self.url)} is not a standby (pg_is_in_recovery() is false)")
            return
        self.replayed, self.asked = replayed, now
        stale = replayed < lag_floor
        if stale and not self.stale:
            _log.warning(
                "replica %s lags more than %ss: reading the primary", postgres.shown(self.url), self.set.max_lag
            )
        self.stale = stale

    def fail(self, reason):
        """Leave this replica alone for DOWN_SECONDS (its reads go to the primary), and say why."""
        self.down_until = time.monotonic() + DOWN_SECONDS
        self.asked = float("-inf")
        _log.warning("replica %s unusable, reading the primary: %s", postgres.shown(self.url), reason)


class ReplicaStore(postgres.PgStore):
    """A read-only handle on a replica: each statement runs there, or on the primary when the replica fails."""

    def __init__(self, url, replica):
        super().__init__(url)
        self.replica = replica

    def execute(self, sql, params=()):
        if time.monotonic() < self.replica.down_until:  # it failed during this request: the rest reads the primary
            return self.replica.set.primary.execute(sql, params)
        try:
            with postgres.pool(self.url, WAIT_SECONDS, CONNECT_TIMEOUT).connection(WAIT_SECONDS) as conn:
                return postgres.Rows(conn.execute(postgres.translate(sql), params))
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            self.replica.fail(exc)
        return self.replica.set.primary.execute(sql, params)

    def executemany(self, sql, seq):
        raise ReadOnlyHandle("a replica's handle reads only")

    def executescript(self, script):
        raise ReadOnlyHandle("a replica's handle reads only")

    def transaction(self):
        raise ReadOnlyHandle("a replica's handle reads only: write through the primary's (store.current())")
