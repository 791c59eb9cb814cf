"""The token endpoint for authorization codes: the response, PKCE, single use, redirect and client checks."""

import pytest

from .oauth_helpers import CONFIDENTIAL, KEALA, Flow, basic, bearer, pkce


def test_token_response_fields_and_headers(flow, summary):
    response = flow.exchange(flow.code(who=KEALA, patient="Keala"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] >= 3600
    assert body["scope"] == "launch/patient openid fhirUser offline_access patient/*.rs"
    assert body["patient"] == summary["patients"]["keala"]
    assert body["need_patient_banner"] is True
    assert body["smart_style_url"] == "http://gateway.test/oauth/smart-style.json"
    assert body["refresh_token"] and body["id_token"]
    read = flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"]))
    assert read.status_code == 200


def test_granted_scope_is_never_more_than_requested(flow):
    body = flow.tokens(who=KEALA, patient="Keala", scope="openid patient/Condition.rs")
    assert body["scope"] == "openid patient/Condition.rs"
    assert "refresh_token" not in body  # neither offline_access nor online_access was asked for


@pytest.mark.parametrize(
    "verifier, error",
    [
        (None, "invalid_request"),
        ("", "invalid_request"),
        ("wrong-verifier-" + "x" * 40, "invalid_grant"),
        ("CHALLENGE", "invalid_grant"),
    ],
)
def test_missing_blank_or_wrong_code_verifier_is_refused(flow, verifier, error):
    """A missing verifier is a malformed request; one that does not hash to the challenge fails the grant (RFC 7636
    section 4.6)."""
    code = flow.code(who=KEALA, patient="Keala")
    if verifier == "CHALLENGE":
        verifier = flow.challenge  # the verifier must hash to the challenge, not equal it
    response = (
        flow.exchange(code, code_verifier=verifier) if verifier is not None else flow.exchange(code, code_verifier=None)
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == error


def test_a_reused_code_is_refused_and_revokes_what_it_issued(flow):
    code = flow.code(who=KEALA, patient="Keala")
    first = flow.exchange(code)
    assert first.status_code == 200
    token = first.get_json()["access_token"]
    again = flow.exchange(code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert flow.client.get("/fhir/Patient/x", headers=bearer(token)).status_code == 401
    refresh = flow.client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": flow.client_id,
            "refresh_token": first.get_json()["refresh_token"],
        },
    )
    assert refresh.status_code == 400


@pytest.mark.parametrize("code", ["not-a-code", ""])
def test_an_unknown_code_gets_400_invalid_grant(flow, code):
    response = flow.exchange(code)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_a_mismatched_redirect_uri_is_refused(flow):
    code = flow.code(who=KEALA, patient="Keala")
    response = flow.exchange(code, redirect_uri="http://127.0.0.1:9000/other")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(flow, odb):
    code = flow.code(who=KEALA, patient="Keala")
    with odb:
        odb.execute("UPDATE oauth_codes SET expires_at = 0 WHERE used_at IS NULL")
    assert flow.exchange(code).get_json()["error"] == "invalid_grant"


def test_a_code_works_only_for_the_client_it_was_issued_to(web):
    public = Flow(web)
    code = public.code(who=KEALA, patient="Keala")
    response = web.post(
        "/oauth/token",
        headers=basic(),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": public.params()["redirect_uri"],
            "code_verifier": public.verifier,
        },
    )
    assert response.status_code == 400


@pytest.mark.parametrize("client_id, status", [("no-such-client", 400), (None, 401)])
def test_an_unknown_or_missing_client_is_invalid_client(flow, client_id, status):
    """No client named at all is a request to authenticate (Authlib's 401); an unknown one is a 400."""
    code = flow.code(who=KEALA, patient="Keala")
    response = flow.exchange(code, client_id=client_id)
    assert response.status_code == status and response.get_json()["error"] == "invalid_client"


def test_a_bad_secret_is_401_invalid_client(web):
    app = Flow(web, CONFIDENTIAL)
    code = app.code(who=KEALA, patient="Keala")
    response = web.post(
        "/oauth/token",
        headers=basic(secret="wrong"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.params()["redirect_uri"],
            "code_verifier": app.verifier,
        },
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_confidential_client_may_use_pkce_too(web):
    app = Flow(web, CONFIDENTIAL)
    code = app.code(who=KEALA, patient="Keala")
    response = web.post(
        "/oauth/token",
        headers=basic(),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.params()["redirect_uri"],
            "code_verifier": pkce()[0],
        },
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", ""])
def test_unsupported_grant_type(web, grant_type):
    response = web.post("/oauth/token", data={"grant_type": grant_type, "client_id": "demo-public-app"})
    assert response.status_code == 400 and response.get_json()["error"] == "unsupported_grant_type"
