"""The named errors the store raises; the doors' handlers turn them into responses (gateway/errors.py)."""

import sqlite3

import psycopg

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
