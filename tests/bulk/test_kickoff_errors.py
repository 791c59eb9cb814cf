"""Kick-offs the server refuses: each a clear OperationOutcome with the status the Bulk Data spec asks for."""

import pytest

from .helpers import KICKOFF


def refused(response, status):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


def test_no_prefer_respond_async_is_400(web, system_token):
    response = web.get("/fhir/$export", headers={**system_token(), "Accept": "application/fhir+json"})
    assert refused(response, 400) == "A Bulk Data kick-off needs the header Prefer: respond-async"


def test_an_accept_other_than_fhir_json_is_400(web, system_token):
    response = web.get("/fhir/$export", headers={**system_token(), "Prefer": "respond-async", "Accept": "text/csv"})
    assert refused(response, 400) == (
        "A Bulk Data kick-off answers in application/fhir+json: send Accept: application/fhir+json"
    )


@pytest.mark.parametrize("fmt", ["text/csv", "application/fhir+json", "ndjson2"])
def test_an_unsupported_output_format_is_400(web, system_token, fmt):
    response = web.get("/fhir/$export", query_string={"_outputFormat": fmt}, headers={**KICKOFF, **system_token()})
    assert refused(response, 400) == "_outputFormat must be one of application/fhir+ndjson, application/ndjson, ndjson"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"_type": "Patient,Spaceship"}, "_type names resource types this server does not export: Spaceship"),
        ({"_since": "2026-01-01"}, "_since takes one FHIR instant, e.g. 2026-01-01T00:00:00Z"),
        ({"_since": "yesterday"}, "_since takes one FHIR instant, e.g. 2026-01-01T00:00:00Z"),
        ({"_elements": "id"}, "The export parameter '_elements' is not supported"),
        ({"_typeFilter": "Observation"}, "_typeFilter takes Type?search queries, not 'Observation'"),
        (
            {"_type": "Patient", "_typeFilter": "Observation?category=laboratory"},
            "_typeFilter names Observation, which this export does not include (_type)",
        ),
        ({"_typeFilter": "Observation?colour=red"}, "unknown search parameter 'colour' for Observation"),
        (
            {"_typeFilter": "Observation?_count=5"},
            "_typeFilter takes search parameters, not result parameters: 'Observation?_count=5'",
        ),
        ({"_typeFilter": "Observation?date=soon"}, "date: 'soon' is not a valid date (use e.g. ge2023-01-15)"),
    ],
)
def test_bad_parameters_are_400(web, system_token, params, message):
    response = web.get("/fhir/$export", query_string=params, headers={**KICKOFF, **system_token()})
    assert refused(response, 400) == message


def test_patient_level_types_stay_in_the_compartment(web, system_token):
    response = web.get("/fhir/Patient/$export?_type=Organization", headers={**KICKOFF, **system_token()})
    assert refused(response, 400) == "_type names types outside the Patient compartment: Organization"


def test_lenient_handling_ignores_unknown_parameters_with_a_warning(web, system_token):
    headers = {**KICKOFF, **system_token(), "Prefer": "respond-async, handling=lenient"}
    response = web.get("/fhir/$export?_type=Patient&_elements=id", headers=headers)
    assert response.status_code == 202
    issues = response.get_json()["issue"]
    assert issues[1] == {
        "severity": "warning",
        "code": "not-supported",
        "diagnostics": "The export parameter '_elements' is not supported and was ignored",
    }


@pytest.mark.parametrize("scope", ["patient/*.rs", "user/*.rs"])
def test_patient_and_user_tokens_are_403(web, bulk_db, scope):
    from smart_auth.tokens import issue_access_token

    patient = bulk_db.execute("SELECT id FROM resources WHERE type = 'Patient' LIMIT 1").fetchone()[0]
    token = issue_access_token(bulk_db, "some-app", scope, patient if scope.startswith("patient") else None)
    response = web.get("/fhir/$export", headers={**KICKOFF, "Authorization": f"Bearer {token}"})
    assert refused(response, 403) == "Bulk Data export needs a backend service's system/ token (client_credentials)"


def test_no_token_is_401(web):
    assert web.get("/fhir/$export", headers=KICKOFF).status_code == 401


def test_a_type_the_scopes_do_not_allow_is_403(web, system_token):
    response = web.get("/fhir/$export?_type=Condition", headers={**KICKOFF, **system_token("system/Patient.rs")})
    assert refused(response, 403) == "The token's scopes do not allow search on Condition"


def test_an_unknown_group_is_404(web, system_token):
    response = web.get("/fhir/Group/nope/$export", headers={**KICKOFF, **system_token()})
    assert refused(response, 404) == "Group/nope is not known"


def test_beyond_the_per_client_limit_is_429_with_retry_after(bulk_app, system_token, bulk_summary):
    web = bulk_app(EXPORT_WORKERS="off", EXPORT_MAX_PER_CLIENT=1, EXPORT_MAX_ACTIVE=2).test_client()
    first = web.get("/fhir/$export", headers={**KICKOFF, **system_token()})
    assert first.status_code == 202
    status = first.headers["Content-Location"][len("http://gateway.test") :]
    waiting = web.get(status, headers=system_token())
    assert waiting.status_code == 202
    assert waiting.headers["X-Progress"] == "queued" and waiting.headers["Retry-After"] == "2"
    second = web.get("/fhir/$export", headers={**KICKOFF, **system_token()})
    assert refused(second, 429) == "This client has 1 exports under way; try again later"
    assert second.headers["Retry-After"] == "60"
    other = system_token(client=bulk_summary["other"])
    assert web.get("/fhir/$export", headers={**KICKOFF, **other}).status_code == 202
    third = web.get("/fhir/$export", headers={**KICKOFF, **system_token(client="third-backend")})
    assert refused(third, 429) == "The server has as many exports under way as it runs; try again later"


@pytest.mark.parametrize(
    "body, message",
    [
        (b"not json", "A POST kick-off takes a FHIR Parameters resource (application/fhir+json)"),
        (b'{"resourceType": "Patient"}', "A POST kick-off takes a FHIR Parameters resource (application/fhir+json)"),
        (
            b'{"resourceType": "Parameters", "parameter": [{"name": "patient", "valueString": "x"}]}',
            "patient takes a valueReference to Patient/<id>",
        ),
        (
            b'{"resourceType": "Parameters", "parameter": [{"name": "_type"}]}',
            "Each kick-off parameter needs a name and one value[x]",
        ),
    ],
)
def test_bad_post_bodies_are_400(web, system_token, body, message):
    headers = {**KICKOFF, **system_token(), "Content-Type": "application/fhir+json"}
    assert refused(web.post("/fhir/Patient/$export", data=body, headers=headers), 400) == message
