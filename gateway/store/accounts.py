"""Accounts, their links to charts, practice staff, web sessions and the attempt log."""

import time


def _one(conn, sql, params):
    cursor = conn.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


def _all(conn, sql, params=()):
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def insert_account(conn, uid, email, password_hash, name, phone, confirmed_at, now):
    """Create an account row and return its id (IntegrityError when the email is taken)."""
    return conn.execute(
        "INSERT INTO accounts (uid, email, password_hash, name, phone, email_confirmed_at, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?) RETURNING id",
        (uid, email, password_hash, name, phone, confirmed_at, now, now),
    ).fetchone()[0]


def account_by_email(conn, email):
    return _one(conn, "SELECT * FROM accounts WHERE email = ?", (email,))


def account_by_id(conn, account_id):
    return _one(conn, "SELECT * FROM accounts WHERE id = ?", (account_id,))


def update_account(conn, account_id, changes, now):
    """Change an account's own columns (name, email, phone, password_hash, email_confirmed_at)."""
    allowed = {"name", "email", "phone", "password_hash", "email_confirmed_at"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    assignments = ", ".join(f"{k} = ?" for k in changes)
    conn.execute(
        f"UPDATE accounts SET {assignments}, updated_at = ? WHERE id = ?", [*changes.values(), now, account_id]
    )


def upsert_link(conn, account_id, patient_id, relation, now):
    """Link (or re-link) an account to a chart with a relation; return the link id."""
    conn.execute(
        "INSERT INTO account_links (account_id, patient_id, relation, status, linked_at) VALUES (?,?,?,'active',?)"
        " ON CONFLICT (account_id, patient_id) DO UPDATE SET relation = excluded.relation, status = 'active',"
        " linked_at = excluded.linked_at, revoked_at = NULL",
        (account_id, patient_id, relation, now),
    )
    return conn.execute(
        "SELECT id FROM account_links WHERE account_id = ? AND patient_id = ?", (account_id, patient_id)
    ).fetchone()[0]


def revoke_link(conn, link_id, now):
    conn.execute("UPDATE account_links SET status = 'revoked', revoked_at = ? WHERE id = ?", (now, link_id))


def links_of_account(conn, account_id, active_only=True):
    """The charts an account is linked to, with each chart's patient and practice names and FHIR ids."""
    return _all(
        conn,
        (
            "SELECT l.id, l.account_id, l.patient_id, l.relation, l.status, l.linked_at, l.sections, l.access_until,"
            " p.uid AS patient_uid,"
            " p.first_name, p.last_name, p.birth_date, p.deceased_at, pr.id AS practice_id, pr.uid AS practice_uid,"
            " pr.name AS practice_name,"
            # A re-invitation to finalize is open: the chart changed since the link was made (see the portal banner).
            " EXISTS (SELECT 1 FROM invites i WHERE i.link_id = l.id AND i.finalize = 1"
            " AND i.status IN ('invited', 'locked')) AS awaiting_finalize"
            " FROM account_links l JOIN patients p ON p.id = l.patient_id"
            " JOIN practices pr ON pr.id = p.practice_id WHERE l.account_id = ?"
            + (" AND l.status = 'active'" if active_only else "")
            + " ORDER BY l.relation != 'self', l.id"
        ),
        (account_id,),
    )


def links_of_patient(conn, patient_id):
    """Who is linked to a chart: every account link with the account's email and name."""
    return _all(
        conn,
        (
            "SELECT l.*, a.email, a.name FROM account_links l JOIN accounts a ON a.id = l.account_id"
            " WHERE l.patient_id = ? ORDER BY l.id"
        ),
        (patient_id,),
    )


def insert_staff(conn, uid, email, password_hash, name, practice_id, provider_id, now, is_admin=False):
    return conn.execute(
        "INSERT INTO staff_users (uid, email, password_hash, name, practice_id, provider_id, created_at, is_admin)"
        " VALUES (?,?,?,?,?,?,?,?) RETURNING id",
        (uid, email, password_hash, name, practice_id, provider_id, now, int(bool(is_admin))),
    ).fetchone()[0]


def staff_by_email(conn, email):
    return _one(conn, "SELECT * FROM staff_users WHERE email = ?", (email,))


def staff_by_id(conn, staff_id):
    return _one(conn, "SELECT * FROM staff_users WHERE id = ?", (staff_id,))


def practice_uid_of_staff(conn, staff_uid):
    """The practice (its uid: the Organization id) a staff user works for, or None for no such staff user."""
    row = _one(
        conn, "SELECT p.uid FROM staff_users s JOIN practices p ON p.id = s.practice_id WHERE s.uid = ?", (staff_uid,)
    )
    return row["uid"] if row else None


def load_session(conn, id_hash, now):
    row = conn.execute("SELECT data FROM web_sessions WHERE id_hash = ? AND expires_at > ?", (id_hash, now)).fetchone()
    return row[0] if row else None


def insert_session(conn, id_hash, data, now, expires_at, account_id):
    conn.execute(
        "INSERT INTO web_sessions (id_hash, data, created_at, expires_at, account_id) VALUES (?,?,?,?,?)",
        (id_hash, data, now, expires_at, account_id),
    )


def update_session(conn, id_hash, data, expires_at, account_id):
    """Save an existing session; one ended meanwhile (logout, password reset) stays ended."""
    conn.execute(
        "UPDATE web_sessions SET data = ?, expires_at = ?, account_id = ? WHERE id_hash = ?",
        (data, expires_at, account_id, id_hash),
    )


def end_sessions_of_account(conn, account_id):
    """End every web session logged in to an account; return how many there were."""
    return conn.execute("DELETE FROM web_sessions WHERE account_id = ?", (account_id,)).rowcount


def delete_session(conn, id_hash):
    conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))


def record_attempt(conn, key, now=None):
    """Count one attempt under ``key`` and return its row id."""
    return conn.execute(
        "INSERT INTO attempts (key, at) VALUES (?, ?) RETURNING rowid", (key, int(now or time.time()))
    ).fetchone()[0]


def delete_attempts(conn, attempt_ids):
    conn.executemany("DELETE FROM attempts WHERE rowid = ?", [(i,) for i in attempt_ids])


def attempts_since(conn, key, since):
    """How many attempts under ``key`` since ``since``, and the oldest of them (for 'try again in N minutes')."""
    count, oldest = conn.execute(
        "SELECT count(*), min(at) FROM attempts WHERE key = ? AND at > ?", (key, since)
    ).fetchone()
    return count, oldest


def clear_attempts(conn, key):
    conn.execute("DELETE FROM attempts WHERE key = ?", (key,))


def contact_of_chart(conn, patient_id, email):
    """The FHIR id of the chart's active contact (patient_contacts) with this email, or None."""
    row = _one(
        conn,
        "SELECT uid FROM patient_contacts WHERE patient_id = ? AND active = 1 AND email = ? COLLATE NOCASE"
        " ORDER BY id LIMIT 1",
        (patient_id, email),
    )
    return row["uid"] if row else None


_POLICY = "pp.limited_from, pp.ends_at, pp.withheld"


def proxy_link(conn, account_uid, patient_uid):
    """What the proxy rule needs about an account and a chart: the account's link (relation, status, linked_at;
    None when unlinked), the chart's birth date and its practice's policy. None when the uid is no account."""
    return _one(
        conn,
        (
            f"SELECT a.id AS account_id, l.relation, l.status, l.linked_at, l.sections, l.access_until, p.birth_date,"
            f" {_POLICY}"
            " FROM accounts a LEFT JOIN patients p ON p.uid = ?"
            " LEFT JOIN account_links l ON l.account_id = a.id AND l.patient_id = p.id"
            " LEFT JOIN proxy_policies pp ON pp.practice_id = p.practice_id WHERE a.uid = ?"
        ),
        (patient_uid, account_uid),
    )


def representative_links(conn, practice_id):
    """The active links of people other than the patient to the practice's charts, with what the proxy rule
    needs (relation, linked_at, sections, access_until, the chart's birth date), by link id."""
    return _all(
        conn,
        "SELECT l.id, l.account_id, l.patient_id, l.relation, l.linked_at, l.sections, l.access_until,"
        " p.birth_date FROM account_links l JOIN patients p ON p.id = l.patient_id"
        " WHERE p.practice_id = ? AND l.status = 'active' AND l.relation != 'self' ORDER BY l.id",
        (practice_id,),
    )


def proxy_policy(conn, practice_id):
    """A practice's stored proxy policy row, or None (the defaults)."""
    return _one(conn, f"SELECT {_POLICY} FROM proxy_policies pp WHERE pp.practice_id = ?", (practice_id,))


def save_proxy_policy(conn, practice_id, limited_from, ends_at, withheld):
    """Set a practice's proxy policy (``withheld``: space-separated category names)."""
    conn.execute(
        "INSERT INTO proxy_policies (practice_id, limited_from, ends_at, withheld, updated_at) VALUES (?,?,?,?,?)"
        " ON CONFLICT (practice_id) DO UPDATE SET limited_from = excluded.limited_from, ends_at = excluded.ends_at,"
        " withheld = excluded.withheld, updated_at = excluded.updated_at",
        (practice_id, limited_from, ends_at, withheld, int(time.time())),
    )


def representatives_not_yet_told(conn):
    """Active representative links whose coming-of-age notice has not gone out (see active_representatives)."""
    return active_representatives(conn, untold=True)


def active_representatives(conn, untold=False):
    """Active representative links (``untold``: only those whose coming-of-age notice has not gone out), with
    what they share, the chart's birth date, name and email, the account's name and email, and the practice's
    name and proxy policy."""
    return _all(
        conn,
        (
            "SELECT l.id, l.uid, l.patient_id, l.relation, l.linked_at, l.sections, l.access_until,"
            f" a.email AS account_email, a.name AS account_name,"
            f" p.first_name, p.last_name, p.birth_date, p.email AS chart_email, pr.name AS practice_name, {_POLICY}"
            " FROM account_links l JOIN accounts a ON a.id = l.account_id JOIN patients p ON p.id = l.patient_id"
            " JOIN practices pr ON pr.id = p.practice_id LEFT JOIN proxy_policies pp ON pp.practice_id = p.practice_id"
            " WHERE l.status = 'active' AND l.relation != 'self'"
            + (" AND l.ending_notice_at IS NULL" if untold else "")
            + " ORDER BY l.id"
        ),
    )


def mark_ending_notice(conn, link_id, now):
    """Remember that a link's coming-of-age notice went out."""
    conn.execute("UPDATE account_links SET ending_notice_at = ? WHERE id = ?", (int(now), link_id))


def set_link_share(conn, link_id, sections, access_until):
    """What a link shares: section slugs (space-separated; None: the whole record) and the last day (None: no end)."""
    conn.execute(
        "UPDATE account_links SET sections = ?, access_until = ? WHERE id = ?", (sections, access_until, link_id)
    )
