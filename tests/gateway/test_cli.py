"""The fhir-gateway command, driven the way an operator would."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from gateway import store
from gateway.cli import cli
from gateway.store import log_shards


def count_rows(db, table):
    """How many rows a table holds."""
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_every_command_has_help(runner):
    for args in (
        ["--help"],
        ["init", "--help"],
        ["load-demo", "--help"],
        ["generate", "--help"],
        ["serve", "--help"],
        ["demo", "--help"],
        ["token", "issue", "--help"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0 and "Usage" in result.output, args


def test_init_load_demo_and_token_issue(runner, new_db_path):
    db = new_db_path("cli")
    assert runner.invoke(cli, ["init", "--db", db]).exit_code == 0
    result = runner.invoke(cli, ["load-demo", "--db", db])
    assert result.exit_code == 0, result.output
    patient = store.chart_rows(store.connect(db), "patients")[0]["uid"]
    result = runner.invoke(cli, ["token", "issue", "--db", db, "--scope", "patient/*.rs", "--patient", patient])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    from smart_auth.tokens import authenticate

    assert authenticate(store.connect(db), token).patient_id == patient


def test_token_issue_refuses_bad_scopes_and_unknown_patients(runner, new_db_path):
    db = new_db_path("cli")
    runner.invoke(cli, ["init", "--db", db])
    for args in (
        ["--scope", "patient/*.sr", "--patient", "x"],
        ["--scope", "patient/*.rs"],
        ["--scope", "patient/*.rs", "--patient", "no-such-patient"],
    ):
        result = runner.invoke(cli, ["token", "issue", "--db", db, *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Error" in result.output


def test_generate_is_deterministic(runner, new_db_path):
    rows = []
    for name in ("a", "b"):
        db = new_db_path(name)
        result = runner.invoke(cli, ["generate", "--db", db, "--patients", "20", "--seed", "3"])
        assert result.exit_code == 0, result.output
        rows.append(store.chart_rows(store.connect(db), "patients"))
    assert rows[0] == [dict(r, updated_at=a["updated_at"]) for r, a in zip(rows[1], rows[0])]
    assert len(rows[0]) == 20


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_over_http(new_db_path):
    db, port = new_db_path("serve"), _free_port()
    store.connect(db)
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--db", db, "--port", str(port), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["implementation"]["url"] == f"http://127.0.0.1:{port}/fhir"
        assert requests.get(f"http://127.0.0.1:{port}/fhir/Patient", timeout=2).status_code == 401
    finally:
        server.terminate()
        server.wait(10)


def test_only_the_demo_command_serves_with_the_demo_flag(new_db_path, monkeypatch, runner):
    served = []
    monkeypatch.setattr("gateway.server.run", lambda config, *args: served.append(config))
    monkeypatch.setattr("gateway.demo_guide.guide", lambda *args: "guide")
    db = new_db_path("d")
    assert runner.invoke(cli, ["serve", "--db", db]).exit_code == 0
    assert runner.invoke(cli, ["demo", "--db", db]).exit_code == 0
    assert [config.get("DEMO") for config in served] == [None, True]


@pytest.mark.sqlite_only  # the workers' access-log files beside a SQLite database
def test_demo_reset_removes_the_workers_access_log_files_too(tmp_path, monkeypatch, runner):
    monkeypatch.setattr("gateway.server.run", lambda config, *args: None)
    monkeypatch.setattr("gateway.demo_guide.guide", lambda *args: "guide")
    db = str(tmp_path / "demo.db")
    store.connect(db).close()
    log = store.access_log_path(db)
    for name in ("1.claim", "1.db", "1.db-wal", "1.db-shm", "1.ingest", "1.0.journal", "1.7.journal", "8.3.journal"):
        open(log.replace(".db", f".{name}"), "w").close()
    shard_one = log_shards.shard_files(log)
    assert len([path for path in shard_one if os.path.exists(path)]) == 8
    assert runner.invoke(cli, ["demo", "--db", db, "--reset"]).exit_code == 0
    assert [path for path in shard_one if os.path.exists(path)] == []


def _killed_generate(path, patients, chunks_done, chunk_size):
    """What a killed ``generate`` leaves: its first chunks committed, and the search indexes it dropped."""
    import datetime as dt

    from fixtures import synthetic
    from gateway.store import bulk

    db = store.connect(path)
    practice_ids, provider_ids = synthetic.ensure_practices(db, "2026-11-24T12:00:00Z")
    chunks = synthetic.generate_chunks(
        patients,
        1,
        practice_ids,
        provider_ids,
        today=dt.date.today(),
        first_ids=store.next_ids(db, synthetic.TABLES),
        chunk_size=chunk_size,
        formulary=synthetic.practice_formulary(db, practice_ids, "2026-11-24T12:00:00Z"),
    )
    store.insert_chunks(db, [next(chunks) for _ in range(chunks_done)])
    if db.engine == "sqlite":  # only SQLite loads drop indexes (store/bulk.py)
        bulk._defer_indexes(db)  # killed before the indexes were built again
    return db


def test_generate_after_a_killed_run_resumes_where_it_stopped(new_db_path, runner, monkeypatch):
    from fixtures import synthetic

    monkeypatch.setattr(synthetic, "CHUNK", 4)
    clean = new_db_path("clean")
    assert runner.invoke(cli, ["generate", "--db", clean, "--patients", "10"]).exit_code == 0
    path = new_db_path("killed")
    db = _killed_generate(path, 10, 2, 4)
    assert count_rows(db, "patients") == 8
    result = runner.invoke(cli, ["generate", "--db", path, "--patients", "10"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Generated 2 patients (")
    assert result.output.rstrip().endswith("s; 8 more were already there (a resumed run)")
    uids = "SELECT uid FROM patients ORDER BY uid"
    assert db.execute(uids).fetchall() == store.connect(clean).execute(uids).fetchall()
    assert db.execute("SELECT count(*) FROM resources WHERE type = 'Patient'").fetchone()[0] == 10
    assert db.execute("SELECT count(*) FROM deferred_indexes").fetchone()[0] == 0


def test_generate_over_a_differently_chunked_partial_run_says_what_to_do(new_db_path, runner, monkeypatch):
    from fixtures import synthetic

    path = new_db_path("odd")
    _killed_generate(path, 10, 1, 3)
    monkeypatch.setattr(synthetic, "CHUNK", 4)
    result = runner.invoke(cli, ["generate", "--db", path, "--patients", "10"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: 3 of the 4 patients of one batch are already in the database (a run with "
        "other batch sizes?): generate into a new database or with another --seed\n"
    )
