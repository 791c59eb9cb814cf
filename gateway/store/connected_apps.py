"""The apps connected to one record, as its Connected apps page lists them: each active consent grant with
the app's name, who granted it, when it was last used and when its sign-in runs out.

"Last used" counts only reads since this grant began: an app revoked and allowed again starts afresh."""

from . import log_shards
from .accounts import _all

# The sub-SELECT in FROM is named (``AS live``): PostgreSQL before 16 requires an alias there (SELECT, "FROM
# Clause"; made optional by PostgreSQL commit bcedd8f5), and 15 is what Debian ships.
_GRANTS = (
    "SELECT g.id, g.account_uid, g.client_id, g.patient_id, g.scope, g.created_at, g.updated_at,"
    " c.name AS client_name, a.name AS account_name, a.email AS account_email,"
    " (SELECT max(d.at) FROM disclosures d WHERE d.patient_id = g.patient_id AND d.kind = 'read'"
    "   AND d.client_id = g.client_id AND d.actor = g.account_uid AND d.at >= g.created_at * 1000) AS last_used_ms,"
    " (SELECT max(expires_at) FROM (SELECT expires_at FROM refresh_tokens r WHERE r.grant_id = g.id AND r.revoked = 0"
    "   UNION ALL SELECT expires_at FROM access_tokens t WHERE t.grant_id = g.id AND t.revoked = 0) AS live)"
    " AS expires_at"
    " FROM consent_grants g LEFT JOIN oauth_clients c ON c.client_id = g.client_id"
    " LEFT JOIN accounts a ON a.uid = g.account_uid"
    " WHERE g.patient_id = ? AND g.revoked_at IS NULL ORDER BY g.updated_at DESC, g.id DESC"
)


def grants_of_record(conn, patient_id):
    """Every active consent grant for a patient's record (any account), newest first."""
    log_shards.readable(conn)
    return _all(conn, _GRANTS, (patient_id,))
