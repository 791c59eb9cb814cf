"""`fhir-gateway migrate-to-postgres`: a SQLite gateway copied whole into PostgreSQL, verified, and restartable."""

import pytest

from gateway import store
from gateway.cli import cli
from gateway.store import accounts as account_store
from gateway.store import disclosures, log_shards, moving, postgres
from smart_auth import accounts
from smart_auth.tokens import issue_access_token
from tests import chart

# the source is a SQLite file by definition, the target this run's own cluster: the SQLite pass runs it once
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def source(tmp_path):
    path = str(tmp_path / "gateway.db")
    db = store.connect(path)
    chart.build(db)
    account = accounts.create_account(db, "ana@example.com", "Secret-Pass1", name="Ana", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    patient = store.chart_rows(db, "patients")[0]["uid"]
    issue_access_token(db, "test-client", "patient/*.rs", patient)
    disclosures.insert_disclosure(
        db, {"at": 1, "patient_id": patient, "kind": "download", "what": "record", "count": 3}
    )
    account_store.record_attempt(db, "login:x", 100)
    return path


def _all(db, sql):
    return db.execute(sql).fetchall()


def test_the_copy_has_every_row_and_the_same_stored_fhir(source, postgres_cluster, runner):
    url = postgres_cluster.database()
    result = runner.invoke(cli, ["migrate-to-postgres", "--from", source, "--to", url])
    assert result.exit_code == 0, result.output
    assert "Verified: every table's row count and each resource type's FHIR checksum match." in result.output
    lite, pg = store.connect(source), store.connect(url)
    for sql in (
        "SELECT pk, type, id, version, json FROM resources ORDER BY pk",
        "SELECT * FROM search_token ORDER BY pk, param, code, system",
        "SELECT id, uid, email FROM accounts ORDER BY id",
        "SELECT token_hash, scope, patient_id FROM access_tokens ORDER BY token_hash",
        "SELECT id, patient_id, kind, what FROM disclosures ORDER BY id",
    ):
        assert _all(pg, sql) == _all(lite, sql), sql
    assert _all(pg, "SELECT count(*) FROM attempts") == [(0,)]  # counters of the last minutes, not records
    assert moving.fhir_checksums(pg) == moving.fhir_checksums(lite)
    # PostgreSQL numbers the next account after the copied ones.
    later = accounts.create_account(pg, "bo@example.com", "Secret-Pass1", name="Bo", confirmed=True)
    assert later["id"] == _all(lite, "SELECT max(id) FROM accounts")[0][0] + 1


def test_the_copy_takes_the_read_rows_of_every_workers_log_shard(source, postgres_cluster, runner):
    from tests.gateway.test_log_shards import workers

    with workers(source, 1000, 2000):  # two server workers, each logging a read in a file of its own
        pass
    url = postgres_cluster.database()
    result = runner.invoke(cli, ["migrate-to-postgres", "--from", source, "--to", url])
    assert result.exit_code == 0, result.output
    lite, pg = store.connect(source), store.connect(url)
    log_shards.readable(lite)
    sql = "SELECT id, kind, client_id FROM disclosures ORDER BY id"
    assert _all(pg, sql) == _all(lite, sql)
    assert [row[1:] for row in _all(pg, sql)] == [("download", None), ("read", "app-1000"), ("read", "app-2000")]


def test_a_copy_stopped_part_way_runs_again_to_the_same_result(source, postgres_cluster):
    url = postgres_cluster.database()
    batches = []

    def stop_in_resources(table, done, total):
        batches.append(table)
        if table == "resources" and done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        moving.copy_to_postgres(source, url, batch=2, progress=stop_in_resources)
    # Looked at as the copy sees it: a gateway started on a half-copied database would add its own forms.
    partial = postgres.connect(url, definitions=False).execute("SELECT count(*) FROM resources").fetchone()[0]
    assert partial == 4
    assert moving.verify(source, url) != []
    copied = moving.copy_to_postgres(source, url, batch=2)
    total = store.connect(source).execute("SELECT count(*) FROM resources").fetchone()[0]
    assert copied["resources"] == total - 4  # continued after the last copied pk
    assert moving.verify(source, url) == []
    assert moving.copy_to_postgres(source, url)["resources"] == 0  # a third run finds nothing left


def test_a_difference_is_reported_and_fails_the_command(source, postgres_cluster, runner):
    url = postgres_cluster.database()
    assert runner.invoke(cli, ["migrate-to-postgres", "--from", source, "--to", url]).exit_code == 0
    store.connect(url).execute("UPDATE resources SET json = ? WHERE pk = 1", (b"{}",))
    rtype = store.connect(url).execute("SELECT type FROM resources WHERE pk = 1").fetchone()[0]
    result = runner.invoke(cli, ["migrate-to-postgres", "--from", source, "--to", url])
    assert result.exit_code == 1
    assert f"DIFFERS {rtype} checksum" in result.output
    assert "Error: the copy differs from the source (see above): run the command again" in result.output


def test_bad_arguments_are_refused(source, tmp_path, runner):
    result = runner.invoke(cli, ["migrate-to-postgres", "--from", source, "--to", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "must be a postgresql:// URL" in result.output
    missing = str(tmp_path / "missing.db")
    result = runner.invoke(cli, ["migrate-to-postgres", "--from", missing, "--to", "postgresql://h/db"])
    assert result.exit_code == 2 and f"no SQLite database at {missing}" in result.output


def test_copy_in_keeps_every_value_as_stored_and_skips_rows_already_there(postgres_cluster):
    """COPY's text format escapes tabs, newlines, backslashes and its own NULL marker; none may change a value."""
    db = postgres.connect(postgres_cluster.database(), definitions=False)
    columns = ["pk", "type", "id", "patient_id", "practice_id", "version", "last_updated", "last_updated_ms"]
    columns += ["deleted", "source_table", "source_id", "json"]
    awkward = "tab\there, new\nline, back\\slash, \\N, quote ' and \", é, 😀"
    body = b'{"text":"' + awkward.encode() + b'"}\x00\xff'
    row = [9001, "Basic", "awkward", None, awkward, 2, "2026-11-30T00:00:00Z", 1, 0, "chart", 7, body]
    db.copy_in("resources", columns, [row])
    again = [9001, "Basic", "awkward", None, "changed", 3, "x", 2, 1, "chart", 8, b"{}"]  # same pk: skipped
    db.copy_in("resources", columns, [again, [9002, *row[1:2], "second", *row[3:]]])
    found = db.execute(f"SELECT {', '.join(columns)} FROM resources WHERE pk > 9000 ORDER BY pk").fetchall()
    assert [list(r[:-1]) + [bytes(r[-1])] for r in found] == [row, [9002, "Basic", "second", *row[3:]]]
