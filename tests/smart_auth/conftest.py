"""Fixtures for the authorization server tests: one database per module with the demo logins and apps."""

import contextlib
import shutil
import sqlite3

import pytest

from gateway import store

from .oauth_helpers import Flow, build


@pytest.fixture(scope="session")
def oauth_template(tmp_path_factory, pg_cluster):
    """A database holding the demo practice, its logins and the test apps, built once; modules copy it."""
    if pg_cluster is not None:  # --store=postgres: modules copy it with CREATE DATABASE ... TEMPLATE
        path = pg_cluster.database()
        return path, build(path)
    path = str(tmp_path_factory.mktemp("oauth-template") / "oauth.db")
    summary = build(path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, summary


@pytest.fixture(scope="module")
def oauth_db(oauth_template, tmp_path_factory, pg_cluster):
    """(path, summary) of this module's own copy of the template database."""
    if pg_cluster is not None:
        return pg_cluster.database(template=oauth_template[0]), oauth_template[1]
    path = str(tmp_path_factory.mktemp("oauth") / "oauth.db")
    shutil.copyfile(oauth_template[0], path)
    return path, oauth_template[1]


@pytest.fixture(scope="module")
def oauth_app(make_app, oauth_db):
    return make_app(oauth_db[0], TESTING=True)


@pytest.fixture
def web(oauth_app):
    """A fresh browser (cookie jar) on the app."""
    return oauth_app.test_client()


@pytest.fixture
def flow(web):
    return Flow(web)


@pytest.fixture
def summary(oauth_db):
    return oauth_db[1]


@pytest.fixture
def odb(oauth_db):
    return store.connect(oauth_db[0])


@pytest.fixture(autouse=True)
def forget_consent(request):
    """Each test starts with no remembered consent (a person's or a staff user's), so it sees the consent page."""
    if "oauth_db" in request.fixturenames:
        db = store.connect(request.getfixturevalue("oauth_db")[0])
        with store.transaction(db):
            db.execute("UPDATE consent_grants SET revoked_at = 0 WHERE revoked_at IS NULL")
            db.execute("DELETE FROM staff_app_approvals")
        db.close()
