"""CORS (Fetch standard, section 3.2) on every door a browser app uses, and on no cookie-authenticated one."""

import pytest

from gateway.web.cors import EXPOSED, PREFLIGHT

APP = "https://app.example"
ACTUAL = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}
PREFLIGHT_ANSWER = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Prefer, If-None-Match",
    "Access-Control-Max-Age": "7200",
}
DOORS = [
    "/fhir/metadata",
    "/fhir/Patient/pat-1",
    "/fhir/Condition",
    "/fhir/Condition/_search",
    "/fhir/Patient/pat-1/$everything",
    "/fhir/NoSuchType/x/y/z",
    "/fhir/.well-known/smart-configuration",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/register",
    "/oauth/jwks",
    "/oauth/smart-style.json",
    "/.well-known/openid-configuration",
]
COOKIE_DOORS = [
    "/",
    "/portal/login",
    "/portal/api/grants",
    "/practice/api/patients/pat-1/enrollment",
    "/oauth/authorize",
    "/oauth/introspect",  # for resource servers, never a browser
    "/openapi.json",
]


def cors_headers(response):
    return {k: v for k, v in response.headers.items() if k.startswith("Access-Control-")}


def test_the_headers_are_the_ones_a_fhir_client_needs():
    assert EXPOSED == "ETag, Location, Content-Location, Last-Modified, X-Progress, Retry-After, WWW-Authenticate"
    assert dict(PREFLIGHT) == PREFLIGHT_ANSWER


@pytest.mark.parametrize("path", DOORS)
def test_a_preflight_answers_204_without_a_token(chart_client, path):
    response = chart_client.options(
        path,
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST" if path.startswith("/oauth") else "GET",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.data == b""
    assert cors_headers(response) == PREFLIGHT_ANSWER
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    "scope, path, status",
    [
        ("patient/*.rs", "/fhir/Patient/pat-1", 200),  # the lean front answers it
        ("patient/*.rs", "/fhir/Condition?patient=pat-1", 200),
        ("patient/*.rs", "/fhir/Patient/pat-1/$everything", 200),
        (None, "/fhir/metadata", 200),
        (None, "/fhir/Patient/pat-1", 401),
        ("patient/Patient.rs", "/fhir/Condition/dx-1", 403),
        ("patient/*.rs", "/fhir/Patient/no-such-id", 404),
        ("patient/*.rs", "/fhir/NoSuchType/x/y/z", 404),
        ("patient/*.rs", "/fhir/Condition?no-such-param=1&_format=xml", 406),
        ("patient/*.rs", "/fhir/Condition?patient=pat-1&_count=x", 400),
        (None, "/fhir/.well-known/smart-configuration", 200),
        (None, "/oauth/jwks", 200),
        (None, "/.well-known/openid-configuration", 200),
    ],
)
def test_answers_and_errors_carry_the_cors_headers(chart_client, chart_auth, scope, path, status):
    headers = {"Origin": APP, **(chart_auth(scope, "pat-1") if scope else {})}
    response = chart_client.get(path, headers=headers)
    assert response.status_code == status
    assert cors_headers(response) == ACTUAL
    assert "Vary" not in response.headers  # the origin is never echoed


def test_a_conditional_read_304_carries_them(chart_client, chart_auth):
    headers = {"Origin": APP, **chart_auth("patient/*.rs", "pat-1")}
    etag = chart_client.get("/fhir/Patient/pat-1", headers=headers).headers["ETag"]
    response = chart_client.get("/fhir/Patient/pat-1", headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304
    assert cors_headers(response) == ACTUAL


def test_a_post_search_carries_them(chart_client, chart_auth):
    headers = {"Origin": APP, **chart_auth("patient/*.rs", "pat-1")}
    response = chart_client.post("/fhir/Condition/_search", data={"patient": "pat-1"}, headers=headers)
    assert response.status_code == 200
    assert cors_headers(response) == ACTUAL


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_oauth_errors_carry_them(chart_client, path):
    response = chart_client.post(path, data={"grant_type": "authorization_code"}, headers={"Origin": APP})
    assert response.status_code == 401  # no client named: invalid_client, which a browser app must be able to read
    assert cors_headers(response) == ACTUAL


def test_a_429_carries_them(make_app, chart_db_path):
    web = make_app(chart_db_path, REGISTRATION_LIMIT=1).test_client()
    web.post("/oauth/register", json={}, headers={"Origin": APP})
    response = web.post("/oauth/register", json={}, headers={"Origin": APP})
    assert response.status_code == 429
    assert cors_headers(response) == ACTUAL


@pytest.mark.parametrize("path", COOKIE_DOORS)
def test_cookie_authenticated_doors_send_none(chart_client, path):
    response = chart_client.get(path, headers={"Origin": APP})
    assert cors_headers(response) == {}
    preflight = chart_client.options(path, headers={"Origin": APP, "Access-Control-Request-Method": "DELETE"})
    assert preflight.status_code != 204
    assert cors_headers(preflight) == {}
