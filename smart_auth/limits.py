"""Attempt limits kept in the database, so every worker and host counts the same attempts.

An attempt is counted before it is checked, in one write transaction with the check (BEGIN IMMEDIATE),
so N parallel attempts can never be checked more than the limit allows.
"""

import hashlib
import math
import time

from gateway import store
from gateway.store import accounts as account_store


class TooManyAttempts(Exception):
    """Too many failures under one key; ``minutes`` says when to try again."""

    def __init__(self, retry_after):
        self.retry_after = retry_after
        self.minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"Too many attempts. Try again in {self.minutes} minute{'s' if self.minutes > 1 else ''}.")


def key(kind, value):
    """A limit key that does not store the email or address it counts (only a hash of it)."""
    return f"{kind}:{hashlib.sha256(str(value).lower().encode()).hexdigest()[:32]}"


def reserve(conn, *rules):
    """Count one attempt under each ``(key, limit, window)`` rule at once; return the ids of the counted rows.

    Raises TooManyAttempts, counting nothing, when any key already has ``limit`` attempts within its
    ``window`` seconds: a refused attempt does not extend the wait.
    """
    now = time.time()
    with store.transaction(conn):
        ids = []
        for limit_key, limit, window in rules:
            count, oldest = account_store.attempts_since(conn, limit_key, now - window)
            if count >= limit:
                raise TooManyAttempts(oldest + window - now)  # the transaction rolls back the rows counted so far
            ids.append(account_store.record_attempt(conn, limit_key, now))
    return ids


def release(conn, attempt_ids):
    """Uncount attempts that turned out well (a successful login is not a failure)."""
    with store.transaction(conn):
        account_store.delete_attempts(conn, attempt_ids)


def clear(conn, limit_key):
    """Forget every attempt under a key (a successful login clears its account's failures)."""
    with store.transaction(conn):
        account_store.clear_attempts(conn, limit_key)
