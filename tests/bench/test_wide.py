"""bench.run's wide mode: each case against the gateway alone at --wide connections, judged on errors and p99."""

import argparse

import pytest

from bench import run


@pytest.fixture
def loads(monkeypatch):
    calls = []
    monkeypatch.setattr(run, "wrk", lambda port, script, connections, seconds: calls.append(("warm", connections)))

    def load_round(port, process, script, args):
        calls.append(("round", args.connections, args.seconds))
        return dict(loads.result)

    loads = argparse.Namespace(calls=calls, result=None)
    monkeypatch.setattr(run, "load_round", load_round)
    return loads


ARGS = argparse.Namespace(wide=256, seconds=7)


def test_a_wide_case_warms_up_then_runs_one_round_at_the_wide_connections(loads):
    loads.result = {"rps": 900.0, "p50_ms": 20.0, "p99_ms": 99.9, "requests": 9000, "errors": 0}
    row = run.wide_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, (1, None), ARGS)
    assert loads.calls == [("warm", 256), ("round", 256, 7)]
    assert row == {"case": "read Patient/X", "connections": 256, **loads.result, "pass": True}


@pytest.mark.parametrize(("p99", "errors"), [(100.0, 0), (12.0, 1)])
def test_a_wide_case_fails_on_a_p99_of_100_ms_or_any_error(loads, p99, errors):
    loads.result = {"rps": 900.0, "p50_ms": 20.0, "p99_ms": p99, "requests": 9000, "errors": errors}
    assert run.wide_case("read Patient/X", "/fhir/Patient/{id}", ["a"], {"a": "t"}, (1, None), ARGS)["pass"] is False
