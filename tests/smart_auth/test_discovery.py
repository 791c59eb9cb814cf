"""Discovery: the SMART well-known document, OpenID configuration, JWKS and the CapabilityStatement agree."""

import pytest

from .oauth_helpers import BASE

CAPABILITIES = {
    "launch-standalone",
    "launch-ehr",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-standalone-patient",
    "context-ehr-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
    "sso-openid-connect",
    "authorize-post",
    "context-banner",
    "context-style",
}


def test_smart_configuration_lists_every_field(web):
    response = web.get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["issuer"] == BASE
    assert body["jwks_uri"] == f"{BASE}/oauth/jwks"
    assert body["authorization_endpoint"] == f"{BASE}/oauth/authorize"
    assert body["token_endpoint"] == f"{BASE}/oauth/token"
    assert body["registration_endpoint"] == f"{BASE}/oauth/register"
    assert body["introspection_endpoint"] == f"{BASE}/oauth/introspect"
    assert body["revocation_endpoint"] == f"{BASE}/oauth/revoke"
    assert body["management_endpoint"] == f"{BASE}/portal/apps"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert set(body["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(
        body["token_endpoint_auth_methods_supported"]
    )
    assert set(body["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {"openid", "fhirUser", "launch/patient", "offline_access", "patient/*.rs", "system/*.rs"} <= set(
        body["scopes_supported"]
    )
    assert CAPABILITIES <= set(body["capabilities"])


def test_openid_configuration(web):
    response = web.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    body = response.get_json()
    for field in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
    ):
        assert body[field]
    assert body["issuer"] == BASE
    assert "RS256" in body["id_token_signing_alg_values_supported"]
    # The launch context scopes agree with SMART discovery's (launch/encounter from an EHR launch at a visit).
    assert body["scopes_supported"] == [
        "openid",
        "fhirUser",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
    ]


def test_jwks_publishes_an_rsa_signing_key(web):
    keys = web.get("/oauth/jwks").get_json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in keys)
    assert all({"n", "e", "kid"} <= set(k) and "d" not in k for k in keys)


def test_capability_statement_oauth_uris_equal_the_well_known_values(web):
    security = web.get("/fhir/metadata").get_json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    [extension] = security["extension"]
    assert extension["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    uris = {e["url"]: e["valueUri"] for e in extension["extension"]}
    well_known = web.get("/fhir/.well-known/smart-configuration").get_json()
    assert uris == {
        "authorize": well_known["authorization_endpoint"],
        "token": well_known["token_endpoint"],
        "introspect": well_known["introspection_endpoint"],
        "revoke": well_known["revocation_endpoint"],
        "register": well_known["registration_endpoint"],
    }


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/.well-known/smart-configuration",
        "/.well-known/openid-configuration",
        "/oauth/jwks",
        "/oauth/smart-style.json",
    ],
)
def test_discovery_needs_no_token(web, path):
    assert web.get(path).status_code == 200


def test_management_endpoint_is_the_connected_apps_page(web):
    """SMART 2.2 ``management_endpoint``: where a person reviews and revokes what apps may see."""
    path = web.get("/fhir/.well-known/smart-configuration").get_json()["management_endpoint"].removeprefix(BASE)
    response = web.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/portal/login")


def test_smart_style_is_json(web):
    body = web.get("/oauth/smart-style.json").get_json()
    assert body["color_background"] and body["font_family_body"]
