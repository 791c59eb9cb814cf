"""bench.tail and bench.gil: the serving settings' effect on the tail, by wrk against real servers and in-process."""

import argparse
import contextlib
import sqlite3
import sys
import threading

import pytest

from bench import floor, gil, profile, tail
from bench.run import issue_tokens


@pytest.fixture(scope="module")
def bench_db(demo_db_path, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bench-tail") / "bench.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
        ids = floor.patients_with_labs(copy, 2)
    return path, ids, issue_tokens(path, ids)


def logged(path):
    with contextlib.closing(sqlite3.connect(path.replace(".db", ".access-log.db"))) as log:
        return log.execute("SELECT count(*) FROM disclosures").fetchone()[0]


@pytest.mark.parametrize("threads", [1, 3])
def test_a_replay_serves_every_request_it_counts_through_the_gateway_and_ends_its_threads(bench_db, threads):
    path, ids, tokens = bench_db
    app = profile.worker_app(path)
    environs = [profile.environ_for(f"/fhir/Patient/{i}/$everything", f"Bearer {tokens[i]}") for i in ids]
    before, running = logged(path), threading.active_count()
    row = gil.replay(app, environs, threads, 2, 0.3, switch=0.001)
    assert row["requests"] > 0
    assert logged(path) - before >= row["requests"]  # each one a real 200 with its disclosure row
    assert 0 < row["p50_ms"] <= row["p99_ms"]
    assert threading.active_count() == running
    assert sys.getswitchinterval() == pytest.approx(0.005)  # put back


def test_a_replay_refuses_to_count_failed_requests(bench_db):
    path, ids, _ = bench_db
    app = profile.worker_app(path)
    environs = [profile.environ_for(f"/fhir/Patient/{ids[0]}/$everything", "Bearer not-a-token")]
    with pytest.raises(RuntimeError, match="401"):
        gil.replay(app, environs, 1, 1, 0.1)


def test_the_settings_take_turns_and_the_median_round_counts(monkeypatch):
    order = []
    rps = iter([10, 50, 30, 20, 40, 60])

    def load_round(port, process, script, args):
        order.append(port)
        return {"rps": next(rps), "p50_ms": 1.0, "p99_ms": 2.0, "requests": 9, "errors": 0}

    monkeypatch.setattr(tail, "wrk", lambda port, script, connections, seconds: None)
    monkeypatch.setattr(tail, "load_round", load_round)
    rows = tail.measure([(1, None), (2, None)], "script", 16, argparse.Namespace(rounds=3, seconds=1))
    assert order == [1, 2, 2, 1, 1, 2]
    assert [row["rps"] for row in rows] == [20, 50]  # 1 ran 10, 20, 40; 2 ran 50, 30, 60
    assert [len(row["rounds"]) for row in rows] == [3, 3]
