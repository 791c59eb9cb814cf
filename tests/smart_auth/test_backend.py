"""SMART Backend Services: client_credentials with a private_key_jwt assertion; and private_key_jwt
for a user-facing (asymmetric) app at the token endpoint and on refresh."""

import uuid

import pytest
from joserfc.jwk import RSAKey

from .oauth_helpers import CONFIDENTIAL, KEALA, SECRET, Flow, assertion_form, basic, bearer


def _token(web, client_id, key, alg="RS384", scope="system/*.rs", **kwargs):
    data = {"grant_type": "client_credentials", "scope": scope, **assertion_form(client_id, key, alg, **kwargs)}
    return web.post("/oauth/token", data=data)


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_token_with_each_algorithm(web, summary, alg):
    key = summary["keys"].rsa if alg == "RS384" else summary["keys"].ec
    response = _token(web, summary["backend"], key, alg)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "system/*.rs" and isinstance(body["expires_in"], int)
    assert "refresh_token" not in body and "patient" not in body
    search = web.get("/fhir/Patient?_count=2", headers=bearer(body["access_token"]))
    assert search.status_code == 200


def test_scope_defaults_to_the_clients_registered_scope(web, summary):
    response = _token(web, summary["backend"], summary["keys"].rsa, scope="")
    assert response.status_code == 200 and response.get_json()["scope"] == "system/*.rs"


def test_a_replayed_assertion_is_refused(web, summary):
    jti = str(uuid.uuid4())
    assert _token(web, summary["backend"], summary["keys"].rsa, jti=jti).status_code == 200
    again = _token(web, summary["backend"], summary["keys"].rsa, jti=jti)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "case", ["unknown key", "wrong audience", "expired", "too far ahead", "RS256 is not a SMART assertion alg"]
)
def test_bad_assertions_are_invalid_client(web, summary, case):
    key, kwargs, alg = summary["keys"].rsa, {}, "RS384"
    if case == "unknown key":
        key = RSAKey.generate_key(2048, auto_kid=True)
    elif case == "wrong audience":
        kwargs = {"aud": "http://gateway.test/fhir"}
    elif case == "expired":
        kwargs = {"exp_in": -600}
    elif case == "too far ahead":
        kwargs = {"exp_in": 3600}
    else:
        alg = "RS256"  # SMART asks for RS384 or ES384
    response = _token(web, summary["backend"], key, alg, **kwargs)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


def test_a_wrong_assertion_type_is_refused(web, summary):
    data = {
        "grant_type": "client_credentials",
        "scope": "system/*.rs",
        **assertion_form(summary["backend"], summary["keys"].rsa),
    }
    data["client_assertion_type"] = "urn:example:not-jwt"
    response = web.post("/oauth/token", data=data)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("scope", ["patient/*.rs", "user/Patient.rs", "system/*.rs patient/Condition.rs"])
def test_backend_gets_system_scopes_only(web, summary, scope):
    response = _token(web, summary["backend"], summary["keys"].rsa, scope=scope)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_user_facing_clients_cannot_use_client_credentials(web, summary):
    response = _token(web, summary["asymmetric"], summary["keys"].rsa)
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"
    public = web.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "demo-public-app"})
    assert public.status_code == 400 and public.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "credentials",
    [("backend", "a-guessed-secret"), (CONFIDENTIAL, SECRET), ("no-such-client", "x")],
    ids=["backend id, guessed secret", "a confidential app's real secret", "unknown client"],
)
def test_client_credentials_with_http_basic_is_401_with_a_basic_challenge(web, summary, credentials):
    """RFC 6749 section 5.2: a client that authenticated with the Authorization header and failed gets 401 and a
    WWW-Authenticate of the scheme it used. Backend Services authenticate only with private_key_jwt, so Basic
    fails for every client: even a confidential app's real secret buys no system/ token."""
    client_id = summary["backend"] if credentials[0] == "backend" else credentials[0]
    form = {"grant_type": "client_credentials", "scope": "system/*.rs"}
    response = web.post("/oauth/token", data=form, headers=basic(client_id, credentials[1]))
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith('Basic error="invalid_client"')
    assert response.headers["Cache-Control"] == "no-store"


def test_asymmetric_app_authenticates_with_private_key_jwt_at_token_and_refresh(web, summary):
    app = Flow(web, summary["asymmetric"])
    code = app.code(who=KEALA, patient="Keala")
    response = web.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.params()["redirect_uri"],
            "code_verifier": app.verifier,
            **assertion_form(summary["asymmetric"], summary["keys"].ec, "ES384"),
        },
    )
    assert response.status_code == 200, response.get_json()
    refresh = web.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": response.get_json()["refresh_token"],
            **assertion_form(summary["asymmetric"], summary["keys"].rsa, "RS384"),
        },
    )
    assert refresh.status_code == 200, refresh.get_json()
