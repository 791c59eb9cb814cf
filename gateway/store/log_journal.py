"""A server worker's read rows: appended to a journal file, moved into the worker's log shard in batches.

An INSERT and commit per FHIR read was the largest cost of a read (about two fifths in-process, and more in a
served worker: each commit writes WAL pages that the checkpoint thread copies and fsyncs). Measured side by side
at 100,000 patients (16 connections, three alternating rounds, two runs with the order swapped), the journal
against an INSERT per read into the same shard: reads 5,673 / 5,972 req/s against 5,083 / 5,136 (server CPU per
read 0.27 against 0.31 ms), Condition searches 4,104 / 4,570 against 3,858 / 4,132, lab Observations and
``$everything`` within noise (+6 % / 0, +7 % / 0). A line with no mover at all served 6,590 against 4,912: the
mover's batched INSERTs (about 10 µs a row) take back part of it.

So a worker appends each read row as one JSON line, with one ``write()`` on an ``O_APPEND`` descriptor, before
the response leaves: once ``write()`` returns the line is in the operating system's page cache and survives the
process being killed at any moment after, as a commit in WAL mode with ``synchronous = NORMAL`` did; the mover
fdatasyncs the journal every round, so a power cut can lose about the last second, as before
(connection._open_log). The worker's checkpoint thread moves the complete lines into its shard's ``disclosures``
table every second (``Journal.move``), and every reader moves what is there first (``ingest``, from
log_shards.readable), so a history page shows a read made a moment ago.

Exactly once: the shard holds the journal's generation and how far into it rows were moved, updated in the
transaction that inserts them; movers take turns through an flock on ``<log>.k.ingest``. A line counts once its
newline is written (each line also starts with one); a reader that meets a line still being written stops
before it. When a generation has grown past ROTATE_BYTES, its owner moves what is there, then, holding its
writers' lock, the few lines written since (so writers wait ~1.5 ms, the commit's fsync, not the whole move), and
commits the next generation with offset 0 in the same transaction (synchronous = FULL: on disk before the old
file goes), then writes to the new file and deletes the old one; an older generation's file found later (a crash
between the commit and the delete) is deleted unread.
"""

import contextlib
import fcntl
import glob
import logging
import os
import sqlite3
import threading

import orjson

ROTATE_BYTES = 16 * 2**20
READ_BYTES = 4 * 2**20  # the most of a journal one transaction moves
_STATE = "CREATE TABLE IF NOT EXISTS journal (generation INTEGER NOT NULL, moved INTEGER NOT NULL)"
_log = logging.getLogger(__name__)


def journal_path(shard, generation):
    """``var/demo.access-log.1.db``, 3 -> ``var/demo.access-log.1.3.journal``."""
    return f"{os.path.splitext(shard)[0]}.{generation}.journal"


def journal_files(shard):
    """The journal files of a shard that exist, and its movers' lock file (existing or not)."""
    return [*sorted(glob.glob(f"{glob.escape(os.path.splitext(shard)[0])}.*.journal")), _lock_path(shard)]


def _lock_path(shard):
    return f"{os.path.splitext(shard)[0]}.ingest"


class Journal:
    """The owning worker's end of one shard's journal: ``append`` (request threads) and ``move`` (its mover)."""

    def __init__(self, shard, floor):
        self.shard, self.floor = shard, floor
        self.lock = threading.Lock()  # one write() at a time, and none while the file is rotated
        self.generation = ingest(shard, floor)
        self.fd = _open_for_append(journal_path(shard, self.generation))

    def append(self, at_ms, patient_id, client_id, actor, what, count):
        """Write one read row; it is durable against a crash of this process once this returns."""
        # The leading newline ends a line a full disk cut short (ingest skips it), so that it spoils no other.
        line = b"\n" + orjson.dumps((at_ms, patient_id, client_id, actor, what, count)) + b"\n"
        with self.lock:
            written = os.write(self.fd, line)
        if written != len(line):  # the request fails: it disclosed nothing
            raise OSError(f"access-log journal: wrote {written} of {len(line)} bytes")

    def move(self):
        """Move the complete lines into the shard (rotating the file past ROTATE_BYTES) and fdatasync it."""
        os.fdatasync(self.fd)
        ingest(self.shard, self.floor)  # before a rotation too, so that writers wait only for the lines since
        if os.fstat(self.fd).st_size < ROTATE_BYTES:
            return
        with self.lock:
            self.generation = ingest(self.shard, self.floor, rotate=True)  # deletes the rotated file too
            old, self.fd = self.fd, _open_for_append(journal_path(self.shard, self.generation))
        os.close(old)

    def close(self):
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _open_for_append(path):
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)


def ingest(shard, floor, rotate=False):
    """Move the journal's complete lines not yet moved into the shard's table; return the generation now written.

    At most READ_BYTES a transaction, so a reader's memory stays bounded however far the mover fell behind.
    ``rotate`` (the owner only, holding its writers' lock): the last transaction also starts the next generation."""
    with _movers_turn(shard), contextlib.closing(sqlite3.connect(shard, isolation_level=None, timeout=30)) as conn:
        conn.execute("PRAGMA synchronous = FULL" if rotate else "PRAGMA synchronous = NORMAL")
        conn.execute(_STATE)
        state = conn.execute("SELECT generation, moved FROM journal").fetchone()
        if state is None:
            conn.execute("INSERT INTO journal VALUES (0, 0)")
            state = (0, 0)
        generation, moved = state
        while True:
            data = _read_from(journal_path(shard, generation), moved, READ_BYTES)
            complete, last = data[: data.rfind(b"\n") + 1], len(data) < READ_BYTES
            if complete or (rotate and last):
                generation, moved = _move(conn, shard, floor, complete, generation, moved, rotate and last)
            if last or not complete:
                break
    _delete_older(shard, generation)
    return generation


def _move(conn, shard, floor, complete, generation, moved, rotate):
    """One transaction: the rows of ``complete`` (whole lines read at ``moved``) and how far the journal is moved."""
    conn.execute("BEGIN IMMEDIATE")
    try:  # the shard's ids: on from its largest (or its floor), taken under the write lock
        last = conn.execute("SELECT coalesce(max(id), ?) FROM disclosures", (floor,)).fetchone()[0]
        conn.executemany(_MOVE, ((last + n, *row) for n, row in enumerate(_rows(complete, shard), 1)))
        after = (generation + 1, 0) if rotate else (generation, moved + len(complete))
        conn.execute("UPDATE journal SET generation = ?, moved = ?", after)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return after


_MOVE = (
    "INSERT INTO disclosures (id, at, patient_id, kind, client_id, actor, what, count) VALUES (?,?,?,'read',?,?,?,?)"
)


@contextlib.contextmanager
def _movers_turn(shard):
    fd = os.open(_lock_path(shard), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def _read_from(path, offset, size):
    try:
        with open(path, "rb") as journal:
            journal.seek(offset)
            return journal.read(size)
    except FileNotFoundError:
        return b""


def _rows(data, shard):
    for line in data.splitlines():
        if not line:
            continue
        try:
            at, patient_id, client_id, actor, what, count = orjson.loads(line)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            _log.error("access-log journal of %s: skipped a line cut short (%d bytes)", shard, len(line))
            continue
        yield at, patient_id, client_id, actor, what, count


def _delete_older(shard, generation):
    for path in journal_files(shard)[:-1]:
        found = path[: -len(".journal")].rsplit(".", 1)[1]
        if found.isdigit() and int(found) < generation:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
