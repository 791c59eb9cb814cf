"""Pruning deletes what is past use, kind by kind, and keeps what a check or the audit still needs."""

import time

import pytest

from gateway import store
from gateway.cli import cli
from gateway.store import pruning

NOW = 1_800_000_000
DAY = 24 * 3600

# kind -> (table, key column, rows past use, rows still needed); unlisted columns take their defaults.
TOKEN = {"client_id": "app", "scope": "patient/*.rs", "issued_at": NOW - 60}
REFRESH = {**TOKEN, "family": "f", "context": "{}"}
CODE = {
    "client_id": "app",
    "redirect_uri": "https://app/cb",
    "scope": "openid",
    "context": "{}",
    "family": "f",
    "auth_time": NOW - 60,
}
KINDS = {
    "web sessions": (
        "web_sessions",
        "id_hash",
        [{"id_hash": "ended", "data": "{}", "created_at": NOW - DAY, "expires_at": NOW - 1}],
        [{"id_hash": "live", "data": "{}", "created_at": NOW - DAY, "expires_at": NOW + 60}],
    ),
    "attempts": (
        "attempts",
        "key",
        [{"key": "login:old", "at": NOW - DAY - 1}],
        [{"key": "login:recent", "at": NOW - 15 * 60}],
    ),
    "authorization codes": (
        "oauth_codes",
        "code_hash",
        [{**CODE, "code_hash": "long-expired", "expires_at": NOW - 3601, "used_at": NOW - 3700}],
        # just expired and used: presenting it again must still revoke its family
        [
            {**CODE, "code_hash": "just-expired", "expires_at": NOW - 60, "used_at": NOW - 100},
            {**CODE, "code_hash": "fresh", "expires_at": NOW + 60},
        ],
    ),
    "access tokens": (
        "access_tokens",
        "token_hash",
        [
            {**TOKEN, "token_hash": "expired", "expires_at": NOW - 1},
            {**TOKEN, "token_hash": "revoked", "expires_at": NOW + 600, "revoked": 1},
        ],
        [{**TOKEN, "token_hash": "live", "expires_at": NOW + 600}],
    ),
    "refresh tokens": (
        "refresh_tokens",
        "token_hash",
        [
            {**REFRESH, "token_hash": "expired", "expires_at": NOW - 1},
            {**REFRESH, "token_hash": "revoked", "expires_at": NOW + DAY, "revoked": 1},
        ],
        # rotated (used) but unexpired: the family reuse check needs it
        [
            {**REFRESH, "token_hash": "rotated", "expires_at": NOW + DAY, "used_at": NOW - 60},
            {**REFRESH, "token_hash": "live", "expires_at": NOW + DAY},
        ],
    ),
    "client assertion ids": (
        "seen_assertions",
        "jti",
        [{"client_id": "app", "jti": "old", "expires_at": NOW - 1}],
        [{"client_id": "app", "jti": "recent", "expires_at": NOW + 60}],
    ),
    "EHR launch contexts": (
        "launch_contexts",
        "launch_hash",
        [
            {
                "launch_hash": "old",
                "client_id": "app",
                "staff_uid": "s",
                "patient_id": "p",
                "created_at": NOW - 600,
                "expires_at": NOW - 1,
            }
        ],
        [
            {
                "launch_hash": "new",
                "client_id": "app",
                "staff_uid": "s",
                "patient_id": "p",
                "created_at": NOW - 10,
                "expires_at": NOW + 290,
            }
        ],
    ),
    "retired signing keys": (
        "signing_keys",
        "kid",
        [
            {
                "kid": "gone",
                "alg": "RS256",
                "private_jwk": "x",
                "public_jwk": "{}",
                "created_at": NOW - DAY,
                "retired_at": NOW - 7200,
                "publish_until": NOW - 1,
            }
        ],
        [
            {
                "kid": "published",
                "alg": "RS256",
                "private_jwk": "x",
                "public_jwk": "{}",
                "created_at": NOW - DAY,
                "retired_at": NOW - 60,
                "publish_until": NOW + 3540,
            },
            {"kid": "active", "alg": "RS256", "private_jwk": "x", "public_jwk": "{}", "created_at": NOW - 60},
        ],
    ),
}


def insert(db, table, rows):
    for row in rows:
        db.execute(f"INSERT INTO {table} ({','.join(row)}) VALUES ({','.join('?' * len(row))})", list(row.values()))


def keys(db, table, column):
    return {r[0] for r in db.execute(f"SELECT {column} FROM {table}")}


@pytest.fixture
def db(new_db_path):
    return store.connect(new_db_path("prune"))


@pytest.mark.parametrize("kind", KINDS)
def test_prune_deletes_only_what_is_past_use(db, kind):
    table, column, old, needed = KINDS[kind]
    insert(db, table, old + needed)
    deleted = pruning.prune(db, NOW)
    assert deleted == {k: len(old) if k == kind else 0 for k in KINDS}
    assert keys(db, table, column) == {row[column] for row in needed}
    assert pruning.prune(db, NOW)[kind] == 0


def test_prune_leaves_the_access_log_grants_and_enrollment_audit_alone(db):
    db.execute("INSERT INTO access_log.disclosures (at, patient_id, kind, what) VALUES (1, 'p', 'read', 'x')")
    db.execute(
        "INSERT INTO consent_grants (account_uid, client_id, patient_id, requested_scope, scope,"
        " created_at, updated_at, revoked_at) VALUES ('a', 'app', 'p', 's', 's', 1, 1, 2)"
    )
    db.execute("INSERT INTO enrollment_events (at, event, actor) VALUES ('2020-01-01', 'invited', 'staff')")
    pruning.prune(db, NOW + 10 * 365 * DAY)
    for table in ("access_log.disclosures", "consent_grants", "enrollment_events"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1


def test_the_prune_command_reports_each_kind(new_db_path, runner):
    path = new_db_path("cli")
    db = store.connect(path)
    insert(db, "web_sessions", [{"id_hash": "ended", "data": "{}", "created_at": 1, "expires_at": 2}])
    result = runner.invoke(cli, ["prune", "--db", path])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "       1  web sessions"
    assert len(result.output.splitlines()) == len(KINDS)
    assert keys(db, "web_sessions", "id_hash") == set()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_app_prunes_at_start_and_then_at_most_once_an_interval(make_app, new_db_path):
    path = new_db_path("app")
    db = store.connect(path)
    ended = {"data": "{}", "created_at": 1, "expires_at": int(time.time()) - 1}
    insert(db, "web_sessions", [{**ended, "id_hash": "before-start"}])
    app = make_app(path, SECRET_KEY="k" * 32, PRUNE_INTERVAL=600)
    assert keys(db, "web_sessions", "id_hash") == set()
    pruner = app.extensions["pruning"]
    pruner.clock = clock = Clock()
    pruner.last = clock.now
    insert(db, "web_sessions", [{**ended, "id_hash": "later"}])
    client = app.test_client()
    clock.now += 599
    assert client.get("/").status_code == 200
    assert keys(db, "web_sessions", "id_hash") == {"later"}
    clock.now += 1
    assert client.get("/").status_code == 200
    assert keys(db, "web_sessions", "id_hash") == set()


# SQLite's BEGIN IMMEDIATE from another connection; PostgreSQL writers queue on an advisory lock instead
@pytest.mark.sqlite_only
def test_a_busy_database_skips_the_round_instead_of_failing_the_request(make_app, tmp_path):
    path = str(tmp_path / "busy.db")
    app = make_app(path, SECRET_KEY="k" * 32, PRUNE_INTERVAL=1)
    pruner = app.extensions["pruning"]
    pruner.clock = clock = Clock()
    pruner.last = clock.now - 5
    writer = store.connect(path)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert app.test_client().get("/").status_code == 200
    finally:
        writer.execute("ROLLBACK")
    assert pruner.last == clock.now
