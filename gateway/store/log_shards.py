"""The access log's shards: each server worker process appends its FHIR read rows to a log file of its own.

Sharing one log file, the workers took turns at its one write lock and every commit by one emptied the other's
page cache of the log. Measured side by side with the 100,000-patient bench database (2 workers x 3 threads, 16
connections, 3 alternating rounds, both logs new): one shared file against a file per worker, Condition searches
3,868 -> 4,082 req/s, lab Observations 2,554 -> 2,839, ``$everything`` 1,377 -> 1,571 (CPU per request 11 % less),
reads 5,615 -> 5,730, p99 a little lower in each. (A big log, 5.2 million rows, looked costlier still in one run;
later side-by-side runs did not bear that out: README, Performance.)

A worker (``enable()`` is called after the fork, gateway/server.py ``_serving_worker``) claims the lowest free
shard k in 1..SHARDS with an flock on ``<log>.k.claim`` that it holds for its life; its read rows go to the
shard's journal and from there into ``<log>.k.db`` (``demo.access-log.1.db`` beside ``demo.access-log.db``;
gateway/store/log_journal.py). A row's id in shard k is above k * SPAN, counted on from the shard's largest
under its write lock when the journal's lines are moved, so ids stay unique across the files. With every shard
claimed a worker appends to the main log, as every other process (the CLI, the app in tests) does, and every
other kind of row (downloads, transmissions, views) goes there too.

Readers see one table: ``readable(conn)`` moves what the journals hold into the shards, attaches the shards that
exist and (re)creates the TEMP VIEW ``disclosures`` over the main log and them, which on that connection hides
``access_log.disclosures`` from unqualified names (so writes name ``access_log.disclosures``). A later change to
the log's columns must alter the shards' tables and the journal's line as well (COLUMNS, an ALTER for each shard
file, log_journal's ``append`` and ``_MOVE``).
"""

import contextlib
import fcntl
import os
import sqlite3
import threading

from . import log_journal
from .migrations import ACCESS_LOG_SCHEMA

SHARDS = 8  # with the main log, 9 attached databases: SQLite's default limit is 10
SPAN = 1 << 40
COLUMNS = "id, at, patient_id, kind, client_id, actor, what, count, recipient, outcome, detail"
SHARD_SCHEMA = ACCESS_LOG_SCHEMA.replace("access_log.", "")  # the main log's table and index, in the shard's file
_enabled = False
_claims = {}  # log path -> (pid, k, claim file descriptor, log_journal.Journal)
_lock = threading.Lock()


def enable():
    """Let this process claim shards: only server workers do (gateway/server.py ``_serving_worker``)."""
    global _enabled
    _enabled = True


def shard_path(log_path, k, ext=None):
    """``var/demo.access-log.db`` -> ``var/demo.access-log.1.db`` (or ``.1.claim``)."""
    root, own = os.path.splitext(log_path)
    return f"{root}.{k}{ext or own or '.db'}"


def shard_files(log_path):
    """Every file a shard of the log may have (the claim, the database, its -wal and -shm, existing or not; its
    journal files that exist and their movers' lock)."""
    return [
        path
        for k in range(1, SHARDS + 1)
        for path in (
            shard_path(log_path, k, ".claim"),
            *(shard_path(log_path, k) + end for end in ("", "-wal", "-shm")),
            *log_journal.journal_files(shard_path(log_path, k)),
        )
    ]


def claim(log_path, create_owner_only):
    """This process's shard of the log at ``log_path`` (k, claimed at first use), or None for the main log."""
    if not _enabled or log_path == ":memory:":
        return None
    with _lock:
        found = _claims.get(log_path)
        if found is not None and found[0] == os.getpid():
            return found[1]
        for k in range(1, SHARDS + 1):
            fd = os.open(shard_path(log_path, k, ".claim"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            create_owner_only(shard_path(log_path, k))
            _create_table(shard_path(log_path, k))
            journal = log_journal.Journal(shard_path(log_path, k), k * SPAN)  # moves what a previous owner left
            _claims[log_path] = (os.getpid(), k, fd, journal)
            return k
        return None


def journal(log_path):
    """This process's journal of its shard of the log at ``log_path`` (log_journal.Journal), or None."""
    found = _claims.get(log_path)
    return found[3] if found is not None and found[0] == os.getpid() else None


def move_journals():
    """Move this process's journal lines into its shards (its checkpoint thread does, every round)."""
    for pid, _, _, owned in list(_claims.values()):
        if pid == os.getpid():
            owned.move()


def _create_table(path):
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SHARD_SCHEMA)


def _forget_claims():
    """In a forked child: the parent's claims stay the parent's (the child claims its own at first use)."""
    for _, _, fd, owned in _claims.values():
        with contextlib.suppress(OSError):
            os.close(fd)
        owned.close()
    _claims.clear()


os.register_at_fork(after_in_child=_forget_claims)


def readable(conn):
    """Make ``disclosures`` on this SQLite connection mean the main log and every shard (PostgreSQL: nothing to do)."""
    log_path = getattr(conn, "log_path", None)
    if log_path in (None, ":memory:"):
        return
    present = [k for k in range(1, SHARDS + 1) if os.path.exists(shard_path(log_path, k))]
    for k in present:  # the rows still in the workers' journals, so that a read a moment ago is seen
        log_journal.ingest(shard_path(log_path, k), k * SPAN)
    seen = getattr(conn, "log_shards_seen", [])
    if present == seen:
        return
    attached = {row[1] for row in conn.execute("PRAGMA database_list")}
    for k in present:
        if f"log_{k}" not in attached:
            conn.execute(f"ATTACH DATABASE ? AS log_{k}", (shard_path(log_path, k),))
    usable = [
        k
        for k in present
        if conn.execute(f"SELECT 1 FROM log_{k}.sqlite_master WHERE name = 'disclosures'").fetchone() is not None
    ]
    arms = [f"SELECT {COLUMNS} FROM access_log.disclosures"]
    arms += [f"SELECT {COLUMNS} FROM log_{k}.disclosures" for k in usable]
    conn.execute("DROP VIEW IF EXISTS temp.disclosures")
    conn.execute(f"CREATE TEMP VIEW disclosures AS {' UNION ALL '.join(arms)}")
    conn.log_shards_seen = usable if usable == present else seen  # a shard without its table yet: look again
