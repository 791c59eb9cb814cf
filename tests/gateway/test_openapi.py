"""The OpenAPI description is served publicly, is valid OpenAPI 3.1, and lists exactly the JSON API routes."""

import re

import schemathesis

from gateway.oauth.openapi import BLUEPRINTS

AUTOMATIC = {"HEAD", "OPTIONS"}


def flask_operations(app):
    """{(OpenAPI path, method)} for every route of the described blueprints, as Flask serves them."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in BLUEPRINTS:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        methods = rule.methods - AUTOMATIC
        if not rule.provide_automatic_options:  # the view answers OPTIONS itself (CORS preflight)
            methods |= {"OPTIONS"}
        found |= {(path, method.lower()) for method in methods}
    return found


def described_operations(document):
    return {(path, method) for path, item in document["paths"].items() for method in item if method != "parameters"}


def test_served_publicly_as_json(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["openapi"] == "3.1.0"
    assert response.json["servers"] == [{"url": "http://gateway.test"}]


def test_every_described_operation_is_a_route_and_every_route_is_described(app, client):
    described = described_operations(client.get("/openapi.json").json)
    assert described == flask_operations(app)
    assert ("/oauth/token", "post") in described
    assert ("/practice/api/invites/{invite_uid}/{action}", "post") in described


def test_the_description_is_valid_openapi(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    schema.validate()
    labels = {result.ok().label for result in schema.get_all_operations()}  # each Ok: no operation failed to load
    # schemathesis leaves out the operation that serves the description itself
    assert labels == {f"{method.upper()} {path}" for path, method in flask_operations(app)} - {"GET /openapi.json"}


def test_success_answers_match_the_description(new_db_path):
    """The answers fuzzing rarely reaches (a token, an active introspection, a registration) fit it too."""
    from smart_auth import clients
    from tests.smart_auth.oauth_helpers import Keys, assertion_form
    from tests.web_helpers import enrollment_app

    app, db = enrollment_app(new_db_path)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    web, keys = app.test_client(), Keys()
    backend, _ = clients.register_client(
        db, "EHR back end", [], "backend", "system/Patient.rs", jwks=keys.jwks(), all_practices=True
    )
    token = web.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": "system/Patient.rs",
            **assertion_form(backend.client_id, keys.rsa),
        },
    )
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"
    schema["/oauth/token"]["POST"].validate_response(token)
    app_client, secret = clients.register_client(db, "App", ["https://app.example/cb"], "confidential")
    active = web.post(
        "/oauth/introspect", data={"token": token.json["access_token"]}, auth=(backend.client_id, "not-its-secret")
    )
    assert active.status_code == 401
    schema["/oauth/introspect"]["POST"].validate_response(active)
    own = web.post(
        "/oauth/introspect", data={"token": token.json["access_token"], **assertion_form(backend.client_id, keys.rsa)}
    )
    assert own.status_code == 200 and own.json["active"] is True and own.json["scope"] == "system/Patient.rs"
    schema["/oauth/introspect"]["POST"].validate_response(own)
    registered = web.post(
        "/oauth/register",
        json={
            "client_name": "New app",
            "redirect_uris": ["https://new.example/cb"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    assert registered.status_code == 201 and registered.json["client_secret"]
    schema["/oauth/register"]["POST"].validate_response(registered)
    revoked = web.post("/oauth/revoke", data={"token": "unknown"}, auth=(app_client.client_id, secret))
    assert revoked.status_code == 200 and revoked.json == {}
    schema["/oauth/revoke"]["POST"].validate_response(revoked)
