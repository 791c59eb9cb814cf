"""``fhir-gateway client`` and ``keys``: registering apps and rotating the id_token signing key."""

import json

import pytest
from joserfc.jwk import RSAKey

from gateway import store
from gateway.cli import cli
from gateway.config import kept_secret
from smart_auth import clients, keys


@pytest.fixture
def db_path(new_db_path):
    path = new_db_path("cli")
    store.connect(path).close()
    return path


def _json_last_line(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["client", "add", "--help"],
        ["client", "list", "--help"],
        ["client", "remove", "--help"],
        ["client", "approve", "--help"],
        ["client", "show", "--help"],
        ["client", "bind", "--help"],
        ["keys", "rotate", "--help"],
    ],
)
def test_help(runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 0 and "Example:" in result.output


def test_add_public_and_confidential_clients(runner, db_path):
    public = _json_last_line(
        runner.invoke(
            cli,
            ["client", "add", "--db", db_path, "--name", "Phone app", "--redirect-uri", "com.example.app:/callback"],
        )
    )
    assert public["token_endpoint_auth_method"] == "none" and "client_secret" not in public
    confidential = _json_last_line(
        runner.invoke(
            cli,
            [
                "client",
                "add",
                "--db",
                db_path,
                "--name",
                "Web app",
                "--redirect-uri",
                "https://app.example/cb",
                "--type",
                "confidential",
                "--scope",
                "openid patient/*.rs",
                "--launch-uri",
                "https://app.example/launch",
            ],
        )
    )
    found = clients.query_client(store.connect(db_path), confidential["client_id"])
    assert found.check_client_secret(confidential["client_secret"]) and not found.check_client_secret("nope")
    assert found.launch_uri == "https://app.example/launch" and found.scope == "openid patient/*.rs"
    listed = runner.invoke(cli, ["client", "list", "--db", db_path]).output.strip().splitlines()
    assert {json.loads(line)["client_id"] for line in listed} == {public["client_id"], confidential["client_id"]}


def test_add_backend_client_with_jwks_url_and_file(runner, db_path, tmp_path):
    by_url = _json_last_line(
        runner.invoke(
            cli,
            [
                "client",
                "add",
                "--db",
                db_path,
                "--name",
                "Exporter",
                "--type",
                "backend",
                "--jwks-url",
                "https://svc.example/jwks.json",
                "--all-practices",
            ],
        )
    )
    assert by_url["grant_types"] == ["client_credentials"] and by_url["scope"] == "system/*.rs"
    assert (by_url["practice"], by_url["all_practices"]) == (None, True)
    keyfile = tmp_path / "jwks.json"
    keyfile.write_text(json.dumps({"keys": [RSAKey.generate_key(2048).as_dict(private=False)]}))
    by_file = runner.invoke(
        cli,
        [
            "client",
            "add",
            "--db",
            db_path,
            "--name",
            "Exporter 2",
            "--type",
            "backend",
            "--jwks-file",
            str(keyfile),
            "--all-practices",
        ],
    )
    assert _json_last_line(by_file)["jwks"]["keys"][0]["kty"] == "RSA"


def test_add_resource_server(runner, db_path):
    result = runner.invoke(cli, ["client", "add", "--db", db_path, "--name", "Proxy", "--type", "resource-server"])
    assert result.output.splitlines()[0] == "# registered resource-server client Proxy"
    created = _json_last_line(result)
    secret = created.pop("client_secret")
    assert created == {
        "client_id": created["client_id"],
        "client_name": "Proxy",
        "client_type": "resource-server",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": [],
        "redirect_uris": [],
        "scope": "",
        "status": "active",
        "client_secret_expires_at": 0,
    }
    assert clients.query_client(store.connect(db_path), created["client_id"]).check_client_secret(secret)


@pytest.mark.parametrize(
    "args",
    [
        ["--name", "No redirect"],
        ["--name", "Proxy", "--type", "resource-server", "--redirect-uri", "https://a.example/cb"],
        ["--name", "Keyless", "--type", "asymmetric", "--redirect-uri", "https://a.example/cb"],
        ["--name", "Wrong scope", "--redirect-uri", "https://a.example/cb", "--scope", "system/*.rs"],
    ],
)
def test_add_refuses_bad_metadata(runner, db_path, args):
    result = runner.invoke(cli, ["client", "add", "--db", db_path, *args])
    assert result.exit_code == 2


def test_remove_and_approve(runner, db_path):
    created = _json_last_line(
        runner.invoke(cli, ["client", "add", "--db", db_path, "--name", "A", "--redirect-uri", "https://a.example/cb"])
    )
    assert runner.invoke(cli, ["client", "approve", "--db", db_path, created["client_id"]]).exit_code == 0
    assert runner.invoke(cli, ["client", "remove", "--db", db_path, created["client_id"]]).exit_code == 0
    assert clients.query_client(store.connect(db_path), created["client_id"]) is None
    assert runner.invoke(cli, ["client", "remove", "--db", db_path, "no-such"]).exit_code == 2
    assert runner.invoke(cli, ["client", "approve", "--db", db_path, created["client_id"]]).exit_code == 2


@pytest.mark.sqlite_only  # the secret kept beside the SQLite file; PostgreSQL needs GATEWAY_SECRET_KEY (next test)
def test_keys_rotate_keeps_the_old_key_published(runner, db_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_SECRET_KEY", raising=False)
    db, secret = store.connect(db_path), kept_secret(db_path)
    old = keys.ensure_signing_key(db, secret)
    result = runner.invoke(cli, ["keys", "rotate", "--db", db_path])
    assert result.exit_code == 0 and "Signing with new key" in result.output
    assert keys.signing_key(db, secret).kid != old
    assert old in {k["kid"] for k in keys.jwks(db)["keys"]}


def test_keys_rotate_refuses_a_secret_that_does_not_open_the_current_key(runner, db_path, monkeypatch):
    db = store.connect(db_path)
    old = keys.ensure_signing_key(db, "the-server-secret-" + "x" * 30)
    monkeypatch.setenv("GATEWAY_SECRET_KEY", "another-secret-" + "y" * 30)
    result = runner.invoke(cli, ["keys", "rotate", "--db", db_path])
    assert result.exit_code == 1
    assert f"the signing key {old} does not open with this secret" in result.output
    assert keys.signing_key(db, "the-server-secret-" + "x" * 30).kid == old


def test_load_demo_registers_the_demo_apps_and_the_guide_shows_the_flow(runner, new_db_path):
    from fixtures import demo_clients
    from gateway.demo_guide import smart_lines

    db = new_db_path("demo")
    assert runner.invoke(cli, ["load-demo", "--db", db]).exit_code == 0
    conn = store.connect(db)
    assert clients.query_client(conn, demo_clients.PUBLIC_ID).kind == "public"
    assert clients.query_client(conn, demo_clients.CONFIDENTIAL_ID).check_client_secret(
        demo_clients.CONFIDENTIAL_SECRET
    )
    text = "\n".join(smart_lines("http://127.0.0.1:8080"))
    assert "aud=http%3A%2F%2F127.0.0.1%3A8080%2Ffhir" in text and demo_clients.code_challenge() in text
