"""Attempt limits kept in the database, so every worker and host counts the same attempts."""
import hashlib
import math
import time

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


def check(conn, limit_key, limit, window):
    """Raise TooManyAttempts when ``limit`` failures under ``limit_key`` fall within ``window`` seconds."""
    now = time.time()
    count, oldest = account_store.attempts_since(conn, limit_key, now - window)
    if count >= limit:
        raise TooManyAttempts(oldest + window - now)


def record_failure(conn, limit_key):
    account_store.record_attempt(conn, limit_key)


def clear(conn, limit_key):
    account_store.clear_attempts(conn, limit_key)
