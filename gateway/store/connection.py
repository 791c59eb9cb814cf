"""Opening the database: pragmas, migrations, per-thread read connections and write transactions."""
import contextlib
import os
import sqlite3
import threading

import sqlite_utils

from ..migrations import migrate

_local = threading.local()


def _open(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA mmap_size = 268435456")
    return conn


def connect(path):
    """Open (creating and migrating if needed) the database at ``path`` for writing."""
    if path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    conn = _open(path)
    # 16 KiB pages (a new database only): a stored resource is ~1 KB of JSON, and bulk loads write about a
    # third less than with 4 KiB pages, most of it B-tree overhead (measured with gateway/store/bulk.py).
    conn.execute("PRAGMA page_size = 16384")
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn)
    return sqlite_utils.Database(conn)


def reader(path):
    """Return this thread's long-lived connection to ``path`` (reopened after a fork)."""
    key = (path, os.getpid())
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    conn = conns.get(key)
    if conn is None:
        conn = conns[key] = _open(path)
    return conn


@contextlib.contextmanager
def transaction(conn):
    """Run a block in one write transaction (BEGIN IMMEDIATE takes the write lock up front)."""
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
    db.conn.execute("PRAGMA analysis_limit = 2000")  # sampled statistics: seconds, not minutes
    db.conn.execute("ANALYZE")
    db.conn.execute("PRAGMA optimize")
