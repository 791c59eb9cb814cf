"""The OpenAPI description is served publicly, is valid OpenAPI 3.1, and lists exactly the JSON API routes."""
import re

import schemathesis

from gateway.openapi import BLUEPRINTS

AUTOMATIC = {"HEAD", "OPTIONS"}


def flask_operations(app):
    """{(OpenAPI path, method)} for every route of the described blueprints, as Flask serves them."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in BLUEPRINTS:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        methods = rule.methods - AUTOMATIC
        if not rule.provide_automatic_options:   # the view answers OPTIONS itself (CORS preflight)
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
    assert ("/oauth/token", "post") in described and ("/practice/api/invites/{invite_uid}/{action}", "post") in described


def test_the_description_is_valid_openapi(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    schema.validate()
    labels = {result.ok().label for result in schema.get_all_operations()}  # each Ok: no operation failed to load
    # schemathesis leaves out the operation that serves the description itself
    assert labels == {f"{method.upper()} {path}" for path, method in flask_operations(app)} - {"GET /openapi.json"}
