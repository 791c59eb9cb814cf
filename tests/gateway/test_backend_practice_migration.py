"""The migration that binds backend clients to a practice decides what the clients and system/ tokens that exist
already become: with one practice, bound to it (they keep what they saw); with several, bound to none until an
operator runs ``fhir-gateway client bind`` (nobody chose a reach for them)."""

import contextlib
import sqlite3

import pytest

from gateway import store
from gateway.store.migrations import ACCESS_LOG_SCHEMA, MIGRATIONS

pytestmark = pytest.mark.sqlite_only  # replays SQLite migrations on a SQLite file

NAME = "backend clients bound to a practice"
PRACTICES = [("org-a", "Sunrise"), ("org-b", "Lakeside")]


def database_before(path, practices):
    """A database migrated up to (not through) NAME, holding practices, a backend client and a system token."""
    before = [name for name, *_ in MIGRATIONS].index(NAME)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("ATTACH DATABASE ? AS access_log", (store.access_log_path(path),))
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.executescript(ACCESS_LOG_SCHEMA)
        for version, (_, script, *_) in enumerate(MIGRATIONS[:before], start=1):
            conn.executescript(f"BEGIN;\n{script}\nINSERT INTO schema_version VALUES ({version});\nCOMMIT;")
        for n, (uid, name) in enumerate(practices, start=1):
            conn.execute("INSERT INTO practices (id, uid, name, mrn_system) VALUES (?,?,?,?)", (n, uid, name, "urn:x"))
        for client_id, kind in (("exporter", "backend"), ("phone-app", "public")):
            conn.execute(
                "INSERT INTO oauth_clients (client_id, name, kind, auth_method, grant_types, created_at)"
                " VALUES (?, ?, ?, 'private_key_jwt', '[]', 0)",
                (client_id, client_id, kind),
            )
        for token, scope in (("sys", "launch system/*.rs"), ("pat", "patient/*.rs")):
            conn.execute(
                "INSERT INTO access_tokens (token_hash, client_id, scope, patient_id, issued_at, expires_at)"
                " VALUES (?, 'exporter', ?, NULL, 0, 9999999999)",
                (token, scope),
            )
        conn.commit()


@pytest.mark.parametrize("count, reach", [(1, "org-a"), (2, None)])
def test_existing_backend_clients_and_system_tokens(tmp_path, count, reach):
    path = str(tmp_path / "old.db")
    database_before(path, PRACTICES[:count])
    db = store.connect(path)
    clients = dict(db.execute("SELECT client_id, practice_reach FROM oauth_clients ORDER BY client_id"))
    tokens = dict(db.execute("SELECT token_hash, practice_reach FROM access_tokens ORDER BY token_hash"))
    assert (clients, tokens) == ({"exporter": reach, "phone-app": None}, {"sys": reach, "pat": None})
