"""Fixtures for Bulk Data export: the demo practices with two backend clients (keys to sign assertions),
a writable copy per test, and an app that runs jobs inline unless the test says otherwise."""

import contextlib
import datetime as dt
import sqlite3

import pytest

from fixtures import demo_practice
from gateway import store
from smart_auth import clients
from smart_auth.tokens import ALL_PRACTICES, issue_access_token
from tests.apps import build_app
from tests.smart_auth.oauth_helpers import Keys


@pytest.fixture(scope="session")
def bulk_template(tmp_path_factory, pg_cluster):
    if pg_cluster is not None:  # --store=postgres: a database copied per test (CREATE DATABASE ... TEMPLATE)
        path = pg_cluster.database()
    else:
        path = str(tmp_path_factory.mktemp("bulk-template") / "bulk.db")
    db = store.connect(path)
    summary = demo_practice.load(db, dt.date(2026, 11, 25))
    keys = Keys()
    backend, _ = clients.register_client(db, "Registry backend", [], "backend", jwks=keys.jwks(), all_practices=True)
    other, _ = clients.register_client(db, "Another backend", [], "backend", jwks=keys.jwks(), all_practices=True)
    first, second = (uid for (uid,) in db.execute("SELECT uid FROM practices ORDER BY id"))
    sunrise, _ = clients.register_client(db, "Sunrise's backend", [], "backend", jwks=keys.jwks(), practice=first)
    store.optimize(db)
    if pg_cluster is None:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    summary.update(
        keys=keys,
        backend=backend.client_id,
        other=other.client_id,
        sunrise=sunrise.client_id,
        practices={"sunrise": first, "lakeside": second},
    )
    return path, summary


@pytest.fixture
def bulk_db_path(bulk_template, tmp_path, pg_cluster):
    if pg_cluster is not None:
        url = pg_cluster.database(template=bulk_template[0])
        yield url
        pg_cluster.drop(url)
        return
    path = str(tmp_path / "bulk.db")
    with (
        contextlib.closing(sqlite3.connect(bulk_template[0])) as source,
        contextlib.closing(sqlite3.connect(path)) as copy,
    ):
        source.backup(copy)
    yield path


@pytest.fixture
def bulk_summary(bulk_template):
    return bulk_template[1]


@pytest.fixture
def bulk_db(bulk_db_path):
    db = store.connect(bulk_db_path)
    yield db
    db.close()


@pytest.fixture
def bulk_app(bulk_db_path, tmp_path):
    """``bulk_app(**config)``: the app on this test's database, jobs run inline, files under tmp_path/exports."""

    def build(**config):
        settings = {"EXPORT_WORKERS": "inline", "EXPORT_DIR": str(tmp_path / "exports"), "TESTING": True, **config}
        return build_app(bulk_db_path, **settings)

    return build


@pytest.fixture
def web(bulk_app):
    return bulk_app().test_client()


@pytest.fixture
def system_token(bulk_db, bulk_summary):
    """``system_token(scope="system/*.rs", client=None)``: an Authorization header of a backend's token, reaching
    what its client was registered for (the all-practices backends unless ``client`` names Sunrise's)."""

    def issue(scope="system/*.rs", client=None):
        client = client or bulk_summary["backend"]
        reach = bulk_summary["practices"]["sunrise"] if client == bulk_summary["sunrise"] else ALL_PRACTICES
        token = issue_access_token(bulk_db, client, scope, practice_reach=reach)
        return {"Authorization": f"Bearer {token}"}

    return issue
