"""The id_token signing key at rest: sealed under the deployment's secret, useless in a copied database."""

import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from gateway import store
from gateway.store import oauth as oauth_store
from smart_auth import keys

from .oauth_helpers import KEALA, bearer

SECRET = "signing-key-test-secret-" + "s" * 24


def stored(db):
    return {row["kid"]: row for row in oauth_store.all_keys(db)}


def test_the_stored_private_key_holds_no_key_material(odb, flow):
    body = flow.tokens(who=KEALA, patient="Keala")
    jwks = KeySet.import_key_set(flow.client.get("/oauth/jwks").get_json())
    assert jwt.decode(body["id_token"], jwks, algorithms=["RS256"]).claims["aud"]
    for row in stored(odb).values():
        assert row["private_jwk"].startswith(keys.SEALED)
        for leak in ('"d"', '"p"', '"q"', "{"):
            assert leak not in row["private_jwk"]
        assert "d" not in json.loads(row["public_jwk"])


def test_a_plain_key_from_before_is_sealed_on_the_next_start_and_keeps_its_kid(make_app, new_db_path):
    path = new_db_path("k")
    db = store.connect(path)
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)
    oauth_store.insert_key(
        db, key.kid, "RS256", json.dumps(key.as_dict(private=True)), json.dumps(key.as_dict(private=False)), 1
    )
    app = make_app(path, SECRET_KEY=SECRET)
    row = stored(db)[key.kid]
    assert row["private_jwk"].startswith(keys.SEALED) and '"d"' not in row["private_jwk"]
    assert (
        keys.signing_key(db, app.config["SECRET_KEY"]).key.as_dict(private=True)["d"] == key.as_dict(private=True)["d"]
    )


def test_a_database_copied_without_the_secret_yields_no_private_key(new_db_path):
    db = store.connect(new_db_path("a"))
    kid = keys.ensure_signing_key(db, SECRET)
    stolen = store.connect(new_db_path("copy", copy_of=db.path))
    assert keys.opens(SECRET, stored(stolen)[kid]) is True
    assert keys.opens("guessed-" + SECRET, stored(stolen)[kid]) is False
    with pytest.raises(keys.KeyLocked, match=f"^the signing key {kid} does not open with this secret$"):
        keys.signing_key(stolen, "guessed-" + SECRET)


def test_a_server_with_another_secret_signs_with_a_new_key_and_still_publishes_the_old(new_db_path):
    path = new_db_path("b")
    db = store.connect(path)
    old = keys.ensure_signing_key(db, SECRET)
    new = keys.ensure_signing_key(db, "changed-" + SECRET)
    assert new != old
    assert keys.signing_key(db, "changed-" + SECRET).kid == new
    assert {k["kid"] for k in keys.jwks(db)["keys"]} == {old, new}
    assert keys.ensure_signing_key(db, "changed-" + SECRET) == new


def test_fhir_gateway_keys_rotate_keeps_tokens_signed_before_it_verifiable(
    oauth_app, oauth_db, flow, runner, monkeypatch
):
    """Rotation without downtime: an id_token from before ``keys rotate`` still verifies against /oauth/jwks,
    its access token still works, and the next id_token is signed with the new key."""
    from joserfc.jws import extract_compact

    from gateway.cli import cli

    before = flow.tokens(who=KEALA, patient="Keala")
    old_kid = extract_compact(before["id_token"].encode()).headers()["kid"]
    monkeypatch.setenv("GATEWAY_SECRET_KEY", oauth_app.config["SECRET_KEY"])
    result = runner.invoke(cli, ["keys", "rotate", "--db", oauth_db[0]])
    assert result.exit_code == 0, result.output
    new_kid = result.output.strip().removeprefix("Signing with new key ")
    assert result.output == f"Signing with new key {new_kid}\n" and new_kid != old_kid
    published = flow.client.get("/oauth/jwks").get_json()
    assert sorted(key["kid"] for key in published["keys"]) == sorted([new_kid, old_kid])
    jwks = KeySet.import_key_set(published)
    assert jwt.decode(before["id_token"], jwks, algorithms=["RS256"]).claims["sub"]
    assert (
        flow.client.get(f"/fhir/Patient/{before['patient']}", headers=bearer(before["access_token"])).status_code == 200
    )
    after = flow.tokens(who=KEALA, patient="Keala")
    assert extract_compact(after["id_token"].encode()).headers()["kid"] == new_kid
    assert jwt.decode(after["id_token"], jwks, algorithms=["RS256"]).claims["sub"]
