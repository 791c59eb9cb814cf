"""RFC 7662 introspection: active tokens describe themselves; expired, revoked and unknown ones are inactive."""

import pytest

from .oauth_helpers import BASE, CONFIDENTIAL, KEALA, SECRET, Flow, basic


@pytest.fixture
def issued(web):
    app = Flow(web, CONFIDENTIAL, SECRET)
    return app.tokens(who=KEALA, patient="Keala")


def _introspect(web, token, **extra):
    return web.post("/oauth/introspect", headers=basic(), data={"token": token, **extra})


def test_an_active_access_token(web, issued, summary):
    response = _introspect(web, issued["access_token"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["active"] is True
    assert body["scope"] == issued["scope"] and body["client_id"] == CONFIDENTIAL
    assert body["patient"] == summary["patients"]["keala"]
    assert body["iss"] == BASE and body["sub"] and body["aud"] == f"{BASE}/fhir"
    assert body["fhirUser"] == f"{BASE}/fhir/Patient/{summary['patients']['keala']}"
    assert isinstance(body["exp"], int) and isinstance(body["iat"], int)


def test_an_active_refresh_token(web, issued):
    body = _introspect(web, issued["refresh_token"], token_type_hint="refresh_token").get_json()
    assert body["active"] is True and body["token_type"] == "refresh_token"


@pytest.mark.parametrize("state", ["unknown", "expired", "revoked"])
def test_inactive_tokens_say_only_active_false(web, issued, odb, state):
    token = issued["access_token"]
    if state == "unknown":
        token = "no-such-token"
    elif state == "expired":
        with odb:
            odb.execute("UPDATE access_tokens SET expires_at = 1 WHERE client_id = ? AND revoked = 0", (CONFIDENTIAL,))
    else:
        assert web.post("/oauth/revoke", headers=basic(), data={"token": token}).status_code == 200
    response = _introspect(web, token)
    assert response.status_code == 200 and response.get_json() == {"active": False}


def test_introspection_needs_client_authentication(web, issued):
    response = web.post("/oauth/introspect", data={"token": issued["access_token"]})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_a_client_sees_only_its_own_tokens(web, flow):
    other = flow.tokens(who=KEALA, patient="Keala")  # issued to the public demo app
    assert _introspect(web, other["access_token"]).get_json() == {"active": False}
