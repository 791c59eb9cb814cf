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

Results come in PostgreSQL's binary format (``binary=True``; psycopg docs, "Binary parameters and results"): in the
text format the server hex-encodes every bytea (PostgreSQL docs 8.4.1: twice the bytes on the wire) and psycopg decodes
it again. With that and column descriptions made only on demand (Rows), the read cases' statements cost 21-33% less
CPU in the gateway and 17-25% less in the backend (demo copy, 2,000 executions each, load average 9-11; issue 17);
the Python values are the same in both formats (str, int, bytes, bool, float, None).

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
import select
import threading

import psycopg
import psycopg_pool

from .migrations import MIGRATIONS
from .postgres_schema import BASELINE, BASELINE_COVERS

POOL_MAX = 10  # connections a process may hold at once (gateway/config.py DATABASE_POOL sets it)
# OUTAGE: while the server cannot be reached, a request waits at most POOL_TIMEOUT_S for a connection and then
# fails with PoolTimeout, which every door answers as 503 with Retry-After (gateway/errors.py); a restart (a second
# or two) is ridden through rather than failed. A connection attempt gives up after CONNECT_TIMEOUT_S (libpq's
# connect_timeout: a host that drops packets, not only one that refuses). The pool retries a failed connection with
# back-off (1 s, 2 s, ...) and gives that attempt up after RECONNECT_TIMEOUT_S, so the next waiting request starts
# a fresh one at once: connections come back within about two seconds of the server. A statement on a connection
# whose peer vanished without closing it (a host gone, a partition) fails once the kernel has waited
# tcp_user_timeout for an acknowledgement or keepalives found it dead. A writer waits for the write lock at most
# lock_timeout (SQLite's busy timeout), and a session idle inside a transaction (a gateway host that stopped
# mid-write without closing its socket) loses its locks after idle_in_transaction_session_timeout.
POOL_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 3
RECONNECT_TIMEOUT_S = 4.0
LOCK_TIMEOUT_S = 10
CONNECTION_SETTINGS = {
    "autocommit": True,
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "options": (
        f"-c search_path=public,access_log -c lock_timeout={LOCK_TIMEOUT_S}s -c idle_in_transaction_session_timeout=60s"
    ),
}
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


def pool(url, wait=POOL_TIMEOUT_S, connect_timeout=CONNECT_TIMEOUT_S):
    """This process's pool of connections to ``url``; ``wait``: seconds a borrower waits for a connection, and
    ``connect_timeout`` libpq's for one connection attempt (a replica's are short: replicas.py), when it is made."""
    key = (url, os.getpid())
    found = _pools.get(key)
    if found is None:
        with _pools_lock:
            found = _pools.get(key)
            if found is None:
                found = _pools[key] = _new_pool(url, wait, connect_timeout)
    return found


def _new_pool(url, wait, connect_timeout):
    """A pool that lends only live connections and, after an outage, reconnects by itself (see OUTAGE above)."""

    def lend_live(conn):
        # psycopg_pool's ``check`` runs before every loan. An idle connection has nothing to read unless the server
        # spoke or hung up (a restart sends 57P01 admin_shutdown, then closes): one poll, no round trip, on the hot
        # path; only then the pool's own check, a round trip (measured ~60 us of client CPU a loan, against ~10).
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        if not poller.poll(0):
            return
        try:
            psycopg_pool.ConnectionPool.check_connection(conn)
        except psycopg.Error:
            made.drain()  # its siblings died with it: replace them all at once, not one loan (and back-off) each
            raise

    made = psycopg_pool.ConnectionPool(
        url,
        min_size=1,
        max_size=POOL_MAX,
        kwargs={**CONNECTION_SETTINGS, "connect_timeout": connect_timeout},
        name="gateway",
        open=True,
        check=lend_live,
        timeout=wait,
        reconnect_timeout=RECONNECT_TIMEOUT_S,
    )
    return made


def close_pool(url):
    """Close this process's pool on ``url`` (tests dropping a database; nothing else needs to)."""
    found = _pools.pop((url, os.getpid()), None)
    if found is not None:
        found.close()


class Rows:
    """A finished statement's result: rows buffered before its connection went back to the pool."""

    __slots__ = ("_cursor", "rowcount", "_rows", "_at")

    def __init__(self, cursor):
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        result = cursor.pgresult
        self._rows = (
            cursor.fetchall() if result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK else []
        )
        self._at = 0

    @property
    def description(self):
        """The columns, made on demand: psycopg builds a Column per column on every access, and the read path
        never asks (only the dict-returning helpers of accounts.py do)."""
        return self._cursor.description

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
            return conn.execute(translate(sql), params, binary=True)
        with pool(self.url).connection() as conn:
            return Rows(conn.execute(translate(sql), params, binary=True))

    def executemany(self, sql, seq):
        seq = list(seq)
        if not seq:
            return None
        with self.transaction() as db:
            cursor = db._conn.cursor()
            cursor.executemany(translate(sql), seq)
            return cursor

    def copy_in(self, table, columns, rows):
        """Insert ``rows`` (tuples in ``columns`` order) in one transaction, skipping those that conflict with a row
        already there, as ``INSERT ... ON CONFLICT DO NOTHING`` would: COPY into a temporary table of the same
        columns, then one INSERT from it (migrate-to-postgres; COPY is PostgreSQL's bulk path, executemany a
        statement per row)."""
        names, stage = ", ".join(columns), f"copy_in_{table}"
        with self.transaction() as db:
            conn = db._conn
            conn.execute(f"CREATE TEMP TABLE {stage} (LIKE {table}) ON COMMIT DROP")
            with conn.cursor().copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")

    def executescript(self, script):
        """Run PostgreSQL statements as they are written (migrations): no placeholders to translate."""
        conn = self._conn
        if conn is not None:
            conn.execute(script)
            return
        with pool(self.url).connection() as conn:
            conn.execute(script)

    @contextlib.contextmanager
    def transaction(self, wait_for_lock=False):
        """One write transaction, joined if this thread's handle has one open (see the module docstring).

        A writer waits LOCK_TIMEOUT_S for the write lock, then fails (503 at the doors); ``wait_for_lock`` waits
        as long as it takes (migrating: a host that starts while another writes must not give up).
        """
        if self._conn is not None:
            yield self
            return
        with pool(self.url).connection() as conn, conn.transaction():
            if wait_for_lock:
                conn.execute("SET LOCAL lock_timeout = 0")
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
    with db.transaction(wait_for_lock=True):
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
