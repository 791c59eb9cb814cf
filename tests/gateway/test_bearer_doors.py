"""Both token doors, /fhir and /practice/api, read ``Authorization: Bearer`` the same way (RFC 6750 2.1)."""

import pytest

from smart_auth.tokens import issue_access_token
from tests.web_helpers import enrollment_app

DOORS = {"fhir": "/fhir/Patient/pat-1", "practice": "/practice/api/patients/pat-1/enrollment"}
ACCEPTED = ["Bearer {t}", "bearer {t}", "BEARER {t}", "Bearer   {t}", "Bearer {t}   "]
REFUSED = ["", "Bearer", "Bearer    ", "Basic {t}", "Token {t}", "{t}", "Bearer{t}"]


@pytest.fixture(scope="module")
def door(module_db_path):
    app, db = enrollment_app(module_db_path)
    return app.test_client(), issue_access_token(db, "ehr", "system/Patient.rs", practice_reach="org-1")


def _get(door, name, header):
    client, token = door
    headers = {"Authorization": header.format(t=token)} if header else {}
    return client.get(DOORS[name], headers=headers)


@pytest.mark.parametrize("name", DOORS)
@pytest.mark.parametrize("header", ACCEPTED)
def test_the_bearer_scheme_in_any_case_and_spacing_is_accepted(door, name, header):
    response = _get(door, name, header)
    assert response.status_code == 200
    assert (response.json["id"] if name == "fhir" else response.json["patient"]) == "pat-1"


@pytest.mark.parametrize("name", DOORS)
@pytest.mark.parametrize("header", REFUSED)
def test_no_bearer_token_is_401_with_a_bearer_challenge(door, name, header):
    response = _get(door, name, header)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


@pytest.mark.parametrize("name", DOORS)
def test_an_unknown_token_is_invalid_token(door, name):
    response = _get(door, name, "bearer not-a-token")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
