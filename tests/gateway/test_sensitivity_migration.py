"""A gateway upgraded in place withholds a teenager's sensitive items from the parent at once: the migration that
indexes the sensitivity of every stored resource (and what a note's or visit's sensitivity depends on) from its
stored JSON, with the function the projection uses, so nothing waits for a re-projection."""

import contextlib

import pytest

from gateway import store
from gateway.store import migrations
from tests.gateway.test_proxy_access import SENSITIVE, birthday_ago, build
from tests.gateway.test_teen_privacy import HIDDEN, PLAIN, PLAIN_NOTE, PLAIN_VISIT, add_teen_items, everything

NAME = "sensitivity of the resources stored before it was indexed"


def _before():
    return [name for name, *_ in migrations.MIGRATIONS].index(NAME)


def database_before(path):
    """A teen's chart in a database created by a gateway at the migration before NAME: every resource projected,
    but no ``_sensitivity`` index values and no ``_context`` references (that projection wrote neither)."""
    before = _before()
    with pytest.MonkeyPatch.context() as old_gateway:
        old_gateway.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:before])
        db, parent = build(path, birthday_ago(15))
        add_teen_items(db)
        with store.transaction(db):
            db.execute("DELETE FROM search_token WHERE param = '_sensitivity'")
            db.execute("DELETE FROM search_ref WHERE param = '_context'")
        assert db.execute("SELECT max(version) FROM schema_version").fetchone() == (before,)
        db.close()
    return parent


@pytest.mark.sqlite_only  # SQLite's own statements and pragmas
def test_an_upgraded_database_withholds_the_teens_sensitive_items_from_the_parent(tmp_path, monkeypatch):
    path = str(tmp_path / "old.db")
    parent = database_before(path)
    with monkeypatch.context() as old_gateway:  # what the gateway before the migration showed the parent: all
        old_gateway.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[: _before()])
        with contextlib.closing(store.connect(path)) as db:
            leaked = everything(path, db, parent["uid"])
    assert [i for i in HIDDEN if i in leaked] == HIDDEN
    with contextlib.closing(store.connect(path)) as db:  # the upgrade: connect() migrates
        seen = everything(path, db, parent["uid"])
        assert [i for i in HIDDEN if i in seen] == []
        assert {PLAIN, PLAIN_NOTE, PLAIN_VISIT} <= set(seen)
        assert everything(path, db) == leaked  # a token with no person behind it: nothing lost


@pytest.mark.sqlite_only  # builds the old database as a second SQLite file beside the fixture's
def test_the_migration_writes_what_the_projection_writes(empty_db_path):
    """Same rows as a fresh projection: the sensitivity tokens and the ``_context`` references, once each."""

    def privacy_rows(db):
        tokens = db.execute(
            "SELECT r.id, t.code FROM search_token t JOIN resources r USING (pk)"
            " WHERE t.param = '_sensitivity' ORDER BY 1, 2"
        ).fetchall()
        refs = db.execute(
            "SELECT r.id, x.target, x.patient_id FROM search_ref x JOIN resources r USING (pk)"
            " WHERE x.param = '_context' ORDER BY 1, 2"
        ).fetchall()
        return tokens, refs

    db, _ = build(empty_db_path, birthday_ago(15))
    add_teen_items(db)
    projected = privacy_rows(db)
    db.close()
    database_before(empty_db_path.replace("empty.db", "old.db"))
    with contextlib.closing(store.connect(empty_db_path.replace("empty.db", "old.db"))) as old:
        assert privacy_rows(old) == projected
    assert (SENSITIVE, "mental-health") in projected[0]
    assert ("note-at-visit", "Encounter/enc-counselling", "child") in projected[1]
