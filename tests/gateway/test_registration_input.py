"""POST /oauth/register refuses metadata of the wrong JSON types (RFC 7591 section 2) with 400
invalid_client_metadata naming the field, never a 500 (schemathesis found a float client_uri crashing Authlib)."""
import pytest

from tests.web_helpers import make_app

APP = {"client_name": "App", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none"}


@pytest.fixture
def web(tmp_path):
    return make_app(tmp_path)[0].test_client()


@pytest.mark.parametrize("field, value, problem", [
    ("client_name", 5, "client_name must be a string."),
    ("client_uri", 1.5, "client_uri must be a string."),
    ("logo_uri", ["https://app.example/logo.png"], "logo_uri must be a string."),
    ("scope", {"patient/*.rs": True}, "scope must be a string."),
    ("jwks_uri", 443, "jwks_uri must be a string."),
    ("token_endpoint_auth_method", False, "token_endpoint_auth_method must be a string."),
    ("redirect_uris", "https://app.example/cb", "redirect_uris must be an array of strings."),
    ("redirect_uris", [1], "redirect_uris must be an array of strings."),
    ("grant_types", [["authorization_code"]], "grant_types must be an array of strings."),
    ("contacts", "a@example.com", "contacts must be an array of strings."),
    ("jwks", "x", "jwks must be a JSON Web Key Set: an object whose keys is an array of objects."),
    ("jwks", {"keys": "x"}, "jwks must be a JSON Web Key Set: an object whose keys is an array of objects."),
    ("jwks", {"keys": [1]}, "jwks must be a JSON Web Key Set: an object whose keys is an array of objects."),
])
def test_wrong_json_types_are_invalid_client_metadata(web, field, value, problem):
    response = web.post("/oauth/register", json={**APP, field: value})
    assert response.status_code == 400
    assert response.json == {"error": "invalid_client_metadata", "error_description": problem}


@pytest.mark.parametrize("body", ["[]", '"app"', "{", '{"client_name": ' + "[" * 5000 + "]" * 5000 + "}"])
def test_json_that_is_not_an_object_or_too_deep_is_invalid_client_metadata(web, body):
    response = web.post("/oauth/register", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": "invalid_client_metadata",
                             "error_description": "Send the client metadata as a JSON object."}


@pytest.mark.parametrize("field, problem", [
    ("client_uri", "client_uri must be a string."), ("contacts", "contacts must be an array of strings."),
    ("jwks", "jwks must be a JSON Web Key Set: an object whose keys is an array of objects."),  # was a 500
])
def test_null_is_not_a_value_rfc_7591_allows(web, field, problem):
    response = web.post("/oauth/register", json={**APP, field: None})
    assert response.status_code == 400
    assert response.json == {"error": "invalid_client_metadata", "error_description": problem}


def test_well_typed_metadata_still_registers(web):
    response = web.post("/oauth/register", json={**APP, "contacts": ["dev@app.example"], "scope": "openid"})
    assert response.status_code == 201 and response.json["client_type"] == "public"
