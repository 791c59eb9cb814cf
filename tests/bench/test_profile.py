"""bench.profile: a timer per stage of an in-process request, whose stages add up to the whole request."""

import contextlib
import os
import sqlite3

import pytest

from bench import floor, profile
from bench.run import CASES, issue_tokens


@pytest.fixture(scope="module")
def bench_db(demo_db_path, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bench-profile") / "bench.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
        ids = floor.patients_with_labs(copy, 2)
    return path, ids, issue_tokens(path, ids)


def test_every_case_gets_every_stage_and_the_stages_add_up(bench_db):
    path, ids, tokens = bench_db
    profiles = profile.profile_cases(path, CASES, ids, tokens, 20, rounds=2)
    assert [p["case"] for p in profiles] == [name for name, _ in CASES]
    for row in profiles:
        assert list(row["stages_us"]) == list(profile.STAGES)
        assert (row["requests"], row["rounds"]) == (20, 2)
        assert all(value > 0 for value in row["stages_us"].values()), row
        assert row["total_us"] == pytest.approx(sum(row["stages_us"].values()), abs=0.1)
        assert row["unwrapped_us"] > 0


def test_the_profiled_requests_log_one_disclosure_each_as_a_server_worker_does(bench_db):
    from gateway import store
    from gateway.store import log_shards

    path, ids, tokens = bench_db
    log = store.connect(path)  # a reader's connection: the main log and every shard
    log_shards.readable(log)  # moves what the journals hold into the shards
    before = log.execute("SELECT count(*) FROM disclosures WHERE id > ?", (log_shards.SPAN,)).fetchone()[0]
    profile.profile_cases(path, CASES[:1], ids, tokens, 10, rounds=3)
    log_shards.readable(log)
    # 2 warm-up requests (one per patient) + 3 rounds of 10 bare and 10 timed, all in a shard's journal
    assert log.execute("SELECT count(*) FROM disclosures WHERE id > ?", (log_shards.SPAN,)).fetchone()[0] - before == 62
    assert os.path.exists(log_shards.shard_path(store.access_log_path(path), 1, ".claim"))


def test_the_timers_are_put_back():
    from gateway import disclosures
    from smart_auth import tokens as token_module

    with profile.instrumented(profile.StageClock()):
        assert hasattr(disclosures.log_api_read, "__wrapped__")
        assert hasattr(token_module.authenticate, "__wrapped__")
    assert not hasattr(disclosures.log_api_read, "__wrapped__")
    assert not hasattr(token_module.authenticate, "__wrapped__")


def test_a_failing_request_fails_the_profile(bench_db):
    path, ids, _ = bench_db
    with pytest.raises(RuntimeError, match="profiled requests failed, e.g. 401"):
        profile.profile_cases(path, CASES[:1], ids, dict.fromkeys(ids, "not-a-token"), 3, rounds=1)
