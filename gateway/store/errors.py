"""The named errors the store raises; the doors' handlers turn them into responses (gateway/errors.py)."""

import re
import sqlite3

import psycopg
from psycopg import errors as pg_errors

# Either engine's constraint violation (a taken email, a bad foreign key), for ``except IntegrityError``.
IntegrityError = (sqlite3.IntegrityError, psycopg.IntegrityError)
# Either engine's "the database could not do it now" (SQLite's write lock stayed taken, PostgreSQL unreachable).
OperationalError = (sqlite3.OperationalError, psycopg.OperationalError)


# How long a client is told to wait (Retry-After) when the database cannot be reached: a PostgreSQL restart takes
# a second or two, and the pool tries a new connection at most about two seconds after the server is back.
RETRY_AFTER_SECONDS = 3
# SQLite's primary result codes (an extended code keeps one in its low byte) for "not now": the write lock stayed
# taken past the busy timeout (BUSY, LOCKED), the disk failed or is full (IOERR, FULL). https://sqlite.org/rescode.html
_SQLITE_NOT_NOW = {5, 6, 10, 13}
# PostgreSQL's SQLSTATE classes for "not now" (Appendix A): 08 connection exception, 53 insufficient resources,
# 57 operator intervention (57P01 admin_shutdown on a restart, 57P03 cannot_connect_now while it starts); and
# 55P03 lock_not_available (lock_timeout, postgres.py). Client-side failures (a refused or lost connection, the
# pool's PoolTimeout) carry no SQLSTATE.
_PG_NOT_NOW_CLASSES = {"08", "53", "57"}


def unavailable(exc):
    """True when ``exc`` says the database cannot be reached or cannot take the work now (503, try again)."""
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate
        return state is None or state[:2] in _PG_NOT_NOW_CLASSES or state == "55P03"
    if isinstance(exc, sqlite3.OperationalError):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_NOT_NOW
    return False


class GatewayError(Exception):
    """Base class: ``status`` is the HTTP status, ``code`` the FHIR issue type."""

    status = 500
    code = "exception"

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ChartError(GatewayError):
    """A chart write that the store refuses (unknown table, bad foreign key, missing column)."""

    status = 400
    code = "invalid"


def constraint_message(exc):
    """The constraint a write broke, in SQLite's words on either engine (a ChartError's message says it)."""
    if not isinstance(exc, psycopg.Error):
        return str(exc)
    diag = exc.diag
    if isinstance(exc, pg_errors.ForeignKeyViolation):
        return "FOREIGN KEY constraint failed"
    if isinstance(exc, pg_errors.NotNullViolation):
        return f"NOT NULL constraint failed: {diag.table_name}.{diag.column_name}"
    if isinstance(exc, pg_errors.UniqueViolation):
        found = re.match(r"Key \((.+?)\)=", diag.message_detail or "")
        columns = found.group(1).split(", ") if found else [diag.constraint_name]
        return "UNIQUE constraint failed: " + ", ".join(f"{diag.table_name}.{c}" for c in columns)
    if isinstance(exc, pg_errors.CheckViolation):
        return f"CHECK constraint failed: {diag.constraint_name}"
    return diag.message_primary or str(exc)
