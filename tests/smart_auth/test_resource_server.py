"""Resource servers (SMART App Launch 2.x, "token introspection"): an operator-registered client that may
introspect any token issued for this gateway's FHIR base, and can do nothing else."""

import pytest

from gateway import store
from smart_auth import clients

from .oauth_helpers import BASE, CONFIDENTIAL, FHIR, KEALA, REDIRECT, SECRET, Flow, basic, register

SMART_FIELDS = {"active", "scope", "client_id", "exp", "iat", "sub", "iss", "aud", "patient", "fhirUser", "token_type"}


@pytest.fixture(scope="module")
def resource_server(oauth_db):
    """(client_id, secret) of a resource server registered as an operator would."""
    db = store.connect(oauth_db[0])
    try:
        client, secret = clients.register_client(db, "Imaging viewer", kind="resource-server")
    finally:
        db.close()
    return client.client_id, secret


def _introspect(web, who, token, **extra):
    return web.post("/oauth/introspect", headers=basic(*who), data={"token": token, **extra})


def test_register_client_makes_a_secret_client_with_no_grants(odb):
    client, secret = clients.register_client(odb, "Proxy", kind="resource-server")
    assert secret and client.check_client_secret(secret)
    assert clients.client_info(client) == {
        "client_id": client.client_id,
        "client_name": "Proxy",
        "client_type": "resource-server",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": [],
        "redirect_uris": [],
        "scope": "",
        "status": "active",
    }


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"redirect_uris": [REDIRECT]}, "a resource server signs no one in: it takes no redirect URI or launch URI"),
        ({"launch_uri": REDIRECT}, "a resource server signs no one in: it takes no redirect URI or launch URI"),
        ({"scope": "patient/*.rs"}, "a resource server gets no tokens, so it takes no scopes"),
    ],
)
def test_a_resource_server_takes_no_redirect_uris_or_scopes(odb, kwargs, message):
    with pytest.raises(clients.ClientError) as caught:
        clients.register_client(odb, "Proxy", kind="resource-server", **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("app", ["public", "confidential"])
def test_a_resource_server_learns_an_apps_token_is_active(web, summary, resource_server, app):
    flow = Flow(web) if app == "public" else Flow(web, CONFIDENTIAL, SECRET)
    issued = flow.tokens(who=KEALA, patient="Keala")
    body = _introspect(web, resource_server, issued["access_token"]).get_json()
    assert set(body) == SMART_FIELDS
    keala = summary["patients"]["keala"]
    assert {
        k: body[k] for k in ("active", "scope", "client_id", "iss", "aud", "patient", "fhirUser", "token_type")
    } == {
        "active": True,
        "scope": "launch/patient openid fhirUser offline_access patient/*.rs",
        "client_id": flow.client_id,
        "iss": BASE,
        "aud": FHIR,
        "patient": keala,
        "fhirUser": f"{FHIR}/Patient/{keala}",
        "token_type": "Bearer",
    }
    assert body["exp"] - body["iat"] == issued["expires_in"]
    if app == "confidential":  # the app itself sees the same answer about its own token
        assert _introspect(web, (CONFIDENTIAL, SECRET), issued["access_token"]).get_json() == body


@pytest.mark.parametrize("state", ["expired", "revoked", "refresh token", "unknown"])
def test_a_resource_server_learns_only_active_false_otherwise(web, odb, resource_server, state):
    issued = Flow(web, CONFIDENTIAL, SECRET).tokens(who=KEALA, patient="Keala")
    token = issued["access_token"]
    if state == "expired":
        with odb:
            odb.execute("UPDATE access_tokens SET expires_at = 1 WHERE client_id = ? AND revoked = 0", (CONFIDENTIAL,))
    elif state == "revoked":
        assert web.post("/oauth/revoke", headers=basic(), data={"token": token}).status_code == 200
    elif state == "refresh token":  # refresh tokens are the app's, never shown to a resource server
        token = issued["refresh_token"]
    else:
        token = "no-such-token"
    response = _introspect(web, resource_server, token)
    assert response.status_code == 200 and response.get_json() == {"active": False}


def test_a_wrong_secret_is_invalid_client(web, resource_server):
    response = _introspect(web, (resource_server[0], "wrong"), "anything")
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_an_app_still_sees_only_its_own_tokens(web, flow):
    other = flow.tokens(who=KEALA, patient="Keala")  # the public demo app's token
    assert _introspect(web, (CONFIDENTIAL, SECRET), other["access_token"]).get_json() == {"active": False}


NOT_AUTHORIZED = "The client is not authorized to use 'grant_type={}'"


@pytest.mark.parametrize(
    "form, status, error",
    [
        (
            # RFC 6749 section 5.2: Basic failed for a grant that takes only private_key_jwt: 401 and a challenge.
            {"grant_type": "client_credentials", "scope": "system/*.rs"},
            401,
            {
                "error": "invalid_client",
                "error_description": "The client cannot authenticate with methods: ['private_key_jwt']",
            },
        ),
        (
            {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT, "code_verifier": "v" * 43},
            400,
            {"error": "unauthorized_client", "error_description": NOT_AUTHORIZED.format("authorization_code")},
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "x"},
            400,
            {"error": "unauthorized_client", "error_description": NOT_AUTHORIZED.format("refresh_token")},
        ),
        ({"grant_type": "password", "username": "a", "password": "b"}, 400, {"error": "unsupported_grant_type"}),
    ],
)
def test_a_resource_server_gets_no_token(web, resource_server, form, status, error):
    response = web.post("/oauth/token", headers=basic(*resource_server), data=form)
    assert response.status_code == status and response.get_json() == error
    assert ("WWW-Authenticate" in response.headers) == (status == 401)


def test_a_resource_server_cannot_authorize(web, resource_server):
    flow = Flow(web, resource_server[0])
    flow.login(KEALA)
    response = flow.authorize()
    assert response.status_code == 400 and "Location" not in response.headers
    assert f"Redirect URI {REDIRECT} is not supported by client." in response.get_data(as_text=True)


def test_open_registration_cannot_make_a_resource_server(web, odb):
    """RFC 7591 metadata has no way to ask for the kind: a stranger gets at most a patient-facing app."""
    asked = {"client_name": "Stranger proxy", "client_type": "resource-server", "grant_types": ["authorization_code"]}
    refused = register(web, asked)
    assert refused.status_code == 400 and refused.get_json() == {
        "error": "invalid_client_metadata",
        "error_description": "a client that signs users in needs at least one redirect URI",
    }
    made = register(web, {**asked, "redirect_uris": [REDIRECT]}).get_json()
    assert made["client_type"] == "confidential" and made["grant_types"] == ["authorization_code"]
    [kind] = odb.execute("SELECT kind FROM oauth_clients WHERE client_id = ?", (made["client_id"],)).fetchone()
    assert kind == "confidential"
