"""``fhir-gateway client add/list/show/bind`` and ``token issue`` bind backend access to one practice or, by the
operator's word, to all (issue 14)."""

import json

import pytest
from joserfc.jwk import RSAKey

from gateway import store
from gateway.cli import cli
from smart_auth import clients
from smart_auth.tokens import authenticate

BOUND = "a backend client is registered for one practice (--practice ID) or, by the operator, for all (--all-practices)"


@pytest.fixture
def db(fresh_demo_db_path):
    return fresh_demo_db_path


@pytest.fixture
def keyfile(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [RSAKey.generate_key(2048).as_dict(private=False)]}))
    return str(path)


def practices(db):
    return [p["uid"] for p in store.chart_rows(store.connect(db), "practices")]


def add(runner, db, keyfile, *args):
    return runner.invoke(
        cli, ["client", "add", "--db", db, "--name", "Exporter", "--type", "backend", "--jwks-file", keyfile, *args]
    )


def last_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


@pytest.mark.parametrize("name_by", ["row id", "organization id"])
def test_add_a_backend_client_for_one_practice(runner, db, keyfile, name_by):
    lakeside = practices(db)[1]
    created = last_json(add(runner, db, keyfile, "--practice", "2" if name_by == "row id" else lakeside))
    assert (created["practice"], created["all_practices"]) == (lakeside, False)
    listed = [json.loads(line) for line in runner.invoke(cli, ["client", "list", "--db", db]).output.splitlines()]
    assert [(c["client_id"], c["practice"]) for c in listed if c["client_type"] == "backend"] == [
        (created["client_id"], lakeside)
    ]
    shown = last_json(runner.invoke(cli, ["client", "show", "--db", db, created["client_id"]]))
    assert shown == created


def test_add_a_backend_client_for_every_practice(runner, db, keyfile):
    created = last_json(add(runner, db, keyfile, "--all-practices"))
    assert (created["practice"], created["all_practices"]) == (None, True)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], BOUND),
        (["--practice", "1", "--all-practices"], BOUND),
        (["--practice", "no-such-practice"], "no practice has the id 'no-such-practice'"),
    ],
)
def test_add_refuses_a_backend_client_without_exactly_one_reach(runner, db, keyfile, args, message):
    result = add(runner, db, keyfile, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert [c for c in clients.list_clients(store.connect(db)) if c.kind == "backend"] == []


def test_show_an_unknown_client_is_an_error(runner, db):
    result = runner.invoke(cli, ["client", "show", "--db", db, "nobody"])
    assert result.exit_code == 2 and "no client has the id 'nobody'" in result.output


def test_bind_moves_a_client_to_another_practice(runner, db, keyfile):
    created = last_json(add(runner, db, keyfile, "--all-practices"))
    result = runner.invoke(cli, ["client", "bind", "--db", db, created["client_id"], "--practice", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Bound client {created['client_id']} to practice {practices(db)[0]}"
    assert last_json(result)["practice"] == practices(db)[0]
    refused = runner.invoke(cli, ["client", "bind", "--db", db, created["client_id"]])
    assert refused.exit_code == 2 and BOUND in " ".join(refused.output.split())


@pytest.mark.parametrize("reach", ["--practice", "--all-practices"])
def test_token_issue_for_system_scopes_names_the_reach(runner, db, reach):
    args = ["--practice", practices(db)[1]] if reach == "--practice" else ["--all-practices"]
    result = runner.invoke(cli, ["token", "issue", "--db", db, "--scope", "system/*.rs", *args])
    assert result.exit_code == 0, result.output
    token = authenticate(store.connect(db), result.output.strip().splitlines()[-1])
    assert token.practice_reach == (practices(db)[1] if reach == "--practice" else "*")


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "system/ scopes need a practice (or all practices)"),
        (["--practice", "nope"], "no practice has the id 'nope'"),
        (["--practice", "1", "--all-practices"], "--practice or --all-practices, not both"),
    ],
)
def test_token_issue_refuses_a_system_token_without_one_reach(runner, db, args, message):
    result = runner.invoke(cli, ["token", "issue", "--db", db, "--scope", "system/*.rs", *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split())
