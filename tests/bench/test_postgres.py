"""The bench's PostgreSQL: a durable throwaway cluster, loaded from the SQLite bench database by migrate-to-postgres's
copy, served by `fhir-gateway serve` whose CPU counts the backends; removed afterwards (the demo, not a benchmark)."""

import argparse
import contextlib
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys

import psycopg
import pytest

from bench import export, floor, report, run
from bench import postgres as bench_postgres
from gateway.store import moving, postgres
from tests import pg_cluster

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(pg_cluster.binaries() is None, reason="PostgreSQL is not installed (make postgres)")


@pytest.fixture(scope="module")
def bench_db(demo_db_path, tmp_path_factory):
    """A copy of the demo as the bench uses it: its patients with labs, and a token each (issued before the copy)."""
    path = str(tmp_path_factory.mktemp("bench-postgres") / "bench.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
        ids = floor.patients_with_labs(copy, 2)
    return path, ids, run.issue_tokens(path, ids)


@pytest.fixture(scope="module")
def loaded(bench_db):
    said = []
    with bench_postgres.loaded_cluster(bench_db[0], echo=said.append) as found:
        found.said = said
        yield found


def setting(url, name):
    with psycopg.connect(url) as conn:
        return conn.execute(f"SHOW {name}").fetchone()[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on"), ("shared_buffers", "2GB")],
)
def test_the_bench_cluster_is_durable_and_tuned(loaded, name, value):
    assert setting(loaded.url, name) == value


def test_the_loader_copies_the_whole_database_and_reports_its_rate(loaded, bench_db):
    assert moving.verify(bench_db[0], loaded.url) == []
    source = moving.connect(bench_db[0])
    tables = moving.tables(source)
    with psycopg.connect(loaded.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE fresh TEMPLATE template0 LOCALE 'C'")
    fresh = postgres.connect(loaded.url.rsplit("/", 1)[0] + "/fresh", definitions=False)
    try:  # rows a new schema seeds itself (the screening questionnaires) are not copied again
        rows = sum(source.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)
        seeded = sum(fresh.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)
    finally:
        postgres.close_pool(fresh.url)
    figures = loaded.load
    assert figures["rows"] == rows - seeded > 7000
    assert figures["rows_per_second"] == pytest.approx(
        figures["rows"] / figures["seconds"], rel=0.01
    )  # seconds: 2 places
    assert figures["version"].startswith(os.path.basename(os.path.dirname(pg_cluster.binaries())))
    assert loaded.said[-1].startswith(f"copied {figures['rows']:,} rows into PostgreSQL in ")


def test_the_loader_analyzes_so_that_no_autovacuum_runs_during_the_rounds(loaded):
    with psycopg.connect(loaded.url) as conn:
        never = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('resources', 'search_token', 'search_ref')"
            " AND (last_analyze IS NULL OR last_vacuum IS NULL)"
        ).fetchall()
    assert never == []


def test_the_postgres_gateway_serves_the_floors_resources_and_its_cpu_counts_the_backends(loaded, bench_db):
    path, ids, tokens = bench_db
    ports = [run.free_port() for _ in run.SERVERS]
    commands = run.serve_commands(path, ports, loaded)
    command, port, env, also = commands[3]
    assert command[command.index("--db") + 1] == loaded.url
    assert command[command.index("--workers") + 1] == "2"
    assert env["GATEWAY_SECRET_KEY"] == loaded.secret and also == (loaded.postmaster,)
    assert [c[3] for c in commands[:3]] == [(), (), ()]
    with run.server(*commands[1]) as bare, run.server(*commands[3]) as pg:
        backends = run.cpu_seconds(loaded.postmaster)
        for name, pattern in run.CASES:
            for i in ids:
                run.verify(name, pattern.format(id=i), f"Bearer {tokens[i]}", pg.port, bare.port)
        # /proc counts CPU in clock ticks (10 ms): one pass over the cases can stay inside one tick on a fast
        # host, so read on until the backends' figure moves (a few hundred reads at most) rather than by chance.
        for _ in range(200):
            if run.cpu_seconds(loaded.postmaster) > backends:
                break
            name, pattern = run.CASES[-1]  # $everything: the most statements per read
            run.verify(name, pattern.format(id=ids[0]), f"Bearer {tokens[ids[0]]}", pg.port, bare.port)
        assert run.cpu_seconds(loaded.postmaster) > backends
        assert run.cpu_seconds(pg.process.pid, loaded.postmaster) > run.cpu_seconds(pg.process.pid)
    assert pg.process.poll() is not None and bare.process.poll() is not None


def test_the_cluster_and_its_folder_are_removed_also_after_an_error():
    with pytest.raises(KeyError), bench_postgres.cluster() as started:
        folder, postmaster = started.folder, bench_postgres.postmaster_pid(started)
        assert os.path.exists(os.path.join(folder, "data", "postmaster.pid"))
        raise KeyError("a failing round")
    assert not os.path.exists(folder)
    assert not os.path.exists(f"/proc/{postmaster}") or open(f"/proc/{postmaster}/stat").read().split()[2] == "Z"


def test_without_initdb_the_bench_says_what_to_do(monkeypatch):
    monkeypatch.setattr(pg_cluster, "binaries", lambda: None)
    with pytest.raises(bench_postgres.PostgresMissing, match="make postgres.*--no-postgres"):
        with bench_postgres.cluster():
            pass


def test_no_postgres_serves_no_postgres_gateway():
    assert run.parse_args([]).postgres is True
    assert run.parse_args(["--no-postgres"]).postgres is False
    assert len(run.serve_commands("var/x.db", [1, 2, 3, 4])) == 3


ROUNDS = {  # port: (req/s, CPU ms per request) of the gateway, the floor, the gunicorn floor, the PostgreSQL gateway
    1: (1000.0, 1.0),
    2: (2000.0, 0.5),
    3: (1500.0, 0.6),
    4: (500.0, 2.5),
}


@pytest.fixture
def rounds(monkeypatch):
    """measure_case on four fake servers: no HTTP, each round's figures from ROUNDS (errors on demand)."""
    seen = argparse.Namespace(also={}, errors={})
    monkeypatch.setattr(run, "verify", lambda *args: None)
    monkeypatch.setattr(run, "wrk", lambda *args: None)

    def load_round(port, process, script, args, also=()):
        seen.also[port] = also
        rps, cpu = ROUNDS[port]
        result = {"rps": rps, "p50_ms": 2.0, "p99_ms": 9.0, "requests": int(rps * args.seconds)}
        return result | {"errors": seen.errors.get(port, 0), "cpu_ms_per_request": cpu}

    monkeypatch.setattr(run, "load_round", load_round)
    return seen


SERVED = [run.Served(port, None, (99,) if port == 4 else ()) for port in ROUNDS]
ARGS = argparse.Namespace(connections=16, seconds=2, rounds=3)


def test_a_case_gains_a_postgres_row_against_the_floor_and_the_sqlite_gateway(rounds, capsys):
    row = run.measure_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, SERVED, ARGS)
    assert rounds.also == {1: (), 2: (), 3: (), 4: (99,)}  # the postmaster's backends count for the PostgreSQL row
    assert row["postgres"]["rps"] == 500.0 and row["postgres"]["rounds_rps"] == [500.0] * 3
    assert (row["postgres_ratio"], row["postgres_ratio_sqlite"], row["postgres_cpu_ratio_sqlite"]) == (0.25, 0.5, 0.4)
    assert row["postgres_pass"] is True and row["ratio"] == 0.5
    run_ = {"postgres": {"version": "15.18", "workers": 2, "threads": 8, "rows": 7235, "seconds": 2.5}, "cases": [row]}
    run_["postgres"] |= {"rows_per_second": 2894.0, "verify_seconds": 0.1, "vacuum_analyze_seconds": 0.6}
    report.print_postgres(run_)
    out = capsys.readouterr().out
    assert "7,235 rows in 2.5 s = 2,894 rows/s" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("read Patient/X"))
    assert line.split() == ["read", "Patient/X", "500", "2.00", "9.00", "2.50", "0.25", "0.50", "0.40", "PASS"]


def test_an_error_on_the_postgres_gateway_fails_its_row_and_the_run(rounds, monkeypatch):
    rounds.errors[4] = 3
    row = run.measure_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, SERVED, ARGS)
    assert row["postgres_pass"] is False and row["postgres"]["errors"] == 9
    monkeypatch.setattr(run, "measure", lambda *args: {"cases": [row | {"pass": True}], "wide": []})
    monkeypatch.setattr(run, "print_run", lambda *args: None)
    monkeypatch.setattr(run, "write_results", lambda *args: None)
    assert run.main(["--no-postgres"]) == 1
    row["postgres_pass"] = True
    assert run.main(["--no-postgres"]) == 0


def test_without_postgres_a_case_has_no_postgres_row(rounds):
    row = run.measure_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, SERVED[:3], ARGS)
    assert not [key for key in row if key.startswith("postgres")]


def test_the_bulk_export_runs_on_postgres_beside_sqlite_and_reports_the_ratio(loaded, bench_db, tmp_path, capsys):
    path = str(tmp_path / "export.db")  # the SQLite side exports from a copy: its job rows stay out of bench_db
    with contextlib.closing(sqlite3.connect(bench_db[0])) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    runs = export.alternate(path, str(tmp_path), loaded, times=1)
    assert [run["outcome"] for run in runs["postgres"]] == ["done"]
    assert [(r["resources"], r["bytes"]) for r in runs["postgres"]] == [
        (r["resources"], r["bytes"]) for r in runs["export"]
    ]
    assert runs["floor"][0]["resources"] == runs["postgres"][0]["resources"] > 900
    export.report(argparse.Namespace(source=path, patients=None), runs, loaded)
    out = capsys.readouterr().out
    pg = runs["postgres"][0]
    ratio = (pg["resources"] / pg["seconds"]) / (runs["export"][0]["resources"] / runs["export"][0]["seconds"])
    assert f"ratio to the SQLite export {ratio:.2f}, to the floor " in out
    assert f"  postgres {pg['seconds']:7.2f} s" in out


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_bench_stops_and_removes_its_cluster(bench_db, tmp_path, signum):
    path = str(tmp_path / "interrupted.db")
    with contextlib.closing(sqlite3.connect(bench_db[0])) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    command = [sys.executable, "-m", "bench.run", "--db", path, "--rounds", "1", "--seconds", "1", "--wide", "0"]
    bench = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = next(ln for ln in bench.stdout if "PostgreSQL cluster (" in ln)  # "loading ... cluster (FOLDER) ..."
        folder = line.split("cluster (", 1)[1].split(")", 1)[0]
        assert os.path.isdir(folder)
        bench.send_signal(signum)
        _, err = bench.communicate(timeout=60)
    finally:
        bench.kill()
    assert bench.returncode == 1 and "bench: interrupted; servers and PostgreSQL cluster stopped" in err
    assert not os.path.exists(folder)
    assert subprocess.run(["pgrep", "-f", f"postgres -D {folder}/data"], check=False).returncode == 1
