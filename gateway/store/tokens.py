"""Access tokens, stored by SHA-256 hash: the database never holds a usable token."""

import hashlib


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


def find_token(conn, token):
    """Return the token's record as a dict, or None; expiry and revocation are the caller's to judge."""
    row = conn.execute(
        "SELECT client_id, scope, patient_id, subject, issued_at, expires_at, revoked, practice_reach"
        " FROM access_tokens WHERE token_hash = ?",
        (token_hash(token),),
    ).fetchone()
    if row is None:
        return None
    keys = ("client_id", "scope", "patient_id", "subject", "issued_at", "expires_at", "revoked", "practice_reach")
    return dict(zip(keys, row))


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
