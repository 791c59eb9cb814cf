"""The store handle: opening the database (pragmas, migrations), this thread's handle, write transactions."""

import contextlib
import logging
import os
import sqlite3
import threading
import time
from urllib.parse import quote

from . import log_shards, postgres
from .migrations import migrate

_local = threading.local()
BUSY_TIMEOUT_S = 10  # how long a statement waits for another connection's write lock
_locate = None  # returns the configured database's path; set by configure() (the store knows no Flask)
# A database's WAL (the chart's and the access log's) is copied into its file by a thread of each process
# every CHECKPOINT_SECONDS (checkpoint), not by the request whose commit happens to fill it (SQLite's
# autocheckpoint, which copies and fsyncs in that request); a WAL longer than WAL_RESTART_BYTES is started
# again from its beginning (RESTART), so it stays bounded.
CHECKPOINT_SECONDS = 1.0
WAL_RESTART_BYTES = 16 * 2**20
_checkpoint_paths = set()  # the database files this process writes, which its checkpoint thread looks after
_checkpointer_pid = None  # the process whose checkpoint thread runs (a forked child starts its own)
_checkpointers_lock = threading.Lock()
# Held by the checkpoint thread while it is inside SQLite, and by a thread that forks (os.register_at_fork
# below): a child forked while the thread held one of SQLite's own mutexes would wait on it for ever.
_round_lock = threading.Lock()
_log = logging.getLogger(__name__)


def _after_fork_in_child():
    """The child has no checkpoint thread and must not inherit the parent's locks as they were."""
    global _checkpointers_lock, _round_lock, _checkpointer_pid
    _checkpointers_lock, _round_lock, _checkpointer_pid = threading.Lock(), threading.Lock(), None


os.register_at_fork(
    before=lambda: _round_lock.acquire(),
    after_in_parent=lambda: _round_lock.release(),
    after_in_child=_after_fork_in_child,
)


class Store(sqlite3.Connection):
    """A handle on the gateway's database: what every store function takes as its first argument.

    The handle promises ``transaction()`` (a context manager: one write transaction, joined if one is open),
    ``close()`` and ``path``; everything else callers do goes through the store's named functions
    (``store.chart_rows(handle, ...)``, ``oauth.client_by_id(handle, ...)``), never through SQL of their own.
    Only the store's modules run SQL on it. This SQLite handle is a ``sqlite3.Connection``, so those modules
    call ``execute`` with no wrapper on the read path. The PostgreSQL handle (postgres.PgStore) keeps the same
    promise; ``connect``, ``current`` and ``access_log`` open it when given a ``postgresql://`` URL.
    """

    path = None
    engine = "sqlite"

    def transaction(self):
        """Run a block in one write transaction (see :func:`transaction`)."""
        return transaction(self)


def access_log_path(path):
    """The access log's own database, beside the chart's: ``var/demo.db`` -> ``var/demo.access-log.db``.

    Every FHIR request that discloses a record writes a log row. In the chart's database each of those
    commits made every other connection drop its page cache (a write changes the WAL), which halved
    read throughput (bench/); in a file of its own, the log's writes leave the chart's caches alone.
    """
    if path == ":memory:":
        return ":memory:"
    root, ext = os.path.splitext(path)
    return f"{root}.access-log{ext or '.db'}"


def _create_owner_only(path):
    """Create an empty database file readable by its owner alone, unless it exists.

    SQLite gives a new file the umask's mode (usually 0644) but creates the -wal and -shm files with their
    database's mode (os_unix.c, findCreateFileMode), so one owner-only file covers all three. Creating it
    with os.open, rather than changing the process-wide umask, leaves other threads' files alone.
    """
    if path == ":memory:":
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _tighten(path):
    """Make an existing database's files owner-only (ones created before files were)."""
    for name in (path, access_log_path(path)):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                if os.stat(name + suffix).st_mode & 0o077:
                    os.chmod(name + suffix, 0o600)


def _open(path):
    _create_owner_only(path)
    _create_owner_only(access_log_path(path))
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=Store)
    conn.path = path
    conn.log_path = access_log_path(path)  # log_shards.readable attaches the shards beside it
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA mmap_size = 268435456")
    conn.execute("ATTACH DATABASE ? AS access_log", (access_log_path(path),))
    conn.execute("PRAGMA access_log.synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # both files: this process's checkpoint thread does it
    if path != ":memory:":
        _start_checkpointer(path)
        _start_checkpointer(access_log_path(path))
    return conn


def connect(path):
    """Open a new handle on the database at ``path``, creating and migrating it if needed; the caller closes it.

    A ``postgresql://`` URL opens the PostgreSQL store (gateway/store/postgres.py) instead of a SQLite file.
    """
    if postgres.is_url(path):
        return postgres.connect(path)
    if path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        _tighten(path)
    conn = _open(path)
    # 16 KiB pages (a new database only): a stored resource is ~1 KB of JSON, and bulk loads write about a
    # third less than with 4 KiB pages, most of it B-tree overhead (measured with gateway/store/bulk.py).
    conn.execute("PRAGMA main.page_size = 16384")
    conn.execute("PRAGMA journal_mode = WAL")  # every attached database
    migrate(conn)
    from .definitions import project_definitions  # it writes through the projection, which needs this module

    project_definitions(conn)
    return conn


def configure(locate):
    """Tell :func:`current` where the configured database is: ``locate()`` returns its path.

    The app factory passes a function that reads the running app's configuration, so every door (pages,
    APIs, OAuth, the lean FHIR front) and smart_auth get their handle the same way without the store
    knowing about Flask.
    """
    global _locate
    _locate = locate


def current(path=None):
    """Return this thread's long-lived handle on ``path``, by default the configured database.

    One handle per thread and process (reopened after a fork), opened once and kept: opening a connection
    costs more than most reads.
    """
    if path is None:
        if _locate is None:
            raise RuntimeError("store.current() needs a path, or store.configure() first")
        path = _locate()
    # The engine is chosen once, when this thread first opens the handle: the cached path costs nothing more.
    return _thread_connection(("chart", path), lambda: postgres.PgStore(path) if postgres.is_url(path) else _open(path))


def access_log(path):
    """Return this thread's connection for appending to the access log of the database at ``path``.

    Its busy timeout is 0: disclosures.insert_read waits for the write lock in finer steps itself. On
    PostgreSQL the log is the schema ``access_log`` of the same database, written through the same pool.
    """
    return _thread_connection(
        ("log", path), lambda: postgres.PgStore(path) if postgres.is_url(path) else _open_log(access_log_path(path))
    )


def _open_log(log_path):
    """A request thread's log connection (see disclosures.insert_read for what each row costs).

    Durability: in WAL mode with synchronous = NORMAL a commit has written the row's WAL frames to the
    operating system before the INSERT returns, so it survives the process being killed (SIGKILL, a crash)
    at any moment after; it is fsynced at the next checkpoint, so a power cut or kernel crash can lose the
    last second of rows (https://sqlite.org/pragma.html#pragma_synchronous, https://sqlite.org/wal.html).
    synchronous = FULL (an fsync per commit) measured about 3 ms a row on this disk against about 20 µs.
    The connection never checkpoints (wal_autocheckpoint = 0): a checkpoint copies and fsyncs pages, and in
    the request that ran it that was the log's largest cost and its p99; the checkpoint thread does it.
    A server worker's reads skip even the INSERT: they are lines in its shard's journal, as durable
    (gateway/store/log_journal.py).
    """
    main = log_path
    shard = log_shards.claim(main, _create_owner_only)  # a server worker appends to files of its own
    if shard is not None:
        log_path = log_shards.shard_path(main, shard)
    _create_owner_only(log_path)
    conn = sqlite3.connect(log_path, isolation_level=None, check_same_thread=False, factory=Store)
    conn.path = log_path
    conn.journal = None if shard is None else log_shards.journal(main)  # its reads go there (log_journal)
    conn.execute("PRAGMA busy_timeout = 0")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    if log_path != ":memory:":
        _start_checkpointer(log_path)
    return conn


def _start_checkpointer(file_path):
    """Have this process's checkpoint thread look after the database at ``file_path``, starting the thread
    if it does not run (after a fork the parent's thread is gone: the child starts its own)."""
    global _checkpointer_pid
    with _checkpointers_lock:
        _checkpoint_paths.add(file_path)
        if _checkpointer_pid == os.getpid():
            return
        _checkpointer_pid = os.getpid()
    threading.Thread(target=_checkpoint_loop, name="sqlite-checkpoint", daemon=True).start()


def _checkpoint_loop():
    seen = {}  # file path -> its WAL's (size, mtime) at the last round: an unchanged WAL needs no round
    while True:
        time.sleep(CHECKPOINT_SECONDS)
        try:
            with _round_lock:
                log_shards.move_journals()  # a server worker's read rows, into its shard (log_journal)
        except (OSError, sqlite3.Error):
            _log.exception("moving the access-log journal failed; trying again in a moment")
        with _checkpointers_lock:
            paths = sorted(_checkpoint_paths)
        for path in paths:
            stamp = _wal_stamp(path)
            if stamp is not None and seen.get(path) == stamp:
                continue
            try:
                with _round_lock:
                    done = checkpoint(path)
            except sqlite3.Error:
                _log.exception("checkpointing %s failed; trying again in a moment", path)
                continue
            if done is None:  # the file is gone (a test's deleted database)
                with _checkpointers_lock:
                    _checkpoint_paths.discard(path)
                seen.pop(path, None)
            else:
                seen[path] = _wal_stamp(path)


def _wal_stamp(file_path):
    try:
        found = os.stat(file_path + "-wal")
    except FileNotFoundError:
        return None
    return found.st_size, found.st_mtime_ns


def checkpoint(file_path):
    """One checkpoint round of the database file ``file_path``: (WAL frames, frames copied), or None when the
    file is gone (a test's deleted database: nothing is created again).

    PASSIVE copies what no reader still needs, taking no lock a request waits for. Then, past
    WAL_RESTART_BYTES, RESTART copies the few frames written since and waits (up to 100 ms) for the readers
    and writers in flight, so that the next write starts the WAL over; writers wait for that short tail
    (once per WAL_RESTART_BYTES written), readers never. Two processes' rounds may meet: the later is told
    SQLITE_BUSY and copies nothing. The round's connection has synchronous = NORMAL, so the file is fsynced
    before the WAL is reused (https://sqlite.org/wal.html#ckpt).
    """
    try:
        conn = sqlite3.connect(f"file:{quote(file_path)}?mode=rw", uri=True, isolation_level=None)
    except sqlite3.OperationalError:
        return None
    with contextlib.closing(conn):
        conn.execute("PRAGMA busy_timeout = 100")
        conn.execute("PRAGMA synchronous = NORMAL")
        _, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames * conn.execute("PRAGMA page_size").fetchone()[0] > WAL_RESTART_BYTES:
            _, frames, done = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return frames, done


def _thread_connection(name, opener):
    key = (*name, os.getpid())
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    conn = conns.get(key)
    if conn is None:
        conn = conns[key] = opener()
    return conn


def transaction(conn):
    """Run a block in one write transaction (BEGIN IMMEDIATE takes the write lock up front); join an open one."""
    if isinstance(conn, sqlite3.Connection):
        return _sqlite_transaction(conn)
    return conn.transaction()


@contextlib.contextmanager
def _sqlite_transaction(conn):
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def optimize(db):
    """Refresh the query planner's statistics so the search indexes are used (run after loads)."""
    if not isinstance(db, sqlite3.Connection):
        return postgres.optimize(db)
    db.execute("PRAGMA analysis_limit = 2000")  # sampled statistics: seconds, not minutes
    db.execute("ANALYZE")
    db.execute("PRAGMA optimize")
