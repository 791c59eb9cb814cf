"""The token tables carry only the indexes a lookup needs: each index is one more 16 KiB page written per
exchange (bench.oauth), so grant revocation rides on the (patient, subject) index instead of its own."""

import pytest

from gateway import store
from gateway.store import oauth as oauth_store


@pytest.fixture
def db(new_db_path):
    conn = store.connect(new_db_path("t"))
    yield conn
    conn.close()


def indexes(db, table):
    return sorted(
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))
    )


@pytest.mark.sqlite_only  # sqlite_master (postgres_schema.py declares PostgreSQL's indexes)
def test_the_token_tables_indexes(db):
    assert indexes(db, "access_tokens") == [
        "access_tokens_family",
        "access_tokens_patient",
        "access_tokens_revoked",
    ]
    assert indexes(db, "refresh_tokens") == [
        "refresh_tokens_expires",
        "refresh_tokens_family",
        "refresh_tokens_patient",
        "refresh_tokens_revoked",
    ]


@pytest.mark.sqlite_only  # SQLite's EXPLAIN QUERY PLAN
@pytest.mark.parametrize(
    ("sql", "plan"),
    [
        (
            oauth_store.REVOKE_GRANT_ACCESS,
            "SEARCH access_tokens USING INDEX access_tokens_patient (patient_id=? AND subject=?)",
        ),
        (
            oauth_store.REVOKE_GRANT_REFRESH,
            "SEARCH refresh_tokens USING INDEX refresh_tokens_patient (patient_id=? AND subject=?)",
        ),
    ],
)
def test_revoking_a_grants_tokens_searches_the_patient_index(db, sql, plan):
    steps = [r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", (1, 1, 1))]
    assert steps[0] == plan


def test_revoking_a_grants_tokens_revokes_exactly_that_grants(db):
    now = 1_000
    grant = oauth_store.insert_grant(db, "acct-1", "app", "pat-1", "s", "s", now)
    other = oauth_store.insert_grant(db, "acct-1", "app2", "pat-1", "s", "s", now)
    rows = [("t-grant", grant), ("t-other", other), ("t-none", None)]
    with store.transaction(db):
        for token, grant_id in rows:
            store.save_token(db, token, "app", "s", "pat-1", "acct-1", now, now + 60, "fam", grant_id)
            oauth_store.save_refresh_token(
                db,
                "r" + token,
                {
                    "family": "fam",
                    "client_id": "app",
                    "scope": "s",
                    "context": "{}",
                    "grant_id": grant_id,
                    "patient_id": "pat-1",
                    "subject": "acct-1",
                    "issued_at": now,
                    "expires_at": now + 60,
                },
            )
        assert oauth_store.revoke_grant_tokens(db, grant) == 2
    revoked = [
        (token, store.find_token(db, token)["revoked"], oauth_store.find_refresh_token(db, "r" + token)["revoked"])
        for token, _ in rows
    ]
    assert revoked == [("t-grant", 1, 1), ("t-other", 0, 0), ("t-none", 0, 0)]
