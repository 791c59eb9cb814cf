"""bench.run's wide mode: each case at --wide connections against the gateway (judged on errors and p99), then
against the granian floor the same way, with the mean latency Little's law sets at each one's throughput."""

import argparse

import pytest

from bench import report, run


@pytest.fixture
def loads(monkeypatch):
    calls = []
    monkeypatch.setattr(
        run, "wrk", lambda port, script, connections, seconds: calls.append(("warm", port, connections))
    )

    def load_round(port, process, script, args):
        calls.append(("round", port, args.connections, args.seconds))
        return dict(loads.results[port])

    loads = argparse.Namespace(calls=calls, results={})
    monkeypatch.setattr(run, "load_round", load_round)
    return loads


ARGS = argparse.Namespace(wide=256, seconds=7)
GATEWAY, FLOOR = (1, None), (2, None)


def result(rps, p99, errors=0):
    return {"rps": rps, "p50_ms": 20.0, "p99_ms": p99, "requests": int(rps * 7), "errors": errors}


def test_a_wide_case_warms_up_then_runs_one_round_at_the_wide_connections(loads):
    loads.results[1] = result(2560.0, 99.9)
    row = run.wide_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, GATEWAY, ARGS)
    assert loads.calls == [("warm", 1, 256), ("round", 1, 256, 7)]
    assert row == {"case": "read Patient/X", "connections": 256, **result(2560.0, 99.9), "mean_ms": 100.0, "pass": True}


@pytest.mark.parametrize(("p99", "errors"), [(100.0, 0), (12.0, 1)])
def test_a_wide_case_fails_on_a_p99_of_100_ms_or_any_error(loads, p99, errors):
    loads.results[1] = result(900.0, p99, errors)
    row = run.wide_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, GATEWAY, ARGS)
    assert row["pass"] is False


def test_the_floor_runs_the_same_case_after_the_gateway_and_is_judged_the_same_way(loads):
    loads.results[1] = result(1000.0, 250.0)
    loads.results[2] = result(1280.0, 180.0)
    row = run.wide_case(
        "Patient/X/$everything", "/fhir/Patient/{id}/$everything", ["a"], {"a": "t"}, GATEWAY, ARGS, FLOOR
    )
    assert loads.calls == [("warm", 1, 256), ("round", 1, 256, 7), ("warm", 2, 256), ("round", 2, 256, 7)]
    assert (row["pass"], row["mean_ms"]) == (False, 256.0)
    assert row["floor"] == {**result(1280.0, 180.0), "mean_ms": 200.0, "pass": False}


def test_the_report_prints_the_floor_beside_the_gateway(capsys):
    rows = [
        {"case": "read Patient/X", "connections": 256, **result(5120.0, 90.0), "mean_ms": 50.0, "pass": True}
        | {"floor": {**result(12800.0, 30.0), "mean_ms": 20.0, "pass": True}},
        {"case": "Patient/X/$everything", "connections": 256, **result(1000.0, 250.0, 3), "mean_ms": 256.0}
        | {"pass": False, "floor": {**result(1280.0, 180.0), "mean_ms": 200.0, "pass": False}},
    ]
    report.print_wide(rows)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["at", "256"]
    assert lines[2].split() == ["read", "Patient/X", "5120", "20.00", "90.00", "50", "PASS"] + [
        "floor",
        "12800",
        "30.00",
        "20",
        "PASS",
    ]
    assert lines[3].split() == ["Patient/X/$everything", "1000", "20.00", "250.00", "256", "FAIL", "(3", "errors)"] + [
        "floor",
        "1280",
        "180.00",
        "200",
        "FAIL",
    ]
