"""Access tokens, stored by SHA-256 hash: the database never holds a usable token."""

import hashlib
import sqlite3


def token_hash(token):
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def save_token(
    conn,
    token,
    client_id,
    scope,
    patient_id,
    subject,
    issued_at,
    expires_at,
    family=None,
    grant_id=None,
    fhir_user=None,
    encounter_id=None,
    practice_reach=None,
):
    """Record a newly issued access token (only its hash is kept).

    ``family`` names the authorization it descends from (revoked together on code or refresh reuse),
    ``grant_id`` the consent grant behind it (revoked with the grant), ``encounter_id`` the launch's encounter,
    ``practice_reach`` the practice a system/ token is held to (an Organization id, or ``*`` for all).
    """
    conn.execute(
        "INSERT INTO access_tokens (token_hash, client_id, scope, patient_id, subject, issued_at, expires_at,"
        " family, grant_id, fhir_user, encounter_id, practice_reach) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            token_hash(token),
            client_id,
            scope,
            patient_id,
            subject,
            issued_at,
            expires_at,
            family,
            grant_id,
            fhir_user,
            encounter_id,
            practice_reach,
        ),
    )


TOKEN_CACHE_SIZE = 4096  # decoded token rows kept per handle (a thread's); past it, new tokens are read each time
_TOKEN_KEYS = ("client_id", "scope", "patient_id", "subject", "issued_at", "expires_at", "revoked", "practice_reach")


def find_token(conn, token):
    """Return the token's record as a dict, or None; expiry and revocation are the caller's to judge.

    Every FHIR request asks, mostly for a token it asked for a moment ago, so each handle keeps the rows it
    decoded, stamped with the database's ``PRAGMA data_version`` (which changes when any other connection,
    in any process, commits: https://sqlite.org/pragma.html#pragma_data_version) and the handle's own
    ``total_changes`` (its own writes). Any write since the stamp empties the cache, so a revocation is seen
    on the very next request; the pragma costs about half the SELECT it replaces (bench/profile.py).
    """
    key = token_hash(token)
    rows = _token_rows(conn)
    found = rows.get(key) if rows is not None else None
    if found is None:
        row = conn.execute(
            f"SELECT {', '.join(_TOKEN_KEYS)} FROM access_tokens WHERE token_hash = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        found = dict(zip(_TOKEN_KEYS, row))
        if rows is not None and len(rows) < TOKEN_CACHE_SIZE:
            rows[key] = found
    return dict(found)


def _token_rows(conn):
    """This handle's decoded rows by token hash, emptied first if the database changed since they were read;
    None for a handle that takes no attributes (a bare sqlite3 connection) or is not SQLite's (``data_version``
    is SQLite's; on PostgreSQL every request reads the row)."""
    if not hasattr(conn, "__dict__") or not isinstance(conn, sqlite3.Connection):
        return None
    stamp = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
    cached = getattr(conn, "token_rows", None)
    if cached is None or cached[0] != stamp:
        cached = conn.token_rows = (stamp, {})
    return cached[1]


def revoke_token(conn, token):
    """Mark a token revoked; return whether it existed."""
    cur = conn.execute("UPDATE access_tokens SET revoked = 1 WHERE token_hash = ?", (token_hash(token),))
    return cur.rowcount > 0


def revoke_tokens_for(conn, patient_id, subject):
    """Revoke every access token one subject (an account uid) holds for one patient; return how many."""
    cur = conn.execute(
        "UPDATE access_tokens SET revoked = 1 WHERE patient_id = ? AND subject = ? AND revoked = 0",
        (patient_id, subject),
    )
    return cur.rowcount
