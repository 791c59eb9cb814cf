"""The PostgreSQL engine: a handle that keeps the store's promise (``transaction()``, ``close()``, ``path``).

Selected by a ``postgresql://`` URL where a path would name a SQLite file (``GATEWAY_DATABASE_URL``, any
``--db``). The store's modules run the same SQL on both engines: where the engines differ the shared SQL
was made portable (``ON CONFLICT DO NOTHING`` for ``INSERT OR IGNORE``, ``RETURNING id`` for
``lastrowid``, ``1 = 1`` for a bare ``1``), and what is left is rewritten here once per statement text
(:func:`translate`, cached): SQLite's ``?`` and ``:name`` placeholders become psycopg's ``%s`` and
``%(name)s``, ``json_each(?)`` becomes ``json_array_elements_text(%s::json)`` (both yield a column named
``value``) and SQLite's index hints (``NOT INDEXED``, ``INDEXED BY``) are dropped. The schema's own differences are in
postgres_schema.py (one baseline) and in each later migration's PostgreSQL statements.

The stored FHIR is bytea, not JSONB: the read path serves the bytes as stored (JSONB re-orders keys and re-spaces,
so a response would need re-serializing), and it reads faster. Measured on the demo (841 resources, PostgreSQL 15,
one connection, loaded 2-core machine): a read by (type, id) 214 us with bytea against 318 us with ``json::text`` from
JSONB; a patient's Observations 1184 us against 1346 us.

Connections: one psycopg_pool pool per process and URL (re-created after a fork: the key holds the pid, and a
child never touches its parent's sockets). A statement outside a transaction borrows a connection for that
statement alone (autocommit) and returns its rows buffered; ``transaction()`` holds one connection for the
block. Writers are serialized by a transaction-scoped advisory lock, as SQLite's ``BEGIN IMMEDIATE`` serializes
them: the store's read-then-write steps (the next chart id, a lockout count, a single-use code) stay correct
across processes and hosts, while reads never wait (MVCC).
"""

import contextlib
import functools
import os
import re
import threading

import psycopg
import psycopg_pool

from .migrations import MIGRATIONS
from .postgres_schema import BASELINE, BASELINE_COVERS

POOL_MAX = 10  # connections a process may hold at once (gateway/config.py DATABASE_POOL sets it)
WRITE_LOCK = 0x6761746577  # pg_advisory_xact_lock key held by every write transaction ("gatew")
_pools = {}
_pools_lock = threading.Lock()

Error = psycopg.Error
IntegrityError = psycopg.IntegrityError
OperationalError = psycopg.OperationalError


def is_url(path):
    """True when ``path`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(path, str) and path.startswith(("postgresql://", "postgres://"))


def shown(path):
    """``path`` as the CLI may print it: a URL's password replaced by ``***`` (a terminal's scrollback is no vault)."""
    if not is_url(path):
        return path
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*:)[^@]*@", r"\1***@", path)


_TOKENS = re.compile(r"'(?:[^']|'')*'|json_each\(\?\)|\bNOT INDEXED\b|\bINDEXED BY \w+|\?|%|(?<![:\w]):([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=4096)
def translate(sql):
    """SQLite's statement text as psycopg runs it (see the module docstring); cached per text."""

    def one(m):
        text = m.group(0)
        if text.startswith("'"):
            return text.replace("%", "%%")
        if text == "json_each(?)":
            return "json_array_elements_text(%s::json)"
        if text == "NOT INDEXED" or text.startswith("INDEXED BY"):
            return ""
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        return f"%({m.group(1)})s"

    return _TOKENS.sub(one, sql)


def pool(url, wait=30.0, connect_timeout=None):
    """This process's pool of connections to ``url``; ``wait``: seconds a borrower waits for a connection, and
    ``connect_timeout`` libpq's for one connection attempt (a replica's are short: replicas.py), when it is made."""
    key = (url, os.getpid())
    found = _pools.get(key)
    if found is None:
        with _pools_lock:
            found = _pools.get(key)
            if found is None:
                kwargs = {"autocommit": True, "options": "-c search_path=public,access_log"}
                if connect_timeout is not None:
                    kwargs["connect_timeout"] = connect_timeout
                found = _pools[key] = psycopg_pool.ConnectionPool(
                    url, min_size=1, max_size=POOL_MAX, kwargs=kwargs, timeout=wait, name="gateway", open=True
                )
    return found


def close_pool(url):
    """Close this process's pool on ``url`` (tests dropping a database; nothing else needs to)."""
    found = _pools.pop((url, os.getpid()), None)
    if found is not None:
        found.close()


class Rows:
    """A finished statement's result: rows buffered before its connection went back to the pool."""

    __slots__ = ("description", "rowcount", "_rows", "_at")

    def __init__(self, cursor):
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self._rows = cursor.fetchall() if cursor.description is not None else []
        self._at = 0

    def fetchone(self):
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self):
        rows, self._at = self._rows[self._at :], len(self._rows)
        return rows

    def __iter__(self):
        return iter(self.fetchall())


class PgStore:
    """A handle on a PostgreSQL database; the store's modules call ``execute``/``executemany`` on it as on SQLite's."""

    engine = "postgres"
    # Called with no arguments after each write transaction commits, when set (replicas.py notes the writer's read
    # floor); None without replicas, so a write pays nothing for them.
    committed = None

    def __init__(self, url):
        self.path = self.url = url
        self._held = threading.local()

    @property
    def _conn(self):
        return getattr(self._held, "conn", None)

    @property
    def in_transaction(self):
        return self._conn is not None

    def execute(self, sql, params=()):
        conn = self._conn
        if conn is not None:
            return conn.execute(translate(sql), params)
        with pool(self.url).connection() as conn:
            return Rows(conn.execute(translate(sql), params))

    def executemany(self, sql, seq):
        seq = list(seq)
        if not seq:
            return None
        with self.transaction() as db:
            cursor = db._conn.cursor()
            cursor.executemany(translate(sql), seq)
            return cursor

    def executescript(self, script):
        """Run PostgreSQL statements as they are written (migrations): no placeholders to translate."""
        conn = self._conn
        if conn is not None:
            conn.execute(script)
            return
        with pool(self.url).connection() as conn:
            conn.execute(script)

    @contextlib.contextmanager
    def transaction(self):
        """One write transaction, joined if this thread's handle has one open (see the module docstring)."""
        if self._conn is not None:
            yield self
            return
        with pool(self.url).connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            self._held.conn = conn
            try:
                yield self
            finally:
                self._held.conn = None
        if PgStore.committed is not None:
            PgStore.committed()

    def __enter__(self):  # ``with handle:`` as on sqlite3's connection: statements outside transaction() commit alone
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        """Nothing to release: connections go back to the process's pool after every statement or transaction."""


def connect(url, definitions=True):
    """Open a handle on ``url``, creating the schema and applying migrations; the caller closes it.

    ``definitions``: project the definition rows (screening forms) that have no resource yet, as
    connection.connect does for SQLite; a copy from SQLite (moving.py) brings its own, byte for byte.
    """
    db = PgStore(url)
    migrate(db)
    if definitions:
        from .definitions import project_definitions

        project_definitions(db)
    return db


def migrate(db):
    """Bring the database to the newest schema: the baseline, then every later migration's PostgreSQL statements.

    Migrating processes take an advisory lock, so two hosts starting at once apply each migration once.
    """
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(1)")
        # Search ranges and keyset paging compare text as SQLite does, byte by byte (search.py's prefix ranges): in
        # such a collation 'B' (0x42) sorts before 'a' (0x61); in a linguistic one (libc en_US, ICU) after it.
        if db.execute("SELECT 'a' < 'B'").fetchone()[0]:
            raise RuntimeError(
                "the database does not compare text byte by byte: create it with LC_COLLATE 'C' "
                "(createdb --locale=C --locale-provider=libc --template=template0)"
            )
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        current = db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
        if current == 0:
            db.executescript(BASELINE)
            current = BASELINE_COVERS
            db.execute("INSERT INTO schema_version VALUES (?)", (current,))
        for version, entry in enumerate(MIGRATIONS[current:], start=current + 1):
            if len(entry) < 3:
                raise RuntimeError(f"migration {version} ({entry[0]!r}) has no PostgreSQL statements")
            if callable(entry[2]):  # a step SQL cannot express (migrations.index_sensitivity): same code, both engines
                entry[2](db)
            else:
                db.executescript(entry[2])
            db.execute("INSERT INTO schema_version VALUES (?)", (version,))
    return len(MIGRATIONS)


def optimize(db):
    """Refresh the planner's statistics (after loads), as SQLite's ANALYZE."""
    db.execute("ANALYZE")
