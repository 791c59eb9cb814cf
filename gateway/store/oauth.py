"""The SMART authorization server's tables: clients, codes, refresh tokens, consent grants, launches, keys.

Codes, refresh tokens and launch handles are looked up by their SHA-256 hash (``token_hash``), so the
database never holds a usable credential. Rows come back as plain dicts; JSON columns stay strings.
"""

import contextlib
import os
import sqlite3
import threading
import time

from .accounts import _all, _one
from .connection import BUSY_TIMEOUT_S
from .tokens import token_hash

# Token exchanges of this process take the write lock one at a time: a thread waiting here wakes the moment
# the previous one commits, instead of sleeping in SQLite's busy handler (1, 2, 5, 10 ms...).
_exchanges = threading.Lock()
os.register_at_fork(after_in_child=lambda: globals().update(_exchanges=threading.Lock()))  # never inherit it held
_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.00005, 0.002


@contextlib.contextmanager
def exchange_transaction(conn):
    """One write transaction for a token exchange (the code or refresh token used up, the new tokens stored).

    The token endpoint's commit is short (three statements) and every worker process makes them, so the
    write lock is often taken for a few hundred microseconds by another. Threads of one process queue on a
    Python lock; against other processes BEGIN IMMEDIATE is retried in steps of 50 µs growing to 2 ms (as
    disclosures.insert_read does), for as long as the busy timeout would have waited. SQLite's own busy
    handler sleeps 1 ms, then 2, 5, 10... (sqliteDefaultBusyCallback), which made most of an exchange's
    latency waiting, not work. A ROLLBACK on any error, as in connection.transaction.
    """
    if not isinstance(conn, sqlite3.Connection):  # PostgreSQL: its own transaction() queues writers on a lock
        with conn.transaction():
            yield conn
        return
    if conn.in_transaction:
        yield conn
        return
    with _exchanges:
        _begin_waiting_finely(conn)
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _begin_waiting_finely(conn):
    """BEGIN IMMEDIATE, retried in short steps while another connection holds the write lock (SQLite only)."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline, pause = time.monotonic() + BUSY_TIMEOUT_S, _FIRST_PAUSE_S
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")


# -- clients ---------------------------------------------------------------------------------------

CLIENT_COLUMNS = (
    "client_id",
    "secret_hash",
    "name",
    "kind",
    "auth_method",
    "redirect_uris",
    "launch_uri",
    "grant_types",
    "scope",
    "jwks",
    "jwks_uri",
    "metadata",
    "status",
    "created_at",
    "practice_reach",
)


def insert_client(conn, row):
    """Store a client row (a dict with CLIENT_COLUMNS keys)."""
    marks = ",".join("?" * len(CLIENT_COLUMNS))
    conn.execute(
        f"INSERT INTO oauth_clients ({','.join(CLIENT_COLUMNS)}) VALUES ({marks})", [row.get(c) for c in CLIENT_COLUMNS]
    )


def client_by_id(conn, client_id):
    return _one(conn, "SELECT * FROM oauth_clients WHERE client_id = ?", (client_id,))


def list_clients(conn):
    return _all(conn, "SELECT * FROM oauth_clients WHERE status != 'removed' ORDER BY created_at, client_id")


def set_client_status(conn, client_id, status):
    """Change a client's status (active, pending, removed); return whether it existed."""
    return conn.execute("UPDATE oauth_clients SET status = ? WHERE client_id = ?", (status, client_id)).rowcount > 0


def set_client_practice_reach(conn, client_id, reach):
    """Bind a backend client to a practice (its Organization id) or to all (``*``)."""
    conn.execute("UPDATE oauth_clients SET practice_reach = ? WHERE client_id = ?", (reach, client_id))


def clients_with_launch_uri(conn):
    return _all(conn, "SELECT * FROM oauth_clients WHERE status = 'active' AND launch_uri IS NOT NULL ORDER BY name")


# -- authorization codes ---------------------------------------------------------------------------


def save_code(conn, code, row):
    conn.execute(
        "INSERT INTO oauth_codes (code_hash, client_id, redirect_uri, scope, context, family, code_challenge,"
        " code_challenge_method, nonce, auth_time, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            token_hash(code),
            row["client_id"],
            row["redirect_uri"],
            row["scope"],
            row["context"],
            row["family"],
            row.get("code_challenge"),
            row.get("code_challenge_method"),
            row.get("nonce"),
            row["auth_time"],
            row["expires_at"],
        ),
    )


def find_code(conn, code):
    return _one(conn, "SELECT * FROM oauth_codes WHERE code_hash = ?", (token_hash(code),))


def claim_code(conn, code_hash, now):
    """Mark a code (by its stored hash) used; return False when another request used it first (single use,
    RFC 6749 4.1.2). Run it in the transaction that stores the tokens the code buys."""
    cur = conn.execute("UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL", (now, code_hash))
    return cur.rowcount == 1


def nonce_used(conn, client_id, nonce):
    return (
        conn.execute("SELECT 1 FROM oauth_codes WHERE client_id = ? AND nonce = ?", (client_id, nonce)).fetchone()
        is not None
    )


def delete_expired_codes(conn, before):
    conn.execute("DELETE FROM oauth_codes WHERE expires_at < ?", (before,))


# -- refresh tokens --------------------------------------------------------------------------------


def save_refresh_token(conn, token, row):
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family, client_id, scope, context, grant_id, patient_id, subject,"
        " issued_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            token_hash(token),
            row["family"],
            row["client_id"],
            row["scope"],
            row["context"],
            row.get("grant_id"),
            row.get("patient_id"),
            row.get("subject"),
            row["issued_at"],
            row["expires_at"],
        ),
    )


def find_refresh_token(conn, token):
    return _one(conn, "SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash(token),))


def claim_refresh_token(conn, stored_hash, now):
    """Mark a refresh token (by its stored hash) used (rotation); return False when it was already used or
    revoked. Run it in the transaction that stores the tokens it buys."""
    cur = conn.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked = 0",
        (now, stored_hash),
    )
    return cur.rowcount == 1


def find_access_token(conn, token):
    """The full access-token row (family, grant and fhirUser included), or None."""
    return _one(conn, "SELECT * FROM access_tokens WHERE token_hash = ?", (token_hash(token),))


def revoke_family(conn, family):
    """Revoke every access and refresh token descended from one authorization; return how many."""
    n = conn.execute("UPDATE access_tokens SET revoked = 1 WHERE family = ? AND revoked = 0", (family,)).rowcount
    return (
        n + conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE family = ? AND revoked = 0", (family,)).rowcount
    )


# A grant's tokens are its account's tokens for its record (subject = account uid, patient = the record's
# FHIR id: gateway/oauth/pages.py builds the Authorization that way), so the (patient_id, subject) index
# finds them: the token tables keep no index on grant_id, one page less written per exchange (each table).
_OF_GRANT = (
    " SET revoked = 1 WHERE patient_id = (SELECT patient_id FROM consent_grants WHERE id = ?)"
    " AND subject = (SELECT account_uid FROM consent_grants WHERE id = ?) AND grant_id = ? AND revoked = 0"
)
REVOKE_GRANT_ACCESS = "UPDATE access_tokens" + _OF_GRANT
REVOKE_GRANT_REFRESH = "UPDATE refresh_tokens" + _OF_GRANT


def revoke_grant_tokens(conn, grant_id):
    """Revoke every access and refresh token issued under one consent grant; return how many."""
    ids = (grant_id, grant_id, grant_id)
    return conn.execute(REVOKE_GRANT_ACCESS, ids).rowcount + conn.execute(REVOKE_GRANT_REFRESH, ids).rowcount


def revoke_refresh_tokens_for(conn, patient_id, subject):
    """Revoke every refresh token one subject holds for one patient; return how many."""
    return conn.execute(
        "UPDATE refresh_tokens SET revoked = 1 WHERE patient_id = ? AND subject = ? AND revoked = 0",
        (patient_id, subject),
    ).rowcount


# -- consent grants --------------------------------------------------------------------------------


def active_grant(conn, account_uid, client_id, patient_id):
    return _one(
        conn,
        "SELECT * FROM consent_grants WHERE account_uid = ? AND client_id = ? AND patient_id = ?"
        " AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
        (account_uid, client_id, patient_id),
    )


def insert_grant(conn, account_uid, client_id, patient_id, requested_scope, scope, now):
    return conn.execute(
        "INSERT INTO consent_grants (account_uid, client_id, patient_id, requested_scope, scope, created_at,"
        " updated_at) VALUES (?,?,?,?,?,?,?) RETURNING id",
        (account_uid, client_id, patient_id, requested_scope, scope, now, now),
    ).fetchone()[0]


def update_grant(conn, grant_id, requested_scope, scope, now):
    conn.execute(
        "UPDATE consent_grants SET requested_scope = ?, scope = ?, updated_at = ? WHERE id = ?",
        (requested_scope, scope, now, grant_id),
    )


def grant_by_id(conn, grant_id):
    return _one(conn, "SELECT * FROM consent_grants WHERE id = ?", (grant_id,))


def grants_of_account(conn, account_uid):
    """An account's active grants, with each app's name and the record's person and practice."""
    return _all(
        conn,
        (
            "SELECT g.*, c.name AS client_name, p.first_name, p.last_name, pr.name AS practice_name"
            " FROM consent_grants g JOIN oauth_clients c ON c.client_id = g.client_id"
            " JOIN patients p ON p.uid = g.patient_id JOIN practices pr ON pr.id = p.practice_id"
            " WHERE g.account_uid = ? AND g.revoked_at IS NULL ORDER BY g.updated_at DESC, g.id DESC"
        ),
        (account_uid,),
    )


def revoke_grant(conn, grant_id, now):
    return (
        conn.execute(
            "UPDATE consent_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, grant_id)
        ).rowcount
        > 0
    )


def revoke_grants_for(conn, patient_id, account_uid, now):
    """Revoke an account's grants for one patient; return their ids."""
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM consent_grants WHERE patient_id = ? AND account_uid = ? AND revoked_at IS NULL",
            (patient_id, account_uid),
        )
    ]
    conn.execute(
        "UPDATE consent_grants SET revoked_at = ? WHERE patient_id = ? AND account_uid = ? AND revoked_at IS NULL",
        (now, patient_id, account_uid),
    )
    return ids


# -- EHR launch contexts ---------------------------------------------------------------------------


def save_launch(conn, handle, client_id, staff_uid, patient_id, now, expires_at, encounter_id=None):
    conn.execute(
        "INSERT INTO launch_contexts (launch_hash, client_id, staff_uid, patient_id, created_at, expires_at,"
        " encounter_id) VALUES (?,?,?,?,?,?,?)",
        (token_hash(handle), client_id, staff_uid, patient_id, now, expires_at, encounter_id),
    )


def encounter_of_patient(conn, encounter_uid, patient_uid):
    """Whether the encounter (by FHIR id) is one of the patient's (by FHIR id)."""
    row = conn.execute(
        "SELECT 1 FROM encounters e JOIN patients p ON p.id = e.patient_id WHERE e.uid = ? AND p.uid = ?",
        (encounter_uid, patient_uid),
    ).fetchone()
    return row is not None


def find_launch(conn, handle):
    return _one(conn, "SELECT * FROM launch_contexts WHERE launch_hash = ?", (token_hash(handle),))


def use_launch(conn, handle, now):
    """Mark a launch used; False when it already was (one statement, so two requests cannot both use it)."""
    cursor = conn.execute(
        "UPDATE launch_contexts SET used_at = ? WHERE launch_hash = ? AND used_at IS NULL", (now, token_hash(handle))
    )
    return cursor.rowcount == 1


def staff_approval(conn, staff_uid, client_id):
    return _one(conn, "SELECT * FROM staff_app_approvals WHERE staff_uid = ? AND client_id = ?", (staff_uid, client_id))


def staff_approvals(conn, staff_uid):
    """The staff user's approved apps with the app's name, newest first."""
    return _all(
        conn,
        "SELECT a.client_id, a.scope, a.approved_at, c.name FROM staff_app_approvals a"
        " JOIN oauth_clients c ON c.client_id = a.client_id WHERE a.staff_uid = ? ORDER BY a.approved_at DESC, c.name",
        (staff_uid,),
    )


def delete_staff_approval(conn, staff_uid, client_id):
    cursor = conn.execute(
        "DELETE FROM staff_app_approvals WHERE staff_uid = ? AND client_id = ?", (staff_uid, client_id)
    )
    return cursor.rowcount == 1


def save_staff_approval(conn, staff_uid, client_id, scope, now):
    conn.execute(
        "INSERT INTO staff_app_approvals (staff_uid, client_id, scope, approved_at) VALUES (?,?,?,?)"
        " ON CONFLICT (staff_uid, client_id) DO UPDATE SET scope = excluded.scope, approved_at = excluded.approved_at",
        (staff_uid, client_id, scope, now),
    )


# -- signing keys ----------------------------------------------------------------------------------


def insert_key(conn, kid, alg, private_jwk, public_jwk, now):
    conn.execute(
        "INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at) VALUES (?,?,?,?,?)",
        (kid, alg, private_jwk, public_jwk, now),
    )


def all_keys(conn):
    return _all(conn, "SELECT * FROM signing_keys ORDER BY created_at, kid", ())


def set_private_jwk(conn, kid, private_jwk):
    """Replace a key's stored private half (sealing a key kept in plain text before)."""
    conn.execute("UPDATE signing_keys SET private_jwk = ? WHERE kid = ?", (private_jwk, kid))


def active_key(conn):
    return _one(conn, "SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1", ())


def retire_keys(conn, now, publish_until):
    """Retire every active key; they stay published until ``publish_until``."""
    conn.execute(
        "UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE retired_at IS NULL", (now, publish_until)
    )


def published_keys(conn, now):
    return _all(
        conn,
        "SELECT * FROM signing_keys WHERE retired_at IS NULL OR publish_until > ? ORDER BY created_at DESC, kid",
        (now,),
    )


# -- client assertions already seen (RFC 7523 section 3, item 7) -----------------------------------


def remember_assertion(conn, client_id, jti, expires_at, now):
    """Record a client assertion's jti; return False when it was seen before (a replay)."""
    conn.execute("DELETE FROM seen_assertions WHERE expires_at < ?", (now,))
    cur = conn.execute(
        "INSERT INTO seen_assertions VALUES (?,?,?) ON CONFLICT DO NOTHING", (client_id, jti, expires_at)
    )
    return cur.rowcount == 1


def revoke_client_tokens(conn, client_id):
    """Revoke every access and refresh token of one client (the client was removed)."""
    conn.execute("UPDATE access_tokens SET revoked = 1 WHERE client_id = ? AND revoked = 0", (client_id,))
    conn.execute("UPDATE refresh_tokens SET revoked = 1 WHERE client_id = ? AND revoked = 0", (client_id,))


def account_link_active(conn, account_uid, patient_uid):
    """Whether an account (by uid) is still linked to a chart (by FHIR id)."""
    return (
        conn.execute(
            "SELECT 1 FROM account_links l JOIN accounts a ON a.id = l.account_id"
            " JOIN patients p ON p.id = l.patient_id"
            " WHERE a.uid = ? AND p.uid = ? AND l.status = 'active'",
            (account_uid, patient_uid),
        ).fetchone()
        is not None
    )
