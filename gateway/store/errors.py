"""The named errors the store raises; the doors' handlers turn them into responses (gateway/errors.py)."""

import re
import sqlite3

import psycopg
from psycopg import errors as pg_errors

# Either engine's constraint violation (a taken email, a bad foreign key), for ``except IntegrityError``.
IntegrityError = (sqlite3.IntegrityError, psycopg.IntegrityError)
# Either engine's "the database could not do it now" (SQLite's write lock stayed taken, PostgreSQL unreachable).
OperationalError = (sqlite3.OperationalError, psycopg.OperationalError)


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
