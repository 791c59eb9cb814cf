"""The practice JSON API: bearer tokens with user/ or system/ scopes on Patient, JSON errors with statuses."""

import pytest

from gateway.store import accounts as account_store
from smart_auth.tokens import ALL_PRACTICES, issue_access_token
from tests.enrollment_helpers import outbox
from tests.web_helpers import enrollment_app


@pytest.fixture
def api(new_db_path):
    app, db = enrollment_app(new_db_path)
    staff = account_store.staff_by_email(db, "desk@example.com")

    def headers(scope, subject=staff["uid"], patient=None, practice=ALL_PRACTICES):
        reach = practice if "system/" in scope else None
        token = issue_access_token(db, "ehr", scope, patient, subject=subject, practice_reach=reach)
        return {"Authorization": f"Bearer {token}"}

    return app.test_client(), db, headers


SELF = {"people": [{"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"}]}


def test_invite_status_resend_cancel_and_reinvite(api):
    client, db, headers = api
    write = headers("user/Patient.cruds")
    made = client.post("/practice/api/patients/pat-1/invites", json=SELF, headers=write)
    assert made.status_code == 201
    [invite] = made.json["invites"]
    assert invite["status"] == "invited" and len(invite["access_code"]) == 9
    status = client.get("/practice/api/patients/pat-1/enrollment", headers=headers("user/Patient.rs")).json
    assert [p["status"] for p in status["people"]] == ["invited"]
    assert status["people"][0]["access_code"] == invite["access_code"]
    again = client.post(f"/practice/api/invites/{invite['id']}/resend", headers=write)
    assert again.status_code == 200 and again.json["access_code"] == invite["access_code"] and len(outbox(db)) == 2
    new = client.post(f"/practice/api/invites/{invite['id']}/reinvite", headers=write)
    assert new.status_code == 201 and new.json["access_code"] != invite["access_code"]
    old = client.get(f"/practice/api/invites/{invite['id']}", headers=write).json
    assert old["status"] == "superseded" and old["access_code"] is None
    cancelled = client.post(f"/practice/api/invites/{new.json['id']}/cancel", headers=write)
    assert cancelled.json["status"] == "cancelled"
    conflict = client.post(f"/practice/api/invites/{new.json['id']}/cancel", headers=write)
    assert conflict.status_code == 409 and conflict.json["error"] == "conflict"


def test_revoke_through_the_api(api):
    client, db, headers = api
    from smart_auth import accounts

    account = accounts.create_account(db, "cli@example.com", "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1)
    status = client.get("/practice/api/patients/pat-1/enrollment", headers=headers("system/Patient.read")).json
    link = status["people"][0]["link"]
    revoked = client.post(f"/practice/api/links/{link}/revoke", headers=headers("system/Patient.write"))
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert accounts.linked_records(db, account["id"]) == []


@pytest.mark.parametrize(
    "scope, status",
    [
        ("system/Patient.rs", 403),
        ("user/Patient.rs", 403),
        ("patient/Patient.cruds", 403),
        ("user/Observation.cruds", 403),
        ("user/Patient.u", 201),
        ("system/*.cruds", 201),
        ("user/Patient.write", 201),
    ],
)
def test_writing_needs_update_on_patient_with_user_or_system_scopes(api, scope, status):
    client, _, headers = api
    response = client.post(
        "/practice/api/patients/pat-1/invites",
        json=SELF,
        headers=headers(scope, patient="pat-1" if scope.startswith("patient/") else None),
    )
    assert response.status_code == status
    if status == 403:
        assert response.json["error"] == "insufficient_scope"


def test_missing_bad_or_revoked_tokens_are_401_json(api):
    client, db, headers = api
    assert client.get("/practice/api/patients/pat-1/enrollment").status_code == 401
    response = client.get("/practice/api/patients/pat-1/enrollment", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_user_tokens_act_only_for_their_staff_users_practice(api):
    client, db, headers = api
    write = headers("user/Patient.cruds")
    assert client.post("/practice/api/patients/pat-3/invites", json=SELF, headers=write).status_code == 404
    assert client.get("/practice/api/patients/pat-3/enrollment", headers=write).status_code == 404
    nobody = headers("user/Patient.cruds", subject="not-a-staff-user")
    assert client.get("/practice/api/patients/pat-1/enrollment", headers=nobody).status_code == 403
    system = headers("system/Patient.cruds", subject=None)
    assert client.post("/practice/api/patients/pat-3/invites", json=SELF, headers=system).status_code == 201


def test_a_system_token_of_one_practice_cannot_act_for_another(api):
    """pat-1 is the first practice's (org-1), pat-3 the second's (org-2): a back end of org-1 cannot reach pat-3."""
    client, db, headers = api
    ours = headers("system/Patient.cruds", subject=None, practice="org-1")
    theirs = headers("system/Patient.cruds", subject=None, practice="org-2")
    made = client.post("/practice/api/patients/pat-3/invites", json=SELF, headers=theirs)
    assert made.status_code == 201
    invite = made.json["invites"][0]["id"]
    not_found = {"error": "not_found", "message": "No such patient."}
    assert client.post("/practice/api/patients/pat-3/invites", json=SELF, headers=ours).json == not_found
    assert client.get("/practice/api/patients/pat-3/enrollment", headers=ours).status_code == 404
    for method, path in (
        ("get", f"/practice/api/invites/{invite}"),
        ("post", f"/practice/api/invites/{invite}/cancel"),
    ):
        response = getattr(client, method)(path, headers=ours)
        assert (response.status_code, response.json["error"]) == (404, "not_found"), path
    assert client.get(f"/practice/api/invites/{invite}", headers=theirs).json["status"] == "invited"
    assert client.post("/practice/api/patients/pat-1/invites", json=SELF, headers=ours).status_code == 201


def test_a_system_token_bound_to_no_practice_is_refused(api):
    client, db, _ = api
    import secrets
    import time

    from gateway import store

    token = secrets.token_urlsafe(16)
    with store.transaction(db):
        store.save_token(
            db, token, "legacy", "system/Patient.cruds", None, None, int(time.time()), int(time.time()) + 60
        )
    response = client.get("/practice/api/patients/pat-1/enrollment", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope" and "bound to no practice" in response.json["message"]


def test_the_context_that_granted_access_decides_the_practice(api):
    """A granular system/ scope does not grant Patient.u, so the whole user/ scope acts, for its staff's practice."""
    client, _, headers = api
    mixed = headers("system/Patient.cruds?gender=male user/Patient.cruds")
    assert client.get("/practice/api/patients/pat-3/enrollment", headers=mixed).status_code == 404
    assert client.get("/practice/api/patients/pat-1/enrollment", headers=mixed).status_code == 200


def test_bad_bodies_are_400_with_each_problem(api):
    client, _, headers = api
    write = headers("user/Patient.cruds")
    assert client.post("/practice/api/patients/pat-1/invites", data="x", headers=write).status_code == 400
    response = client.post(
        "/practice/api/patients/pat-1/invites", headers=write, json={"people": [{"relation": "cousin", "email": "bad"}]}
    )
    assert response.status_code == 400 and len(response.json["problems"]) == 2
    assert client.post("/practice/api/invites/nope/cancel", headers=write).status_code == 404
    assert client.post("/practice/api/invites/nope/explode", headers=write).status_code == 404


@pytest.mark.parametrize(
    "people, problem",
    [
        ([{"relation": 5, "email": "a@example.com"}], "Person 1: relation must be a string."),
        ([{"relation": "self", "email": ["a@example.com"]}], "The patient: email must be a string."),
        ([{"relation": "self", "phone": 5550100001}], "The patient: phone must be a string."),
        (
            [{"relation": "self", "email": "a@example.com", "text_link": "yes"}],
            "The patient: text_link must be true or false.",
        ),
        (["a@example.com"], "Person 1: send an object with relation, email and phone."),
        (
            [{"relation": "self", "email": "a" * 250 + "@example.com"}],
            "The patient: email is longer than 254 characters.",
        ),
        ([], "Add at least one person to invite."),
        ([{"relation": "other", "email": "a@example.com"}] * 21, "Invite at most 20 people at a time."),
    ],
)
def test_invite_rows_with_wrong_json_types_are_400_not_500(api, people, problem):
    client, _, headers = api
    response = client.post(
        "/practice/api/patients/pat-1/invites", json={"people": people}, headers=headers("system/Patient.cruds")
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request" and response.json["problems"] == [problem]
    assert response.json["message"] == problem


def test_json_nested_5000_deep_is_400_not_500(api):
    client, _, headers = api
    deep = '{"people": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post(
        "/practice/api/patients/pat-1/invites",
        data=deep,
        content_type="application/json",
        headers=headers("system/Patient.cruds"),
    )
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert response.json["message"] == 'Send JSON like {"people": [{"relation": "self", "email": "..."}]}.'
