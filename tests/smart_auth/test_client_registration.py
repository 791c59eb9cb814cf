"""RFC 7591 dynamic registration, optionally waiting for an operator's approval."""

import pytest

from smart_auth import clients

from .oauth_helpers import KEALA, Flow, register


def _register(web, **metadata):
    return register(web, {"client_name": "Registered app", "redirect_uris": ["https://app.example/cb"], **metadata})


def test_public_registration_gets_a_client_id_and_no_secret(web):
    response = _register(web, token_endpoint_auth_method="none")
    assert response.status_code == 201
    body = response.get_json()
    assert body["client_id"] and "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none" and body["status"] == "active"


def test_confidential_registration_gets_a_secret_stored_hashed(web, odb):
    body = _register(web, token_endpoint_auth_method="client_secret_basic").get_json()
    assert body["client_secret"]
    row = odb.execute("SELECT secret_hash FROM oauth_clients WHERE client_id = ?", (body["client_id"],)).fetchone()
    assert row[0] == clients.secret_hash(body["client_secret"]) and body["client_secret"] not in row[0]


@pytest.mark.parametrize(
    "metadata",
    [
        {"token_endpoint_auth_method": "private_key_jwt"},  # no keys
        {"token_endpoint_auth_method": "none", "redirect_uris": []},  # no redirect URI
        {"token_endpoint_auth_method": "none", "redirect_uris": ["https://a.example/cb#frag"]},
        {"token_endpoint_auth_method": "none", "scope": "system/*.rs"},  # system scopes for a user app
        {"token_endpoint_auth_method": "none", "scope": "patient/Condition.sr"},
        {"token_endpoint_auth_method": "tls_client_auth"},
    ],
)
def test_bad_metadata_is_invalid_client_metadata(web, metadata):
    response = _register(web, **metadata)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client_metadata"


def test_not_json_is_invalid_request(web):
    response = web.post("/oauth/register", data="client_name=x", environ_base={"REMOTE_ADDR": "2001:db8:1::1"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_with_approval_required_a_new_client_waits(make_app, oauth_db, odb):
    web = make_app(oauth_db[0], REGISTRATION_APPROVAL="1").test_client()
    body = _register(
        web, token_endpoint_auth_method="none", redirect_uris=["http://127.0.0.1:9000/callback"]
    ).get_json()
    assert body["status"] == "pending"
    app = Flow(web, body["client_id"])
    response = app.authorize()
    assert response.status_code == 400 and "Location" not in response.headers
    assert clients.approve_client(odb, body["client_id"])
    assert app.code(who=KEALA, patient="Keala")
