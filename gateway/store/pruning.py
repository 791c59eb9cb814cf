"""Deleting what is past use: ended web sessions, old attempts, spent codes, dead tokens and launches.

Nothing here is an audit record: the access log (its own database) and enrollment_events are never
touched, and neither are consent grants or invitations.
"""

from . import postgres
from .connection import _open, transaction

ATTEMPT_KEEP_S = 24 * 3600  # longer than any attempt limit's window (15 minutes today)
CODE_KEEP_S = 3600  # a used code presented again within this hour still revokes its tokens (RFC 6749 4.1.2)

# (kind, DELETE statements...); :now is Unix seconds. One statement per index (an OR would scan the table).
RULES = (
    ("web sessions", "DELETE FROM web_sessions WHERE expires_at <= :now"),
    ("attempts", f"DELETE FROM attempts WHERE at < :now - {ATTEMPT_KEEP_S}"),
    ("authorization codes", f"DELETE FROM oauth_codes WHERE expires_at < :now - {CODE_KEEP_S}"),
    # A revoked or expired access token answers 401 whether its row is there or not.
    (
        "access tokens",
        "DELETE FROM access_tokens WHERE expires_at <= :now",
        "DELETE FROM access_tokens WHERE revoked = 1",
    ),
    # A used refresh token is kept until it expires: presenting it again revokes its family (OAuth 2.0
    # Security BCP 4.14.2). An expired or revoked one is refused before that check, so it is not needed.
    (
        "refresh tokens",
        "DELETE FROM refresh_tokens WHERE expires_at <= :now",
        "DELETE FROM refresh_tokens WHERE revoked = 1",
    ),
    ("client assertion ids", "DELETE FROM seen_assertions WHERE expires_at < :now"),
    ("EHR launch contexts", "DELETE FROM launch_contexts WHERE expires_at <= :now"),
    # Off the JWKS already; deleting them also deletes their (sealed) private halves.
    ("retired signing keys", "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND publish_until <= :now"),
)


def prune(conn, now):
    """Delete every row past use, in one write transaction; return {kind: rows deleted}."""
    with transaction(conn):
        return {
            kind: sum(conn.execute(sql, {"now": int(now)}).rowcount for sql in statements)
            for kind, *statements in RULES
        }


def prune_database(path, now, busy_timeout_ms=200):
    """Prune the database at ``path`` on a connection of its own that waits briefly for the write lock.

    Opportunistic pruning gives up (sqlite3.OperationalError) rather than hold a request while a bulk
    load or another writer has the lock; the next round catches up.
    """
    if postgres.is_url(path):  # a busy PostgreSQL writer is waited for (the advisory lock); its rows do not block
        return prune(postgres.PgStore(path), now)
    conn = _open(path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        return prune(conn, now)
    finally:
        conn.close()
