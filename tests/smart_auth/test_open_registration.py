"""Open registration (RFC 7591) makes patient-facing apps only: backend clients, client_credentials, system/ and
user/ scopes and the EHR ``launch`` scope come from an operator (``fhir-gateway client add``), never a stranger."""

import pytest

from smart_auth import clients, open_registration

from .oauth_helpers import KEALA, Flow, register

APP = {"client_name": "Registered app", "redirect_uris": ["https://app.example/cb"]}


def stored(odb, name):
    return odb.execute("SELECT count(*) FROM oauth_clients WHERE name = ?", (name,)).fetchone()[0]


def test_a_stranger_cannot_register_a_backend_client(web, summary, odb):
    """The critical finding: this registration used to give a client whose token read every patient."""
    response = register(
        web,
        {
            "client_name": "Stranger backend",
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["client_credentials"],
            "jwks": summary["keys"].jwks(),
        },
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_client_metadata",
        "error_description": "client_credentials (SMART Backend Services) clients are not open to registration; "
        "an operator registers those (fhir-gateway client add)",
    }
    assert stored(odb, "Stranger backend") == 0


@pytest.mark.parametrize(
    "metadata, why",
    [
        ({"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}, "client_credentials"),
        (
            {
                "token_endpoint_auth_method": "private_key_jwt",
                "grant_types": ["authorization_code", "client_credentials"],
                "redirect_uris": [],
            },
            "client_credentials",
        ),
        ({"scope": "system/*.rs"}, "'system/*.rs' is not a patient-facing app's scope"),
        ({"scope": "patient/*.rs system/Patient.rs"}, "'system/Patient.rs' is not a patient-facing app's scope"),
        ({"scope": "user/*.rs"}, "'user/*.rs' is not a patient-facing app's scope"),
        ({"scope": "launch openid"}, "'launch' is not a patient-facing app's scope"),
        ({"grant_types": ["implicit"]}, "grant_types authorization_code"),
        ({"grant_types": ["refresh_token"]}, "grant_types authorization_code"),
        ({"response_types": ["token"]}, "response_types may only be 'code'"),
        ({"token_endpoint_auth_method": "tls_client_auth"}, "'tls_client_auth' is not supported"),
        (
            {
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": []},
                "jwks_uri": "https://a.example/jwks",
            },
            "not both",
        ),
    ],
)
def test_only_patient_facing_apps_may_register(web, odb, metadata, why):
    name = f"Refused {why}"
    response = register(web, {**APP, "client_name": name, **metadata})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_client_metadata" and why in body["error_description"]
    assert stored(odb, name) == 0


@pytest.mark.parametrize(
    "metadata, kind",
    [
        ({"token_endpoint_auth_method": "none"}, "public"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "confidential"),
        (
            {
                "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            },
            "confidential",
        ),
        ({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://127.0.0.1:9/jwks"}, "asymmetric"),
        (
            {
                "token_endpoint_auth_method": "none",
                "scope": "launch/patient openid fhirUser offline_access online_access patient/Observation.rs",
            },
            "public",
        ),
    ],
)
def test_patient_facing_apps_register(web, metadata, kind):
    response = register(web, {**APP, **metadata})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["client_type"] == kind


def test_an_asymmetric_app_registers_with_its_keys(web, summary):
    response = register(web, {**APP, "token_endpoint_auth_method": "private_key_jwt", "jwks": summary["keys"].jwks()})
    assert response.status_code == 201 and response.get_json()["client_type"] == "asymmetric"


def test_without_a_scope_an_app_gets_patient_scopes_and_cannot_ask_for_more(web, odb):
    body = register(
        web, {**APP, "token_endpoint_auth_method": "none", "redirect_uris": ["http://127.0.0.1:9000/callback"]}
    ).get_json()
    assert body["scope"] == open_registration.DEFAULT_SCOPE
    client = clients.query_client(odb, body["client_id"])
    assert (
        client.get_allowed_scope("launch user/*.rs patient/Condition.rs openid system/*.rs")
        == "patient/Condition.rs openid"
    )


def test_a_registered_app_completes_a_launch(web):
    body = register(
        web, {**APP, "token_endpoint_auth_method": "none", "redirect_uris": ["http://127.0.0.1:9000/callback"]}
    ).get_json()
    assert Flow(web, body["client_id"]).code(who=KEALA, patient="Keala")


def test_in_production_a_jwks_uri_must_be_https(make_app, oauth_db, odb):
    web = make_app(oauth_db[0], ENV="production", SECRET_KEY="s" * 32).test_client()
    response = register(
        web,
        {
            **APP,
            "client_name": "Plain jwks_uri",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "http://app.example/jwks",
        },
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_client_metadata",
        "error_description": "jwks_uri must be an https URL",
    }
    assert stored(odb, "Plain jwks_uri") == 0
