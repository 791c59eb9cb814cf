"""The real JavaScript SMART client (npm ``fhirclient`` 2.x, its browser build, unmodified) served from a second
origin: standalone launch with PKCE, code for token, Patient read, a Condition search and a refresh, in Chromium.

``make browser`` installs the locked package into tests/browser/js/node_modules (``npm ci``).
"""

import pathlib
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from werkzeug.exceptions import NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import make_server

from gateway import store
from smart_auth import clients
from tests.browser.conftest import LiveServer, shot
from tests.smart_auth.oauth_helpers import KEALA, build

JS = pathlib.Path(__file__).parent / "js"
FHIR_CLIENT = JS / "node_modules" / "fhirclient" / "build" / "fhir-client.js"


@pytest.fixture(scope="module")
def app_origin():
    """The app's host: its two pages and the fhirclient build, on another loopback port than the gateway."""
    assert FHIR_CLIENT.exists(), "fhirclient is not installed: run `make browser` (npm ci in tests/browser/js)"
    server = make_server("127.0.0.1", 0, SharedDataMiddleware(NotFound(), {"/": str(JS)}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def live(tmp_path_factory, app_origin):
    """The gateway with the demo practice and the JS app registered as a public client on the app's origin."""
    path = str(tmp_path_factory.mktemp("fhirclient-js") / "live.db")
    build(path)
    db = store.connect(path)
    app, _ = clients.register_client(db, "JS test app", [f"{app_origin}/index.html"], "public")
    db.close()
    with LiveServer(path) as server:
        server.client_id = app.client_id
        yield server


def test_fhirclient_launches_reads_searches_and_refreshes(page, live, app_origin):
    authorize = []
    page.on("request", lambda r: authorize.append(r.url) if r.url.startswith(f"{live.url}/oauth/authorize") else None)
    page.goto(f"{app_origin}/launch.html?" + urlencode({"iss": f"{live.url}/fhir", "client_id": live.client_id}))
    page.get_by_label("Email").fill(KEALA[0])
    page.get_by_label("Password").fill(KEALA[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{app_origin}/index.html**")
    found = page.evaluate("window.result")
    shot(page, "fhirclient-js")
    assert "error" not in found, found

    # PKCE: fhirclient sent an S256 challenge (RFC 7636 section 4.2) with the launch's audience.
    sent = parse_qs(urlsplit(authorize[0]).query)
    assert sent["code_challenge_method"] == ["S256"]
    assert len(sent["code_challenge"][0]) == 43  # base64url of a SHA-256 digest, unpadded
    assert sent["aud"] == [f"{live.url}/fhir"]
    assert sent["redirect_uri"] == [f"{app_origin}/index.html"]

    patient_id = found["patientId"]
    assert found["patient"]["id"] == patient_id == found["againId"]
    assert found["patient"]["name"] == [{"use": "official", "family": "Kahale", "given": ["Keala", "Makoa"]}]
    assert "offline_access" in found["scope"].split()

    # A new access token after the refresh; both still read, and the search matches the API's own answer.
    assert found["secondToken"] != found["firstToken"]
    headers = {"Authorization": f"Bearer {found['secondToken']}", "Accept": "application/fhir+json"}
    api = requests.get(f"{live.url}/fhir/Condition", params={"patient": patient_id}, headers=headers, timeout=10)
    assert api.status_code == 200
    assert found["conditions"]["total"] == api.json()["total"] == 5  # 3 charted, 2 her PRAPARE raised
    assert found["conditions"]["ids"] == [e["resource"]["id"] for e in api.json()["entry"]]
