"""Read, metadata, headers and the error paths of the FHIR API (OperationOutcome everywhere)."""

import pytest

FHIR = "/fhir"


def outcome(response):
    body = response.get_json(force=True)
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]


def test_metadata_is_public_and_json(chart_client):
    response = chart_client.get(f"{FHIR}/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.get_json(force=True)["fhirVersion"] == "4.0.1"


def test_read_returns_stored_json_with_etag_and_last_modified(chart_client, chart_auth):
    response = chart_client.get(f"{FHIR}/Patient/pat-1", headers=chart_auth("patient/*.rs", "pat-1"))
    assert response.status_code == 200
    body = response.get_json(force=True)
    assert (body["resourceType"], body["id"]) == ("Patient", "pat-1")
    assert response.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    assert response.headers["Last-Modified"].endswith("GMT")


def test_if_none_match_gives_304(chart_client, chart_auth):
    headers = chart_auth("patient/*.rs", "pat-1")
    etag = chart_client.get(f"{FHIR}/Patient/pat-1", headers=headers).headers["ETag"]
    response = chart_client.get(f"{FHIR}/Patient/pat-1", headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    changed = chart_client.get(f"{FHIR}/Patient/pat-1", headers={**headers, "If-None-Match": 'W/"999"'})
    assert changed.status_code == 200


def test_missing_token_is_401_with_challenge(chart_client):
    response = chart_client.get(f"{FHIR}/Patient/pat-1")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert outcome(response)["code"] == "login"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer"])
def test_bad_token_is_401(chart_client, header):
    response = chart_client.get(f"{FHIR}/Patient/pat-1", headers={"Authorization": header})
    assert response.status_code == 401


def test_expired_token_is_401_invalid_token(chart_client, chart_auth):
    response = chart_client.get(f"{FHIR}/Patient/pat-1", headers=chart_auth("patient/*.rs", "pat-1", ttl=-1))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_other_patients_resource_is_404_like_a_missing_one(chart_client, chart_auth):
    headers = chart_auth("patient/*.rs", "pat-1")
    other = chart_client.get(f"{FHIR}/Condition/dx-4", headers=headers)
    missing = chart_client.get(f"{FHIR}/Condition/no-such-id", headers=headers)
    assert other.status_code == missing.status_code == 404
    assert outcome(other)["code"] == outcome(missing)["code"] == "not-found"


def test_scope_without_the_type_is_403(chart_client, chart_auth):
    response = chart_client.get(f"{FHIR}/Condition/dx-1", headers=chart_auth("patient/Patient.rs", "pat-1"))
    assert response.status_code == 403
    assert outcome(response)["code"] == "forbidden"


def test_unknown_type_is_404(chart_client, chart_auth):
    response = chart_client.get(f"{FHIR}/Spaceship/1", headers=chart_auth("system/*.rs"))
    assert response.status_code == 404
    assert "Spaceship" in outcome(response)["diagnostics"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"Accept": "application/fhir+xml"}},
        {"query_string": {"_format": "xml"}},
        {"headers": {"Accept": "text/html"}},
    ],
)
def test_xml_is_406(chart_client, chart_auth, kwargs):
    headers = {**chart_auth("system/*.rs"), **kwargs.pop("headers", {})}
    response = chart_client.get(f"{FHIR}/Patient/pat-1", headers=headers, **kwargs)
    assert response.status_code == 406
    assert outcome(response)["code"] == "not-supported"


@pytest.mark.parametrize(
    "accept", ["application/fhir+json", "application/json", "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"]
)
def test_json_accepts_are_served(chart_client, chart_auth, accept):
    response = chart_client.get(f"{FHIR}/Patient/pat-1", headers={**chart_auth("system/*.rs"), "Accept": accept})
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_writes_are_405(chart_client, chart_auth, method):
    response = getattr(chart_client, method)(f"{FHIR}/Patient/pat-1", headers=chart_auth("system/*.rs"))
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert outcome(response)["code"] == "not-supported"


def test_oversized_search_body_is_413(chart_client, chart_auth):
    response = chart_client.post(
        f"{FHIR}/Condition/_search", headers=chart_auth("system/*.rs"), data={"code": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert outcome(response)["code"] == "too-costly"


@pytest.mark.parametrize(
    "scope, expected",
    [
        ("patient/Observation.rs?category=laboratory", 200),
        ("patient/Observation.rs?category=vital-signs", 404),
        ("patient/Observation.rs?date=not-a-date", 404),  # a granular scope the server cannot evaluate grants nothing
        ("patient/Observation.rs?colour=blue", 404),
    ],
)
def test_granular_scopes_filter_reads(chart_client, chart_auth, scope, expected):
    response = chart_client.get(f"{FHIR}/Observation/obs-1", headers=chart_auth(scope, "pat-1"))
    assert response.status_code == expected
