"""The one store handle: what connect() and current() return, its transactions, and the named migrations."""

import threading

import pytest

from gateway import store
from gateway.app import create_app
from gateway.store import connection, migrations


def test_connect_returns_a_store_handle_on_that_path(tmp_path):
    path = str(tmp_path / "chart.db")
    handle = store.connect(path)
    assert isinstance(handle, store.Store)
    assert handle.path == path
    assert store.access_log(path).path == str(tmp_path / "chart.access-log.db")
    handle.close()


def test_a_transaction_commits_the_block_and_rolls_back_on_error(tmp_path):
    handle = store.connect(str(tmp_path / "chart.db"))
    with handle.transaction():
        handle.execute("INSERT INTO attempts (key, at) VALUES ('kept', 1)")
    with pytest.raises(ZeroDivisionError), handle.transaction():
        handle.execute("INSERT INTO attempts (key, at) VALUES ('dropped', 2)")
        1 / 0
    assert handle.execute("SELECT key FROM attempts").fetchall() == [("kept",)]
    assert not handle.in_transaction


def test_an_inner_transaction_joins_the_outer_one(tmp_path):
    handle = store.connect(str(tmp_path / "chart.db"))
    with pytest.raises(ZeroDivisionError), handle.transaction():
        with store.transaction(handle):
            handle.execute("INSERT INTO attempts (key, at) VALUES ('inner', 1)")
        1 / 0
    assert handle.execute("SELECT count(*) FROM attempts").fetchone() == (0,)


def test_current_is_one_handle_per_thread(tmp_path):
    path = str(tmp_path / "chart.db")
    store.connect(path).close()
    mine = store.current(path)
    other = []
    thread = threading.Thread(target=lambda: other.append(store.current(path)))
    thread.start()
    thread.join()
    assert store.current(path) is mine and isinstance(mine, store.Store)
    assert other[0] is not mine and other[0].path == path


def test_current_without_a_path_is_the_running_apps_database(tmp_path):
    first = create_app({"DB": str(tmp_path / "first.db"), "BASE_URL": "http://gateway.test", "TESTING": True})
    second = create_app({"DB": str(tmp_path / "second.db"), "BASE_URL": "http://gateway.test", "TESTING": True})
    with first.app_context():
        assert store.current().path == str(tmp_path / "first.db")
    with second.app_context():
        assert store.current().path == str(tmp_path / "second.db")


def test_current_without_a_path_or_configuration_says_what_it_needs(monkeypatch):
    monkeypatch.setattr(connection, "_locate", None)
    with pytest.raises(RuntimeError, match="needs a path"):
        store.current()


def test_every_migration_is_named_and_applied_in_order(tmp_path):
    names = [name for name, *_ in migrations.MIGRATIONS]
    assert all(names) and len(set(names)) == len(names)
    handle = store.connect(str(tmp_path / "chart.db"))
    versions = [v for (v,) in handle.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, len(names) + 1))
    assert migrations.migrate(handle) == len(names)  # a second run applies nothing
    assert handle.execute("SELECT count(*) FROM schema_version").fetchone() == (len(names),)
