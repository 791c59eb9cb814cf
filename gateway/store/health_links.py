"""SMART Health Links the portal shares, and the short-lived file locations their manifests hand out."""

from .accounts import _all, _one

COLUMNS = (
    "uid",
    "manifest_hash",
    "account_uid",
    "patient_uid",
    "label",
    "content",
    "sections",
    "flags",
    "passcode_hash",
    "attempts_left",
    "sealed_key",
    "kept_link",
    "file_jwe",
    "file_count",
    "file_updated_at",
    "created_at",
    "expires_at",
)
# A link answers while it is neither revoked, nor expired, nor out of passcode attempts.
_ACTIVE = (
    "{t}revoked_at IS NULL AND ({t}expires_at IS NULL OR {t}expires_at > ?)"
    " AND ({t}attempts_left IS NULL OR {t}attempts_left > 0)"
)
ACTIVE = _ACTIVE.format(t="")


def insert_health_link(conn, row):
    """Store a new link (a dict with COLUMNS); return its row id."""
    marks = ",".join("?" * len(COLUMNS))
    return conn.execute(  # RETURNING, not SQLite's lastrowid: a psycopg cursor has none (postgres.py)
        f"INSERT INTO health_links ({','.join(COLUMNS)}) VALUES ({marks}) RETURNING id", [row.get(c) for c in COLUMNS]
    ).fetchone()[0]


def active_link(conn, manifest_hash, now):
    """The link whose manifest id hashes to ``manifest_hash``, if it still answers at ``now``; else None."""
    return _one(conn, f"SELECT * FROM health_links WHERE manifest_hash = ? AND {ACTIVE}", (manifest_hash, now))


def take_passcode_attempt(conn, link_id, now):
    """Count one passcode attempt before it is checked, in one UPDATE; return the attempts left after it, or
    None when the link had none left (or no longer answers), so parallel guesses never exceed the budget."""
    row = conn.execute(
        f"UPDATE health_links SET attempts_left = attempts_left - 1 WHERE id = ? AND {ACTIVE} RETURNING attempts_left",
        (link_id, now),
    ).fetchone()
    return row[0] if row else None


def give_back_attempt(conn, link_id):
    """A right passcode is not a failed attempt: return the one take_passcode_attempt counted."""
    conn.execute("UPDATE health_links SET attempts_left = attempts_left + 1 WHERE id = ?", (link_id,))


def mark_opened(conn, link_id, now):
    conn.execute(
        "UPDATE health_links SET opened_count = opened_count + 1, last_opened_at = ? WHERE id = ?", (now, link_id)
    )


def links_of_record(conn, patient_uid, account_uid=None):
    """A record's links, newest first (only ``account_uid``'s when given), without secrets."""
    where, params = "patient_uid = ?", [patient_uid]
    if account_uid is not None:
        where, params = where + " AND account_uid = ?", [*params, account_uid]
    return _all(
        conn,
        "SELECT id, uid, account_uid, label, content, sections, flags, attempts_left, file_count, created_at,"
        " expires_at, revoked_at, opened_count, last_opened_at, passcode_hash IS NOT NULL AS has_passcode,"
        " kept_link IS NOT NULL AS kept"
        f" FROM health_links WHERE {where} ORDER BY created_at DESC, id DESC",
        params,
    )


def kept_link(conn, uid, patient_uid, now):
    """The sealed text of a record's live link that the portal keeps for the patient, or None."""
    row = _one(
        conn,
        f"SELECT kept_link FROM health_links WHERE uid = ? AND patient_uid = ? AND kept_link IS NOT NULL AND {ACTIVE}",
        (uid, patient_uid, now),
    )
    return row["kept_link"] if row else None


def revoke_link(conn, uid, patient_uid, now, account_uid=None):
    """Revoke a record's link (only ``account_uid``'s when given); True when a link was revoked."""
    where, params = "uid = ? AND patient_uid = ? AND revoked_at IS NULL", [uid, patient_uid]
    if account_uid is not None:
        where, params = where + " AND account_uid = ?", [*params, account_uid]
    conn.execute(f"DELETE FROM health_link_files WHERE link_id IN (SELECT id FROM health_links WHERE {where})", params)
    return (
        conn.execute(f"UPDATE health_links SET revoked_at = ?, file_jwe = NULL WHERE {where}", [now, *params]).rowcount
        > 0
    )


def insert_file(conn, token_hash, link_id, file_jwe, expires_at, now):
    """Hand out one file location (its token's hash); locations past their time are cleared on the way."""
    conn.execute("DELETE FROM health_link_files WHERE expires_at <= ?", (now,))
    conn.execute(
        "INSERT INTO health_link_files (token_hash, link_id, file_jwe, expires_at) VALUES (?,?,?,?)",
        (token_hash, link_id, file_jwe, expires_at),
    )


def file_at(conn, token_hash, now):
    """The encrypted file a location token points at while both it and its link are live, else None."""
    row = _one(
        conn,
        "SELECT coalesce(f.file_jwe, l.file_jwe) AS file_jwe FROM health_link_files f"
        " JOIN health_links l ON l.id = f.link_id WHERE f.token_hash = ? AND f.expires_at > ?"
        f" AND {_ACTIVE.format(t='l.')}",
        (token_hash, now, now),
    )
    return row["file_jwe"] if row else None
