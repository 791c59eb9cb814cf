"""A browser app on another origin reads the FHIR API with a bearer token, errors too, and never a cookie door."""

import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests.browser.conftest import LiveServer

FETCH = """async ([url, token]) => {
    try {
        const headers = {Authorization: "Bearer " + token, Accept: "application/fhir+json"};
        const response = await fetch(url, {headers});
        const body = await response.json();
        return {status: response.status, etag: response.headers.get("ETag"), body};
    } catch (error) {
        return {error: error.name};
    }
}"""


@pytest.fixture(scope="module")
def gateway(chart_db_path):
    with LiveServer(chart_db_path) as server:
        yield server


@pytest.fixture(scope="module")
def app_origin():
    """A second loopback origin (another port) serving an empty page, as a single-page app's host would."""
    server = make_server("127.0.0.1", 0, Response("<!doctype html><title>app</title>", mimetype="text/html"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def token(chart_auth):
    return chart_auth("patient/*.rs", "pat-1")["Authorization"].split()[1]


def test_a_cross_origin_fetch_reads_a_patient_and_a_404_outcome(page, gateway, app_origin, token):
    page.goto(app_origin)
    found = page.evaluate(FETCH, [f"{gateway.url}/fhir/Patient/pat-1", token])
    assert found["status"] == 200
    assert found["body"]["resourceType"] == "Patient" and found["body"]["id"] == "pat-1"
    assert found["etag"].startswith('W/"')  # an exposed header
    missing = page.evaluate(FETCH, [f"{gateway.url}/fhir/Patient/no-such-id", token])
    assert missing["status"] == 404
    assert missing["body"]["resourceType"] == "OperationOutcome"
    assert missing["body"]["issue"][0]["code"] == "not-found"


def test_a_cross_origin_fetch_of_a_cookie_door_is_refused(page, gateway, app_origin, token):
    page.goto(app_origin)
    assert page.evaluate(FETCH, [f"{gateway.url}/portal/api/grants", token]) == {"error": "TypeError"}
