"""Bulk writes map rows in worker processes; the result must equal the one-process projection."""
import orjson
import pytest

from fixtures import synthetic
from gateway import store
from gateway.errors import ChartError
from gateway.store import projection


def projected(db):
    rows = db.conn.execute("SELECT type, id, version, json FROM resources ORDER BY type, id").fetchall()
    out = []
    for rtype, rid, version, body in rows:
        resource = orjson.loads(body)
        resource["meta"].pop("lastUpdated", None)
        out.append((rtype, rid, version, resource))
    index = [db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
             for t in ("search_token", "search_date", "search_string", "search_ref")]
    return out, index


def test_parallel_projection_equals_serial(tmp_path, monkeypatch):
    serial = store.connect(str(tmp_path / "serial.db"))
    synthetic.generate(serial, 15, 4)
    monkeypatch.setattr(projection, "PARALLEL_MIN", 1)
    monkeypatch.setattr(projection, "PARALLEL_CHUNK", 7)
    parallel = store.connect(str(tmp_path / "parallel.db"))
    synthetic.generate(parallel, 15, 4)
    assert projected(parallel) == projected(serial)


def test_errors_in_workers_reach_the_writer_and_roll_back(tmp_path, monkeypatch):
    monkeypatch.setattr(projection, "PARALLEL_MIN", 1)
    from tests import chart

    db = store.connect(str(tmp_path / "p.db"))
    chart.build(db)
    before = db.conn.execute("SELECT count(*) FROM diagnoses").fetchone()[0]
    with pytest.raises(ChartError, match="cannot become a Condition"):
        store.insert_rows(db, "diagnoses", [{"patient_id": 1, "description": "x", "status": "bogus"}])
    assert db.conn.execute("SELECT count(*) FROM diagnoses").fetchone()[0] == before
