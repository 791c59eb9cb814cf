"""Shared fixtures: named databases, the one app factory (``make_app``), app/client/runner, a token helper.

Databases: ``demo_db_path`` (the demo practice, loaded once, read-only), ``fresh_demo_db_path`` (a writable
copy for one test), ``chart_db_path`` (the small hand-made chart of tests/chart.py), ``empty_db_path``, and
``new_db_path`` / ``module_db_path``: factories of new databases with nothing in them yet, as many as a test (or a
module's fixtures) needs. Each is a SQLite file path by default and a PostgreSQL URL with ``--store=postgres``
(then ``make test-postgres`` runs the test on PostgreSQL too); only tests about SQLite itself build their own file,
and those are marked ``sqlite_only``.
"""

import contextlib
import datetime as dt
import os
import pathlib
import sqlite3

import pytest
from argon2 import PasswordHasher, profiles
from click.testing import CliRunner

from gateway import store
from smart_auth import accounts
from smart_auth.tokens import ALL_PRACTICES, issue_access_token
from tests.apps import build_app

TODAY = dt.date(2026, 11, 25)
BROWSER_TESTS = pathlib.Path(__file__).parent / "browser"


def pytest_addoption(parser):
    parser.addoption(
        "--store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the engine behind the database fixtures (postgres: a throwaway cluster, tests/pg_cluster.py)",
    )


def pytest_configure(config):
    # Production's argon2 costs ~0.1-1 s a hash (64 MiB, 3 passes) and the suite hashes hundreds of
    # passwords; what the tests check (argon2id, verify, no enumeration) holds at the cheapest parameters.
    accounts.use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright (`make test-fast` skips these)")
    config.addinivalue_line("markers", "sqlite_only: about SQLite itself; skipped with --store=postgres")
    if config.getoption("--store") == "postgres":  # as a PostgreSQL deployment must (gateway/config.py)
        os.environ.setdefault("GATEWAY_SECRET_KEY", "test-secret-for-postgres")


def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/browser/ as a browser test; with --store=postgres, skip the SQLite-only ones."""
    postgres = config.getoption("--store") == "postgres"
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if postgres and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="about SQLite itself (files, pragmas, query plans)"))


@pytest.fixture(scope="session")
def postgres_cluster(request):
    """The throwaway PostgreSQL cluster of this run (started at first use, removed at the end)."""
    from tests.pg_cluster import Cluster

    cluster = Cluster.start()
    request.addfinalizer(cluster.stop)
    return cluster


@pytest.fixture(scope="session")
def pg_cluster(request):
    """The cluster behind the database fixtures with ``--store=postgres``; None on SQLite (the default)."""
    if request.config.getoption("--store") != "postgres":
        return None
    return request.getfixturevalue("postgres_cluster")


def _load_demo(db):
    from fixtures import demo_accounts, demo_practice

    demo_accounts.load(db, demo_practice.load(db, TODAY))
    store.optimize(db)


@pytest.fixture(scope="session")
def demo_template(pg_cluster):
    """PostgreSQL: a database with the demo practice that is never opened but copied (CREATE DATABASE ... TEMPLATE)."""
    if pg_cluster is None:
        return None
    url = pg_cluster.database()
    _load_demo(store.connect(url))
    return url


@pytest.fixture(scope="session")
def empty_template(pg_cluster):
    if pg_cluster is None:
        return None
    url = pg_cluster.database()
    store.connect(url)
    return url


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory, pg_cluster, demo_template):
    """A database with the demo practice, loaded once; tests that write use their own database."""
    if pg_cluster is not None:
        return pg_cluster.database(template=demo_template)
    path = str(tmp_path_factory.mktemp("demo") / "demo.db")
    _load_demo(store.connect(path))
    return path


@pytest.fixture
def fresh_demo_db_path(demo_db_path, tmp_path, pg_cluster, demo_template):
    """A writable copy of the demo database, for a test that changes it."""
    if pg_cluster is not None:
        url = pg_cluster.database(template=demo_template)
        yield url
        pg_cluster.drop(url)
        return
    path = str(tmp_path / "demo.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    yield path


@pytest.fixture
def empty_db_path(tmp_path, pg_cluster, empty_template):
    """A database with the schema and no rows."""
    if pg_cluster is not None:
        url = pg_cluster.database(template=empty_template)
        yield url
        pg_cluster.drop(url)
        return
    path = str(tmp_path / "empty.db")
    store.connect(path).close()
    yield path


class NewDatabases:
    """``new(name="gateway", copy_of=None)``: the path (SQLite) or URL (PostgreSQL) of a new, empty database.

    On SQLite that is a file that does not exist yet (``store.connect`` creates it); on PostgreSQL a database
    created empty (no schema: ``store.connect`` migrates it, as it does a new file). ``drop_all`` removes them.
    """

    def __init__(self, folder, cluster):
        self.folder, self.cluster, self.made = folder, cluster, []

    def __call__(self, name="gateway", copy_of=None):
        """A new database; ``copy_of``: a copy of that one's rows instead (a backup, a stolen file)."""
        if self.cluster is not None:
            path = self.cluster.database(template=copy_of)
        else:
            path = str(self.folder() / f"{name}.db")
            if path in self.made or os.path.exists(path):  # each call is a new database, whatever its name
                path = str(self.folder() / f"{name}-{len(self.made)}.db")
            if copy_of is not None:
                with (
                    contextlib.closing(sqlite3.connect(copy_of)) as source,
                    contextlib.closing(sqlite3.connect(path)) as copy,
                ):
                    source.backup(copy)
        self.made.append(path)
        return path

    def drop_all(self):
        if self.cluster is not None:
            for url in self.made:
                self.cluster.drop(url)


@pytest.fixture
def new_db_path(tmp_path, pg_cluster):
    """``new_db_path(name="gateway")``: a new, empty database for this test, on the engine of the run."""
    databases = NewDatabases(lambda: tmp_path, pg_cluster)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="module")
def module_db_path(tmp_path_factory, pg_cluster):
    """``module_db_path(name="gateway")``: a new, empty database for a module's fixtures (dropped after the module)."""
    folder = tmp_path_factory.mktemp("module-db")
    databases = NewDatabases(lambda: folder, pg_cluster)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def make_app(request):
    """Build the app: ``make_app(db_path=None, **config)``; no path means the read-only demo database."""

    def build(db_path=None, **config):
        return build_app(db_path or request.getfixturevalue("demo_db_path"), **config)

    return build


@pytest.fixture(scope="session")
def demo(demo_db_path):
    """The demo database handle and its patients as rows keyed by uid."""
    db = store.connect(demo_db_path)
    return db


@pytest.fixture
def app(make_app):
    return make_app(TESTING=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


class Tokens:
    """Issues tokens against a database and builds Authorization headers."""

    def __init__(self, db):
        self.db = db

    def __call__(self, scope, patient=None, ttl=3600, practice=ALL_PRACTICES):
        """A token for ``scope``; system/ scopes reach ``practice`` (an Organization id), by default every one."""
        reach = practice if "system/" in scope else None
        token = issue_access_token(self.db, "test-client", scope, patient, ttl=ttl, practice_reach=reach)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(demo):
    return Tokens(demo)


@pytest.fixture(scope="module")
def chart_db_path(tmp_path_factory, pg_cluster):
    """A database holding the small hand-made chart of tests/chart.py (known values, exact results)."""
    from tests import chart

    path = str(tmp_path_factory.mktemp("chart") / "chart.db") if pg_cluster is None else pg_cluster.database()
    db = store.connect(path)
    chart.build(db)
    store.optimize(db)
    return path


@pytest.fixture
def chart_client(make_app, chart_db_path):
    return make_app(chart_db_path).test_client()


@pytest.fixture
def chart_auth(chart_db_path):
    return Tokens(store.connect(chart_db_path))
