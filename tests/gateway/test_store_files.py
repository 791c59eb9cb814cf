"""Database files are owner-only (0600): the chart database, the access log, and their WAL and SHM files."""

import os
import stat

import pytest

from gateway import store
from gateway.store import disclosures

pytestmark = pytest.mark.sqlite_only  # SQLite's files and their modes (PostgreSQL keeps its own)

FILES = ("g.db", "g.db-wal", "g.db-shm", "g.access-log.db", "g.access-log.db-wal", "g.access-log.db-shm")


def modes(folder):
    return {name: stat.S_IMODE(os.stat(folder / name).st_mode) for name in FILES if (folder / name).exists()}


def write_everywhere(path):
    db = store.connect(path)
    store.insert_rows(db, "practices", [{"id": 1, "uid": "org-1", "name": "Clinic", "mrn_system": "urn:x"}])
    disclosures.insert_read(store.access_log(path), 1, "p", "c", "a", "Patient", 1)
    store.current(path).execute("SELECT count(*) FROM practices").fetchone()
    return db


def test_a_new_database_and_its_wal_shm_and_access_log_are_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        db = write_everywhere(str(tmp_path / "g.db"))
        assert modes(tmp_path) == dict.fromkeys(FILES, 0o600)
    finally:
        os.umask(old)
    db.close()


def test_an_existing_world_readable_database_is_tightened_on_connect(tmp_path):
    path = str(tmp_path / "g.db")
    write_everywhere(path).close()
    for name in FILES:
        if (tmp_path / name).exists():
            os.chmod(tmp_path / name, 0o644)
    store.connect(path).close()
    assert set(modes(tmp_path).values()) == {0o600}
