"""gateway/store/log_shards.py: server workers append FHIR read rows to log files of their own; readers see one log."""

import contextlib
import glob
import multiprocessing
import os
import sqlite3

import pytest

from gateway import store
from gateway.store import disclosures, log_shards

pytestmark = pytest.mark.sqlite_only  # the access log's own SQLite files (PostgreSQL has one table)

FORK = multiprocessing.get_context("fork")


def _worker(path, at, claimed, release):
    """A server worker: claims a shard at its first read row, holds it until ``release``, then exits."""
    log_shards.enable()
    disclosures.insert_read(store.access_log(path), at, "p1", f"app-{at}", "acct", "Patient", 1)
    claimed.set()
    release.wait(10)


@contextlib.contextmanager
def workers(path, *ats):
    """Worker processes alive at once, each having logged one read (``at``: its row's time and app)."""
    release, started = FORK.Event(), []
    try:
        for at in ats:
            claimed = FORK.Event()
            process = FORK.Process(target=_worker, args=(path, at, claimed, release))
            process.start()
            started.append(process)
            assert claimed.wait(10)
        yield
    finally:
        release.set()
        for process in started:
            process.join(10)


def _rows(path, sql):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def path(tmp_path):
    found = str(tmp_path / "a.db")
    store.connect(found).close()
    return found


def test_each_worker_appends_to_its_own_shard_and_readers_see_one_log(path):
    db = store.connect(path)
    disclosures.insert_disclosure(db, {"at": 5, "patient_id": "p1", "kind": "download", "what": "fhir", "count": 2})
    with workers(path, 1000, 2000):
        pass
    log = store.access_log_path(path)
    # Each read is a line in its worker's journal until a mover or a reader moves it (log_journal).
    assert _rows(log_shards.shard_path(log, 1), "SELECT id FROM disclosures") == []
    assert [os.path.basename(p) for p in glob.glob(log.replace(".db", ".*.journal"))] == [
        "a.access-log.1.0.journal",
        "a.access-log.2.0.journal",
    ]
    history = disclosures.history(db, "p1", ("read", "download"))
    assert [(row["kind"], row["client_id"], row["id"]) for row in history] == [
        ("read", "app-2000", 2 * log_shards.SPAN + 1),
        ("read", "app-1000", log_shards.SPAN + 1),
        ("download", None, 1),
    ]
    assert _rows(log_shards.shard_path(log, 1), "SELECT id, client_id FROM disclosures") == [
        (log_shards.SPAN + 1, "app-1000")
    ]
    assert _rows(log_shards.shard_path(log, 2), "SELECT id, client_id FROM disclosures") == [
        (2 * log_shards.SPAN + 1, "app-2000")
    ]
    assert _rows(log, "SELECT id, kind FROM disclosures") == [(1, "download")]
    assert [row["client_id"] for row in disclosures.clients_seen(db, "p1")] == ["app-1000", "app-2000"]


def test_a_shard_that_appears_after_a_readers_first_look_is_seen_at_its_next(path):
    db = store.connect(path)
    assert disclosures.clients_seen(db, "p1") == []
    with workers(path, 1000):
        pass
    assert [row["client_id"] for row in disclosures.clients_seen(db, "p1")] == ["app-1000"]


def test_a_shard_freed_by_a_worker_that_ended_is_claimed_again_and_its_ids_go_on(path):
    with workers(path, 1000):
        pass
    with workers(path, 2000):
        pass
    log_shards.readable(store.connect(path))
    assert _rows(log_shards.shard_path(store.access_log_path(path), 1), "SELECT id FROM disclosures") == [
        (log_shards.SPAN + 1,),
        (log_shards.SPAN + 2,),
    ]
    assert not os.path.exists(log_shards.shard_path(store.access_log_path(path), 2))


def test_with_every_shard_claimed_a_worker_appends_to_the_main_log(path, monkeypatch):
    monkeypatch.setattr(log_shards, "SHARDS", 1)
    with workers(path, 1000, 2000):
        pass
    assert _rows(store.access_log_path(path), "SELECT client_id FROM disclosures") == [("app-2000",)]
    assert [row["client_id"] for row in disclosures.clients_seen(store.connect(path), "p1")] == ["app-1000", "app-2000"]


def test_processes_that_are_not_workers_write_the_main_log(path):
    disclosures.insert_read(store.access_log(path), 7, "p1", "cli", None, "Patient", 1)
    assert _rows(store.access_log_path(path), "SELECT id, client_id FROM disclosures") == [(1, "cli")]
    assert not os.path.exists(log_shards.shard_path(store.access_log_path(path), 1))
