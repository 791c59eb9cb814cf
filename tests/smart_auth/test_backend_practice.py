"""Backend clients are registered for one practice, or by the operator for all (issue 14, "Who may export"):
registration, the reach their tokens carry through a real signed assertion, introspection, and binding."""

import pytest

from gateway import store
from smart_auth import clients

from .oauth_helpers import Keys, assertion_form, basic, bearer

LAB = "system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"


def _token(web, client_id, key, scope="system/*.rs"):
    data = {"grant_type": "client_credentials", "scope": scope, **assertion_form(client_id, key)}
    return web.post("/oauth/token", data=data)


def _patients(web, token):
    bundle = web.get("/fhir/Patient?_count=100", headers=bearer(token)).get_json(force=True)
    return sorted({e["resource"]["managingOrganization"]["reference"] for e in bundle["entry"]}), bundle["total"]


def _count(web, practice_uid=None):
    """How many patients the demo charts hold: of one practice (its Organization id), or of all."""
    db = store.connect(web.application.config["DB"])
    if practice_uid is None:
        return len(store.chart_rows(db, "patients"))
    [practice] = store.chart_rows(db, "practices", uid=practice_uid)
    return len(store.chart_rows(db, "patients", practice_id=practice["id"]))


def test_a_practice_clients_token_sees_only_its_practices_patients(web, summary):
    token = _token(web, summary["backend"], summary["keys"].rsa).get_json()["access_token"]
    practice = summary["practices"][0]
    assert _patients(web, token) == ([f"Organization/{practice}"], _count(web, practice))
    theirs = store.chart_rows(store.connect(web.application.config["DB"]), "patients", practice_id=2)[0]["uid"]
    assert web.get(f"/fhir/Patient/{theirs}", headers=bearer(token)).status_code == 404


def test_an_all_practices_clients_token_sees_every_practice(web, summary):
    token = _token(web, summary["all_backend"], summary["keys"].rsa).get_json()["access_token"]
    assert _patients(web, token) == (sorted(f"Organization/{p}" for p in summary["practices"]), _count(web))


def test_a_granular_scope_still_filters_a_practice_token(web, odb, summary):
    practice = summary["practices"][0]
    keys = Keys()
    client, _ = clients.register_client(odb, "Lab feed", [], "backend", LAB, keys.jwks(), practice=practice)
    token = _token(web, client.client_id, keys.rsa, scope=LAB).get_json()["access_token"]
    bundle = web.get("/fhir/Observation?_count=1000", headers=bearer(token)).get_json(force=True)
    codes = {c["code"] for e in bundle["entry"] for cat in e["resource"]["category"] for c in cat["coding"]}
    assert codes == {"laboratory"}
    stored = odb.execute(
        "SELECT json FROM resources WHERE type = 'Observation' AND practice_id = ? AND deleted = 0", [practice]
    ).fetchall()
    assert bundle["total"] == sum(b'"code":"laboratory"' in bytes(body) for (body,) in stored)


def test_introspection_reports_the_reach(web, summary, odb):
    resource_server, secret = clients.register_client(odb, "Proxy", kind="resource-server")
    for client_id, reach in (
        (summary["backend"], {"practice": summary["practices"][0]}),
        (summary["all_backend"], {"all_practices": True}),
    ):
        token = _token(web, client_id, summary["keys"].rsa).get_json()["access_token"]
        body = web.post("/oauth/introspect", headers=basic(resource_server.client_id, secret), data={"token": token})
        assert {k: body.get_json()[k] for k in reach} == reach
        assert ({"practice", "all_practices"} - set(reach)) & set(body.get_json()) == set()


def test_an_unbound_backend_client_gets_no_token(web, odb):
    """A backend client from before practices bound them, in a database of several practices (the migration's)."""
    keys = Keys()
    client, _ = clients.register_client(odb, "Old exporter", [], "backend", jwks=keys.jwks(), all_practices=True)
    with store.transaction(odb):
        odb.execute("UPDATE oauth_clients SET practice_reach = NULL WHERE client_id = ?", [client.client_id])
    response = _token(web, client.client_id, keys.rsa)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "unauthorized_client",
        "error_description": "This backend client is bound to no practice: an operator binds it with "
        "`fhir-gateway client bind CLIENT_ID --practice ID` (or --all-practices)",
    }


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {},
            "a backend client is registered for one practice (--practice ID) or, by the operator, for all "
            "(--all-practices)",
        ),
        (
            {"practice": "1", "all_practices": True},
            "a backend client is registered for one practice (--practice ID) "
            "or, by the operator, for all (--all-practices)",
        ),
        ({"practice": "no-such-practice"}, "no practice has the id 'no-such-practice'"),
        ({"practice": "99"}, "no practice has the id '99'"),
    ],
)
def test_backend_registration_errors(odb, kwargs, message):
    with pytest.raises(clients.ClientError) as caught:
        clients.register_client(odb, "Exporter", [], "backend", jwks=Keys().jwks(), **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize("kwargs", [{"practice": "1"}, {"all_practices": True}])
def test_only_backend_clients_take_a_practice(odb, kwargs):
    with pytest.raises(clients.ClientError) as caught:
        clients.register_client(odb, "App", ["https://app.example/cb"], "public", **kwargs)
    assert str(caught.value) == "only backend clients are bound to a practice"


def test_a_practice_is_named_by_its_row_id_or_its_organization_id(odb, summary):
    by_row, _ = clients.register_client(odb, "By row", [], "backend", jwks=Keys().jwks(), practice="2")
    assert by_row.practice_reach == summary["practices"][1]
    info = clients.client_info(by_row)
    assert (info["practice"], info["all_practices"]) == (summary["practices"][1], False)
    everywhere = clients.client_info(clients.query_client(odb, summary["all_backend"]))
    assert (everywhere["practice"], everywhere["all_practices"]) == (None, True)


def test_open_registration_cannot_make_an_all_practices_client(web):
    metadata = {
        "client_name": "Sneaky exporter",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": Keys().jwks(),
        "scope": "system/*.rs",
        "all_practices": True,
    }
    response = web.post("/oauth/register", json=metadata, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client_metadata"


def test_binding_a_client_changes_its_reach_and_ends_its_tokens(web, odb, summary):
    keys = Keys()
    client, _ = clients.register_client(odb, "Mover", [], "backend", jwks=keys.jwks(), all_practices=True)
    old = _token(web, client.client_id, keys.rsa).get_json()["access_token"]
    bound = clients.bind_client(odb, client.client_id, practice=summary["practices"][1])
    assert bound.practice_reach == summary["practices"][1]
    assert web.get("/fhir/Patient", headers=bearer(old)).status_code == 401
    new = _token(web, client.client_id, keys.rsa).get_json()["access_token"]
    practice = summary["practices"][1]
    assert _patients(web, new) == ([f"Organization/{practice}"], _count(web, practice))


@pytest.mark.parametrize(
    "client_key, message",
    [("asymmetric", "only backend clients are bound to a practice"), (None, "no client has the id 'nobody'")],
)
def test_binding_errors(odb, summary, client_key, message):
    with pytest.raises(clients.ClientError) as caught:
        clients.bind_client(odb, summary[client_key] if client_key else "nobody", all_practices=True)
    assert str(caught.value) == message
