"""Invitations, the enrollment audit log and the outbox of email and SMS messages."""

from .accounts import _all, _one

INVITE_COLUMNS = (
    "uid",
    "party_uid",
    "practice_id",
    "patient_id",
    "relation",
    "email",
    "phone",
    "text_link",
    "pin_sealed",
    "status",
    "finalize",
    "account_id",
    "claimed_at",
    "link_nonce",
    "link_id",
    "created_by",
    "created_at",
    "sent_at",
    "updated_at",
    "sections",
    "access_until",
    "by_patient",
)
_CHANGEABLE = {
    "status",
    "account_id",
    "claimed_at",
    "link_nonce",
    "link_id",
    "failed_attempts",
    "sms_code_hash",
    "sms_code_expires_at",
    "sent_at",
    "closed_at",
    "finalize",
}
_INVITE_VIEW = (
    "SELECT i.*, p.uid AS patient_uid, p.first_name, p.last_name, p.birth_date, p.sex AS patient_sex,"
    " p.phone AS chart_phone,"
    " pr.name AS practice_name, pr.uid AS practice_uid, a.email AS account_email, l.uid AS link_uid,"
    " l.status AS link_status FROM invites i JOIN patients p ON p.id = i.patient_id"
    " JOIN practices pr ON pr.id = i.practice_id LEFT JOIN accounts a ON a.id = i.account_id"
    " LEFT JOIN account_links l ON l.id = i.link_id"
)


def insert_invite(conn, invite):
    """Store a new invitation (a dict with INVITE_COLUMNS) and return its id."""
    marks = ",".join("?" * len(INVITE_COLUMNS))
    return conn.execute(
        f"INSERT INTO invites ({','.join(INVITE_COLUMNS)}) VALUES ({marks}) RETURNING id",
        [invite.get(c) for c in INVITE_COLUMNS],
    ).fetchone()[0]


def update_invite(conn, invite_id, changes, now):
    """Change an invitation's state columns."""
    changes = {k: v for k, v in changes.items() if k in _CHANGEABLE}
    assignments = "".join(f"{k} = ?, " for k in changes)
    conn.execute(f"UPDATE invites SET {assignments}updated_at = ? WHERE id = ?", [*changes.values(), now, invite_id])


def reserve_code_attempt(conn, invite_id, limit, now):
    """Count one PIN or code attempt on an open invitation below ``limit``; return the new count, else None.

    One statement counts and checks, so parallel attempts cannot all see the count below the limit.
    """
    rows = conn.execute(
        "UPDATE invites SET failed_attempts = failed_attempts + 1, updated_at = ? WHERE id = ?"
        " AND status = 'invited' AND failed_attempts < ? RETURNING failed_attempts",
        (now, invite_id, limit),
    ).fetchall()
    return rows[0][0] if rows else None


def uncount_code_attempt(conn, invite_id, now):
    """Take back a counted attempt that was right (only wrong ones count toward the lock)."""
    conn.execute(
        # not SQLite's two-argument max(), which PostgreSQL spells greatest(): CASE runs on both engines
        "UPDATE invites SET failed_attempts = CASE WHEN failed_attempts > 0 THEN failed_attempts - 1 ELSE 0 END,"
        " updated_at = ? WHERE id = ?",
        (now, invite_id),
    )


def lock_invite(conn, invite_id, now):
    """Lock an invitation that is still open (never one a parallel right answer has just linked)."""
    conn.execute(
        "UPDATE invites SET status = 'locked', sms_code_hash = NULL, updated_at = ?"
        " WHERE id = ? AND status = 'invited'",
        (now, invite_id),
    )


def invite_by_uid(conn, uid):
    return _one(conn, _INVITE_VIEW + " WHERE i.uid = ?", (uid,))


def invite_by_id(conn, invite_id):
    return _one(conn, _INVITE_VIEW + " WHERE i.id = ?", (invite_id,))


def invites_of_patient(conn, patient_id):
    """Every invitation of a chart, oldest first."""
    return _all(conn, _INVITE_VIEW + " WHERE i.patient_id = ? ORDER BY i.id", (patient_id,))


def invites_of_practice(conn, practice_id):
    """Every invitation of a practice's charts, oldest first (for the patient list's status column)."""
    return _all(conn, _INVITE_VIEW + " WHERE i.practice_id = ? ORDER BY i.id", (practice_id,))


def open_invites_of_party(conn, party_uid):
    """A party's invitations whose PIN could still work (re-invite and cancel close them)."""
    return _all(conn, "SELECT * FROM invites WHERE party_uid = ? AND status IN ('invited', 'locked')", (party_uid,))


def pending_invites_of_account(conn, account_id):
    """Invitations attached to an account that still wait for identity verification (or are locked)."""
    return _all(
        conn,
        _INVITE_VIEW + " WHERE i.account_id = ? AND i.status IN ('invited', 'locked') ORDER BY i.id",
        (account_id,),
    )


def links_of_practice(conn, practice_id):
    """Every account link to a practice's charts, with the account's email."""
    return _all(
        conn,
        (
            "SELECT l.*, a.email, a.uid AS account_uid FROM account_links l JOIN accounts a ON a.id = l.account_id"
            " JOIN patients p ON p.id = l.patient_id WHERE p.practice_id = ? ORDER BY l.id"
        ),
        (practice_id,),
    )


def account_by_uid(conn, uid):
    return _one(conn, "SELECT * FROM accounts WHERE uid = ?", (uid,))


def link_by_uid(conn, uid):
    """One account link by its opaque id, with its chart's practice and the account's uid."""
    return _one(
        conn,
        (
            "SELECT l.*, a.email, a.uid AS account_uid, p.uid AS patient_uid, p.practice_id FROM account_links l"
            " JOIN accounts a ON a.id = l.account_id JOIN patients p ON p.id = l.patient_id WHERE l.uid = ?"
        ),
        (uid,),
    )


def record_event(conn, event):
    """Append one enrollment event (a dict: at, event, practice_id, patient_id, invite_id, account_id, actor,
    detail)."""
    keys = ("at", "event", "practice_id", "patient_id", "invite_id", "account_id", "actor", "detail")
    conn.execute(
        f"INSERT INTO enrollment_events ({','.join(keys)}) VALUES ({','.join('?' * len(keys))})",
        [event.get(k) for k in keys],
    )


def events_of_practice(conn, practice_id, event, limit=50):
    """A practice's events of one kind not about one chart (its policy changes), newest first."""
    return _all(
        conn,
        "SELECT * FROM enrollment_events WHERE practice_id = ? AND event = ? AND patient_id IS NULL"
        " ORDER BY id DESC LIMIT ?",
        (practice_id, event, limit),
    )


def events_of_patient(conn, patient_id, limit=200):
    """A chart's enrollment events, newest first, with the invitation's email and relation."""
    return _all(
        conn,
        (
            "SELECT e.*, i.email AS invite_email, i.relation FROM enrollment_events e"
            " LEFT JOIN invites i ON i.id = e.invite_id WHERE e.patient_id = ? ORDER BY e.id DESC LIMIT ?"
        ),
        (patient_id, limit),
    )


def events(conn, limit=1000):
    return _all(conn, "SELECT * FROM enrollment_events ORDER BY id LIMIT ?", (limit,))


def messages(conn, limit=100, channel=None):
    """The newest outgoing messages first."""
    where, params = ("WHERE channel = ?", [channel]) if channel else ("", [])
    return _all(conn, f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", [*params, limit])


def undelivered_messages_of_patient(conn, patient_id):
    """Messages about a chart's invitations that failed finally, or failed once and wait to be tried again."""
    return _all(
        conn,
        (
            "SELECT o.id, o.channel, o.recipient, o.kind, o.status, o.error, o.attempts, o.created_at FROM outbox o"
            " JOIN invites i ON i.id = o.invite_id WHERE i.patient_id = ?"
            " AND (o.status = 'failed' OR (o.status IN ('queued', 'sending') AND o.error IS NOT NULL))"
            " ORDER BY o.id DESC"
        ),
        (patient_id,),
    )


def staff_by_uid(conn, uid):
    """A practice staff user by the uid tokens name as their subject."""
    return _one(conn, "SELECT * FROM staff_users WHERE uid = ?", (uid,))
