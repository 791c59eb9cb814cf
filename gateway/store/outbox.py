"""The outbox of email and SMS messages as a queue: enqueue, claim one due message under a lease, settle it."""

from .accounts import _one

_KEYS = (
    "channel",
    "recipient",
    "subject",
    "body_text",
    "body_html",
    "attachments",
    "kind",
    "invite_id",
    "status",
    "error",
    "attempts",
    "next_attempt_at",
    "created_at",
)
# Whatever could act for the recipient (links, codes, records) goes once a message is settled.
_CLEARED = "body_text = NULL, body_html = NULL, attachments = NULL"


def insert_message(conn, message):
    """Record an outgoing message (queued, or the demo outbox's whole copy); return its id."""
    marks = ",".join("?" * len(_KEYS))
    return conn.execute(
        f"INSERT INTO outbox ({','.join(_KEYS)}) VALUES ({marks}) RETURNING id",
        [message.get(k, 0 if k == "attempts" else None) for k in _KEYS],
    ).fetchone()[0]


def claim_due(conn, now, lease_until, claim):
    """Take the oldest due message, a queued one or one whose sender's lease ran out; return it or None.

    One UPDATE ... RETURNING is one atomic step in SQLite, so two senders never take the same row.
    """
    cursor = conn.execute(
        (
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = ?, claim = ?"
            " WHERE id = (SELECT id FROM outbox WHERE (status = 'queued' AND next_attempt_at <= ?)"
            " OR (status = 'sending' AND lease_until <= ?) ORDER BY next_attempt_at, id LIMIT 1) RETURNING *"
        ),
        (lease_until, claim, now, now),
    )
    rows = cursor.fetchall()  # step the statement to its end, so the update is complete before COMMIT
    return dict(zip([d[0] for d in cursor.description], rows[0])) if rows else None


def mark_sent(conn, message_id, claim, at):
    """Settle a claimed message as delivered and forget its body; False when the claim was lost meanwhile."""
    return (
        conn.execute(
            f"UPDATE outbox SET status = 'sent', sent_at = ?, error = NULL, lease_until = NULL, {_CLEARED}"
            " WHERE id = ? AND claim = ?",
            (at, message_id, claim),
        ).rowcount
        == 1
    )


def mark_failed(conn, message_id, claim, error):
    """Settle a claimed message as finally undeliverable (staff see it) and forget its body."""
    return (
        conn.execute(
            f"UPDATE outbox SET status = 'failed', error = ?, lease_until = NULL, {_CLEARED}"
            " WHERE id = ? AND claim = ?",
            (error, message_id, claim),
        ).rowcount
        == 1
    )


def retry_later(conn, message_id, claim, error, next_attempt_at):
    """Put a claimed message back in the queue for another attempt at ``next_attempt_at``."""
    return (
        conn.execute(
            "UPDATE outbox SET status = 'queued', error = ?, next_attempt_at = ?, lease_until = NULL"
            " WHERE id = ? AND claim = ?",
            (error, next_attempt_at, message_id, claim),
        ).rowcount
        == 1
    )


def message_by_id(conn, message_id):
    return _one(conn, "SELECT * FROM outbox WHERE id = ?", (message_id,))


def queue_counts(conn):
    """{status: number of messages}, for operators."""
    return dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
