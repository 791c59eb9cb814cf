"""The shared fixtures themselves: each named database holds what its name says, and make_app builds on it."""

import psycopg
import pytest

from gateway import store
from smart_auth import accounts


def count(path, table, column="*"):
    conn = store.connect(path)
    try:
        return conn.execute(f"SELECT count({column}) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_a_fresh_demo_database_is_a_writable_copy_that_leaves_the_shared_one_alone(demo_db_path, fresh_demo_db_path):
    patients = count(demo_db_path, "patients")
    assert patients > 0 and count(fresh_demo_db_path, "patients") == patients
    conn = store.connect(fresh_demo_db_path)
    with store.transaction(conn):
        conn.execute("UPDATE patients SET phone = NULL")
    conn.close()
    assert count(demo_db_path, "patients", "phone") > 0 and count(fresh_demo_db_path, "patients", "phone") == 0


def test_the_empty_database_has_the_schema_and_no_rows(empty_db_path):
    assert count(empty_db_path, "patients") == count(empty_db_path, "practices") == 0


def test_make_app_builds_on_the_demo_database_unless_given_another(make_app, demo_db_path, chart_db_path):
    assert make_app().config["DB"] == demo_db_path
    app = make_app(chart_db_path, TIMEZONE="UTC")
    assert (app.config["DB"], app.config["BASE_URL"], app.config["TIMEZONE"]) == (
        chart_db_path,
        "http://gateway.test",
        "UTC",
    )


def test_the_suite_hashes_passwords_cheaply():
    assert accounts.hash_password("Secret-Pass1").startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_new_databases_are_distinct_empty_and_on_the_runs_engine(new_db_path, demo_db_path, pg_cluster):
    first, second = new_db_path("x"), new_db_path("x")
    assert first != second
    assert store.postgres.is_url(first) is (pg_cluster is not None)
    assert count(first, "patients") == 0 and count(second, "patients") == 0
    copy = new_db_path("copy", copy_of=demo_db_path)
    assert count(copy, "patients") == count(demo_db_path, "patients") > 0


def test_a_tests_new_postgresql_databases_are_dropped_after_it(pg_cluster, tmp_path):
    if pg_cluster is None:
        # Must skip on the SQLite pass: there is no cluster to drop databases in. make test's PostgreSQL pass runs it.
        pytest.skip("no PostgreSQL cluster on the SQLite pass; make test's PostgreSQL pass runs it")  # must skip
    from tests.conftest import NewDatabases

    databases = NewDatabases(lambda: tmp_path, pg_cluster)
    url = databases()
    store.connect(url)
    databases.drop_all()
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        name = url.rsplit("/", 1)[1]
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone() == (0,)
