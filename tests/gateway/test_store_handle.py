"""The one store handle: what connect() and current() return, its transactions, and the named migrations."""

import threading

import pytest

from gateway import store
from gateway.store import connection, migrations


@pytest.mark.sqlite_only  # the access log's own file beside the SQLite one
def test_connect_returns_a_store_handle_on_that_path(tmp_path):
    path = str(tmp_path / "chart.db")
    handle = store.connect(path)
    assert isinstance(handle, store.Store)
    assert handle.path == path
    assert store.access_log(path).path == str(tmp_path / "chart.access-log.db")
    handle.close()


def test_a_transaction_commits_the_block_and_rolls_back_on_error(new_db_path):
    handle = store.connect(new_db_path("chart"))
    with handle.transaction():
        handle.execute("INSERT INTO attempts (key, at) VALUES ('kept', 1)")
    with pytest.raises(ZeroDivisionError), handle.transaction():
        handle.execute("INSERT INTO attempts (key, at) VALUES ('dropped', 2)")
        1 / 0
    assert handle.execute("SELECT key FROM attempts").fetchall() == [("kept",)]
    assert not handle.in_transaction


def test_an_inner_transaction_joins_the_outer_one(new_db_path):
    handle = store.connect(new_db_path("chart"))
    with pytest.raises(ZeroDivisionError), handle.transaction():
        with store.transaction(handle):
            handle.execute("INSERT INTO attempts (key, at) VALUES ('inner', 1)")
        1 / 0
    assert handle.execute("SELECT count(*) FROM attempts").fetchone() == (0,)


def test_current_is_one_handle_per_thread(new_db_path):
    path = new_db_path("chart")
    engine = type(store.connect(path))  # store.Store on SQLite, postgres.PgStore on PostgreSQL
    mine = store.current(path)
    other = []
    thread = threading.Thread(target=lambda: other.append(store.current(path)))
    thread.start()
    thread.join()
    assert store.current(path) is mine and type(mine) is engine
    assert other[0] is not mine and other[0].path == path


def test_current_without_a_path_is_the_running_apps_database(make_app, new_db_path):
    first_path, second_path = new_db_path("first"), new_db_path("second")
    first, second = make_app(first_path, TESTING=True), make_app(second_path, TESTING=True)
    with first.app_context():
        assert store.current().path == first_path
    with second.app_context():
        assert store.current().path == second_path


def test_current_without_a_path_or_configuration_says_what_it_needs(monkeypatch):
    monkeypatch.setattr(connection, "_locate", None)
    with pytest.raises(RuntimeError, match="needs a path"):
        store.current()


@pytest.mark.sqlite_only  # PostgreSQL starts from one baseline (postgres_schema.py), its first version BASELINE_COVERS
def test_every_migration_is_named_and_applied_in_order(tmp_path):
    names = [name for name, *_ in migrations.MIGRATIONS]
    assert all(names) and len(set(names)) == len(names)
    handle = store.connect(str(tmp_path / "chart.db"))
    versions = [v for (v,) in handle.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, len(names) + 1))
    assert migrations.migrate(handle) == len(names)  # a second run applies nothing
    assert handle.execute("SELECT count(*) FROM schema_version").fetchone() == (len(names),)
