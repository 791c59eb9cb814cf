"""gateway/store/log_journal.py: a worker's read rows go to a journal file and from there, exactly once, into its
log shard (a mover's round or a reader's look), across a line still being written, a line a full disk cut short,
the file's rotation and a crash in the middle of it."""

import contextlib
import logging
import os
import sqlite3
import threading
import time

import pytest

from gateway.store import log_journal, log_shards

pytestmark = pytest.mark.sqlite_only  # the access log's own SQLite files (PostgreSQL has one table)

FLOOR = 3 * log_shards.SPAN


@pytest.fixture
def shard(tmp_path):
    path = str(tmp_path / "a.access-log.3.db")
    log_shards._create_table(path)
    return path


def _rows(shard):
    with contextlib.closing(sqlite3.connect(shard)) as conn:
        return conn.execute(
            "SELECT id, at, patient_id, kind, client_id, actor, what, count FROM disclosures"
        ).fetchall()


def _append_raw(shard, generation, data):
    with open(log_journal.journal_path(shard, generation), "ab") as journal:
        journal.write(data)


def test_an_appended_read_is_a_line_until_moved_then_a_row_once(shard):
    journal = log_journal.Journal(shard, FLOOR)
    journal.append(1000, "p1", "app", "acct", "Patient", 1)
    journal.append(1001, "p2", None, None, "Condition", 4)
    assert _rows(shard) == []
    assert log_journal.ingest(shard, FLOOR) == 0
    assert log_journal.ingest(shard, FLOOR) == 0  # nothing new: nothing moved twice
    assert _rows(shard) == [
        (FLOOR + 1, 1000, "p1", "read", "app", "acct", "Patient", 1),
        (FLOOR + 2, 1001, "p2", "read", None, None, "Condition", 4),
    ]


def test_a_line_still_being_written_waits_for_its_newline(shard):
    journal = log_journal.Journal(shard, FLOOR)
    journal.append(1000, "p1", "app", None, "Patient", 1)
    _append_raw(shard, 0, b'\n[1001,"p1","app",null,"Obser')  # a write another process has half done
    log_journal.ingest(shard, FLOOR)
    assert [row[1] for row in _rows(shard)] == [1000]
    _append_raw(shard, 0, b'vation",2]\n')
    log_journal.ingest(shard, FLOOR)
    assert [(row[0], row[1], row[6]) for row in _rows(shard)] == [
        (FLOOR + 1, 1000, "Patient"),
        (FLOOR + 2, 1001, "Observation"),
    ]


def test_a_line_a_full_disk_cut_short_is_skipped_and_spoils_no_other(shard, caplog):
    journal = log_journal.Journal(shard, FLOOR)
    _append_raw(shard, 0, b'\n[1000,"p1","app",null,"Pat')  # write() returned short: that request failed
    journal.append(1001, "p1", "app", None, "Condition", 3)
    with caplog.at_level(logging.ERROR):
        log_journal.ingest(shard, FLOOR)
    assert [(row[1], row[6]) for row in _rows(shard)] == [(1001, "Condition")]
    assert "skipped a line cut short" in caplog.text


def test_a_short_write_fails_the_request(shard, monkeypatch):
    journal = log_journal.Journal(shard, FLOOR)
    monkeypatch.setattr(log_journal.os, "write", lambda fd, data: len(data) - 5)
    with pytest.raises(OSError, match="wrote"):
        journal.append(1000, "p1", "app", None, "Patient", 1)


def test_past_its_size_the_owner_rotates_the_file_and_deletes_the_old_one(shard, monkeypatch):
    monkeypatch.setattr(log_journal, "ROTATE_BYTES", 100)
    journal = log_journal.Journal(shard, FLOOR)
    for at in range(1000, 1004):
        journal.append(at, "p1", "app", None, "Patient", 1)
    journal.move()
    assert journal.generation == 1
    assert not os.path.exists(log_journal.journal_path(shard, 0))
    journal.append(1004, "p1", "app", None, "Patient", 1)
    assert os.path.getsize(log_journal.journal_path(shard, 1)) > 0
    journal.move()  # under the size: moves, no rotation
    assert journal.generation == 1
    assert [(row[0], row[1]) for row in _rows(shard)] == [(FLOOR + 1 + i, 1000 + i) for i in range(5)]


def test_a_rotation_keeps_writers_waiting_only_for_the_lines_since_the_last_move(shard, monkeypatch):
    """Writers wait on the lock while the rotating move commits (synchronous=FULL): the lines already there are moved
    before it is taken (3,000 pending lines held the writers 16 ms, now 1.5 ms: the commit's fsync)."""
    monkeypatch.setattr(log_journal, "ROTATE_BYTES", 100)
    journal = log_journal.Journal(shard, FLOOR)
    for at in range(1000, 1010):
        journal.append(at, "p1", "app", None, "Patient", 1)
    moved_before_the_lock, ingest = [], log_journal.ingest

    def watched(path, floor, rotate=False):
        if rotate:
            assert journal.lock.locked()
            moved_before_the_lock.append(len(_rows(path)))
        return ingest(path, floor, rotate)

    monkeypatch.setattr(log_journal, "ingest", watched)
    journal.move()
    assert moved_before_the_lock == [10]
    assert (journal.generation, len(_rows(shard))) == (1, 10)


def test_an_old_generation_left_by_a_crash_after_the_rotation_is_deleted_unread(shard):
    journal = log_journal.Journal(shard, FLOOR)
    journal.append(1000, "p1", "app", None, "Patient", 1)
    with contextlib.closing(sqlite3.connect(shard)) as conn:  # rotated and committed, file not yet deleted
        with conn:
            conn.execute(
                "INSERT INTO disclosures (id, at, patient_id, kind, what) VALUES (?, 1000, 'p1', 'read', 'x')",
                (FLOOR + 1,),
            )
            conn.execute("UPDATE journal SET generation = 1, moved = 0")
    assert log_journal.ingest(shard, FLOOR) == 1
    assert not os.path.exists(log_journal.journal_path(shard, 0))
    assert [row[0] for row in _rows(shard)] == [FLOOR + 1]


def test_a_new_owner_moves_what_the_last_one_left(shard):
    old = log_journal.Journal(shard, FLOOR)
    old.append(1000, "p1", "app", None, "Patient", 1)
    old.close()  # the worker ended (or was killed) before its mover's round
    new = log_journal.Journal(shard, FLOOR)
    assert [row[1] for row in _rows(shard)] == [1000]
    new.append(1001, "p1", "app", None, "Patient", 1)
    new.move()
    assert [row[0] for row in _rows(shard)] == [FLOOR + 1, FLOOR + 2]


def test_threads_appending_while_readers_and_the_mover_move_lose_and_double_nothing(shard, monkeypatch):
    monkeypatch.setattr(log_journal, "ROTATE_BYTES", 4096)  # a rotation every ~60 lines
    journal = log_journal.Journal(shard, FLOOR)
    done = threading.Event()

    def append(n):
        for i in range(400):
            journal.append(n * 1000 + i, f"p{n}", "app", None, "Patient", 1)
            if i % 40 == 0:
                time.sleep(0.005)  # let the movers in while the writing goes on

    def move(rotate):
        while not done.is_set():
            journal.move() if rotate else log_journal.ingest(shard, FLOOR)

    movers = [threading.Thread(target=move, args=(rotate,)) for rotate in (True, False)]
    writers = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in movers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in movers:
        thread.join()
    journal.move()
    rows = _rows(shard)
    assert sorted(row[1] for row in rows) == sorted(n * 1000 + i for n in range(4) for i in range(400))
    assert [row[0] for row in rows] == [FLOOR + 1 + i for i in range(1600)]
    assert journal.generation >= 2  # rotated while the threads wrote, not only at the last move


def test_a_long_backlog_moves_in_bounded_transactions_and_whole(shard, monkeypatch):
    journal = log_journal.Journal(shard, FLOOR)
    for at in range(1000, 1050):
        journal.append(at, "p1", "app", None, "Patient", 1)
    monkeypatch.setattr(log_journal, "READ_BYTES", 200)  # about 4 lines a transaction
    moves = []
    real = log_journal._move
    monkeypatch.setattr(log_journal, "_move", lambda conn, *args: moves.append(args[2]) or real(conn, *args))
    log_journal.ingest(shard, FLOOR)
    assert [row[1] for row in _rows(shard)] == list(range(1000, 1050))
    assert len(moves) >= 10 and max(len(chunk) for chunk in moves) <= 200
