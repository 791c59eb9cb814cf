"""PKCE for every app: SMART App Launch 2.2, "Obtain authorization code", requires PKCE (S256) of public and
confidential apps alike (RFC 7636); ``plain`` is refused."""

import pytest

from .oauth_helpers import CONFIDENTIAL, KEALA, REDIRECT, SECRET, Flow, basic, query


@pytest.mark.parametrize(
    "overrides, description",
    [
        ({"code_challenge": None, "code_challenge_method": None}, "Every app must send a PKCE code_challenge (S256)."),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be S256."),
        ({"code_challenge_method": None}, "code_challenge_method must be S256."),
    ],
)
def test_a_confidential_app_without_s256_gets_no_code(web, overrides, description):
    app = Flow(web, CONFIDENTIAL)
    app.login(KEALA)
    response = app.authorize(**overrides)
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT + "?")
    assert query(response.headers["Location"]) == {
        "error": "invalid_request",
        "error_description": description,
        "state": "st-1",
    }


@pytest.mark.parametrize("how", ["basic", "post"])
def test_a_confidential_app_with_pkce_gets_tokens_with_basic_and_with_post(web, how):
    app = Flow(web, CONFIDENTIAL)
    code = app.code(who=KEALA, patient="Keala")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": app.verifier}
    if how == "basic":
        response = web.post("/oauth/token", headers=basic(), data=data)
    else:
        response = web.post("/oauth/token", data={**data, "client_id": CONFIDENTIAL, "client_secret": SECRET})
    assert response.status_code == 200, response.get_json()


def test_a_confidential_app_must_send_the_verifier(web):
    app = Flow(web, CONFIDENTIAL)
    code = app.code(who=KEALA, patient="Keala")
    response = web.post(
        "/oauth/token",
        headers=basic(),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_request", "error_description": "Missing 'code_verifier'"}
