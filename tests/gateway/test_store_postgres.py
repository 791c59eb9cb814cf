"""The PostgreSQL store (gateway/store/postgres.py): engine selection, the statement translation, one schema for both
engines, and the handle's promise. These run on a throwaway cluster (tests/pg_cluster.py) whatever ``--store`` says."""

import sqlite3

import pytest

from gateway import config as config_module
from gateway import store
from gateway.store import accounts, migrations, oauth, postgres
from gateway.store.postgres_schema import BASELINE_COVERS


def test_translate_placeholders_percent_and_sqlite_only_syntax():
    assert postgres.translate("SELECT * FROM t WHERE a = ? AND b LIKE '% x?%' AND c = :now") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE '%% x?%%' AND c = %(now)s"
    )
    assert (
        postgres.translate("SELECT value FROM json_each(?)") == "SELECT value FROM json_array_elements_text(%s::json)"
    )
    assert postgres.translate("SELECT pk FROM resources r NOT INDEXED WHERE x") == "SELECT pk FROM resources r  WHERE x"
    assert postgres.translate("SELECT 1 FROM resources r INDEXED BY resources_patient") == "SELECT 1 FROM resources r "


def test_translate_is_cached_per_statement_text():
    postgres.translate.cache_clear()
    for _ in range(3):
        postgres.translate("SELECT ? + ?")
    assert postgres.translate.cache_info().misses == 1
    assert postgres.translate.cache_info().hits == 2


def test_a_url_selects_postgres_and_a_path_stays_sqlite(tmp_path):
    assert postgres.is_url("postgresql://u@127.0.0.1:5432/db") is True
    assert postgres.is_url(str(tmp_path / "gateway.db")) is False
    settings = config_module.load({"SECRET_KEY": "s"}, environ={"GATEWAY_DATABASE_URL": "postgresql://h/db"})
    assert settings["DB"] == "postgresql://h/db"


def test_database_url_must_be_postgres_and_needs_a_secret_key():
    with pytest.raises(config_module.ConfigError, match="must be a postgresql:// URL"):
        config_module.load({"SECRET_KEY": "s"}, environ={"GATEWAY_DATABASE_URL": "var/gateway.db"})
    with pytest.raises(config_module.ConfigError, match="GATEWAY_SECRET_KEY must be set with a PostgreSQL database"):
        config_module.load(environ={"GATEWAY_DATABASE_URL": "postgresql://h/db"})


def test_later_migrations_carry_postgres_statements():
    """The baseline covers the first migrations; every one after it names its PostgreSQL statements too."""
    assert [name for name, *_ in migrations.MIGRATIONS[BASELINE_COVERS - 1 : BASELINE_COVERS]] == [
        "caregivers the patient invites"
    ]
    assert [entry[0] for entry in migrations.MIGRATIONS[BASELINE_COVERS:] if len(entry) != 3] == []


def _columns_sqlite(db):
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    found = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables if not t.startswith("sqlite_")}
    found["disclosures"] = [r[1] for r in db.execute("PRAGMA access_log.table_info(disclosures)")]
    return found


def _columns_postgres(db):
    found = {}
    for table, column in db.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema IN ('public', 'access_log')"
        " ORDER BY table_name, ordinal_position"
    ):
        if column != "rowid":  # attempts and export_files: SQLite's implicit rowid, made explicit
            found.setdefault(table, []).append(column)
    return found


def test_both_engines_have_the_same_tables_and_columns(postgres_cluster):
    pg = store.connect(postgres_cluster.database())
    lite = store.connect(":memory:")
    found = _columns_postgres(pg)
    assert found.pop("read_floors") == ["person", "lsn"]  # replicas' bookkeeping: a SQLite gateway has none
    assert found == _columns_sqlite(lite)
    assert pg.execute("SELECT max(version) FROM schema_version").fetchone()[0] == len(migrations.MIGRATIONS)


def test_connect_twice_migrates_once(postgres_cluster):
    url = postgres_cluster.database()
    store.connect(url)
    db = store.connect(url)
    assert db.execute("SELECT count(*), max(version) FROM schema_version").fetchone() == (
        1 + len(migrations.MIGRATIONS) - BASELINE_COVERS,
        len(migrations.MIGRATIONS),
    )


def test_a_database_that_does_not_collate_as_c_is_refused(postgres_cluster):
    """Search ranges compare text byte by byte, as SQLite does; ICU's root collation (any machine has it) does not."""
    import psycopg

    with psycopg.connect(postgres_cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE collated_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C'")
    with pytest.raises(RuntimeError, match="does not compare text byte by byte"):
        store.connect(postgres_cluster.url("collated_icu"))


def test_transaction_rolls_back_as_a_whole(postgres_cluster):
    db = store.connect(postgres_cluster.database())
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction(db):
            accounts.record_attempt(db, "k", 100)
            raise RuntimeError("boom")
    assert accounts.attempts_since(db, "k", 0) == (0, None)
    with store.transaction(db):
        first = accounts.record_attempt(db, "k", 100)
        with store.transaction(db):  # joined, not nested
            second = accounts.record_attempt(db, "k", 101)
    assert second == first + 1
    assert db.execute("SELECT key, at FROM attempts ORDER BY rowid").fetchall() == [("k", 100), ("k", 101)]


def test_insert_returns_ids_and_conflicts_are_ignored_or_refused(postgres_cluster):
    db = store.connect(postgres_cluster.database())
    assert oauth.remember_assertion(db, "c", "jti-1", 2_000_000_000, 1_000) is True
    assert oauth.remember_assertion(db, "c", "jti-1", 2_000_000_000, 1_000) is False
    one = accounts.insert_account(db, "u1", "Ann@Example.org", "h", "Ann", None, None, "2026-01-01")
    with pytest.raises(store.errors.IntegrityError):
        accounts.insert_account(db, "u2", "ann@example.ORG", "h", "Ann", None, None, "2026-01-01")  # NOCASE
    assert accounts.account_by_email(db, "ANN@example.org")["id"] == one


def test_the_stored_fhir_is_bytes_on_both_engines(postgres_cluster, tmp_path):
    from tests import chart

    for path in (postgres_cluster.database(), str(tmp_path / "c.db")):
        db = store.connect(path)
        chart.build(db)
        row = db.execute("SELECT json FROM resources WHERE type = 'Patient' ORDER BY pk LIMIT 1").fetchone()
        assert type(row[0]) is bytes, path


def test_sqlite_handles_stay_plain_connections(tmp_path):
    """The read path on SQLite runs sqlite3's own execute, with no wrapper (bench/ measures it)."""
    db = store.connect(str(tmp_path / "g.db"))
    assert isinstance(db, sqlite3.Connection)
    assert type(db).execute is sqlite3.Connection.execute


def test_a_forked_child_never_touches_its_parents_connections(postgres_cluster):
    """granian forks its workers: a child opens connections of its own (the pool is the process's, keyed by pid),
    and collecting the pool it inherited leaves the parent's sessions working."""
    import gc
    import os

    url = postgres_cluster.database()
    db = store.connect(url)
    parent_backend = db.execute("SELECT pg_backend_pid()").fetchone()[0]
    pid = os.fork()
    if pid == 0:  # the child: its own connections, then drop everything it inherited, then exit
        code = 0
        try:
            child_backend = store.current(url).execute("SELECT pg_backend_pid()").fetchone()[0]
            code = 0 if child_backend != parent_backend else 3
            postgres._pools.clear()
            gc.collect()
        except BaseException:
            code = 4
        os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0
    assert db.execute("SELECT 1").fetchone() == (1,)
    for _ in range(3):  # every pooled connection of the parent still works
        with db.transaction():
            assert db.execute("SELECT 2").fetchone() == (2,)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_broken_constraint_is_named_in_the_same_words_on_both_engines(engine, postgres_cluster, tmp_path):
    from gateway.store.errors import ChartError
    from tests import chart

    db = store.connect(postgres_cluster.database() if engine == "postgres" else str(tmp_path / "c.db"))
    chart.build(db)
    patient = store.chart_rows(db, "patients")[0]
    cases = [
        ({"patient_id": 999_999, "description": "x"}, "diagnoses: FOREIGN KEY constraint failed"),
        ({"patient_id": patient["id"]}, "diagnoses: NOT NULL constraint failed: diagnoses.description"),
        (
            {"patient_id": patient["id"], "description": "x", "uid": store.chart_rows(db, "diagnoses")[0]["uid"]},
            "diagnoses: UNIQUE constraint failed: diagnoses.uid",
        ),
    ]
    for row, message in cases:
        with pytest.raises(ChartError) as caught:
            store.insert_rows(db, "diagnoses", [row])
        assert caught.value.message == message


def test_the_cli_prints_a_database_url_without_its_password(postgres_cluster, runner):
    from gateway.cli import cli

    assert (
        postgres.shown("postgresql://gw:s3cret@db.internal:5432/gateway")
        == "postgresql://gw:***@db.internal:5432/gateway"
    )
    assert postgres.shown("postgresql://gw@db.internal/gateway") == "postgresql://gw@db.internal/gateway"
    assert postgres.shown("var/gateway.db") == "var/gateway.db"
    url = postgres_cluster.database().replace("postgres@", "postgres:unused@")  # trust authentication ignores it
    result = runner.invoke(cli, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    assert result.output == f"Database ready: {url.replace(':unused@', ':***@')}\n"
