"""bench.oauth's in-process parts: minting credentials through the real endpoints, and timing the access check."""

import contextlib
import sqlite3

import pytest

from bench import floor, oauth
from bench.run import CASES


@pytest.fixture(scope="module")
def minter(demo_db_path, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bench-oauth") / "bench.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
        ids = floor.patients_with_labs(copy, 3)
    return oauth.Minter(path, "http://127.0.0.1:1", ids)


def test_minted_codes_and_refresh_tokens_work_once(minter):
    [form] = minter.code_exchanges(1)
    assert minter.web.post("/oauth/token", data=form).status_code == 200
    assert minter.web.post("/oauth/token", data=form).status_code == 400
    [refresh] = minter.refreshes(1)
    assert minter.web.post("/oauth/token", data=refresh).status_code == 200


def test_access_share_times_the_check_inside_each_read(minter):
    tokens = minter.access_tokens()
    assert len(tokens) == 3
    name, pattern = CASES[0]
    row = oauth.access_share(minter.app, name, pattern, tokens, 30, served_cpu_ms=1.0)
    assert 0 < row["access_check_ms"] < row["read_ms"]
    assert 0 < row["share_of_wsgi"] < 1 and row["share_of_served"] == pytest.approx(
        row["access_check_ms"], abs=6e-4
    )  # both rounded
