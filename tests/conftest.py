"""Shared fixtures: a demo database loaded once per session, app/client/runner per test, token helper."""
import datetime as dt

import pytest
from click.testing import CliRunner

from gateway import store
from gateway.app import create_app
from smart_auth.tokens import issue_access_token

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    """A database with the demo practice, loaded once; tests that write use their own database."""
    from fixtures import demo_accounts, demo_practice

    path = str(tmp_path_factory.mktemp("demo") / "demo.db")
    db = store.connect(path)
    demo_accounts.load(db, demo_practice.load(db, TODAY))
    store.optimize(db)
    return path


@pytest.fixture(scope="session")
def demo(demo_db_path):
    """The demo database handle and its patients as rows keyed by uid."""
    db = store.connect(demo_db_path)
    return db


@pytest.fixture
def app(demo_db_path):
    return create_app({"DB": demo_db_path, "BASE_URL": "http://gateway.test", "TESTING": True})


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

    def __call__(self, scope, patient=None, ttl=3600):
        token = issue_access_token(self.db, "test-client", scope, patient, ttl=ttl)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(demo):
    return Tokens(demo)


@pytest.fixture(scope="module")
def chart_db_path(tmp_path_factory):
    """A database holding the small hand-made chart of tests/chart.py (known values, exact results)."""
    from tests import chart

    path = str(tmp_path_factory.mktemp("chart") / "chart.db")
    db = store.connect(path)
    chart.build(db)
    store.optimize(db)
    return path


@pytest.fixture
def chart_client(chart_db_path):
    return create_app({"DB": chart_db_path, "BASE_URL": "http://gateway.test"}).test_client()


@pytest.fixture
def chart_auth(chart_db_path):
    return Tokens(store.connect(chart_db_path))
