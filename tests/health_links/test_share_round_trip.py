"""A link made in the portal, opened as a viewer would: manifest, file location, decryption with jwcrypto, the
FHIR it holds validated, the QR code read back, and every opening in the access history."""

import io
import re

import orjson
import pytest
import zxingcpp
from fhir.resources.R4B.bundle import Bundle
from PIL import Image

from gateway.health_links.link import parse_link
from tests.health_links.helpers import decrypt, make_link, manifest, path_of, qr_png
from tests.portal_helpers import build_portal_db, login, portal_client


@pytest.fixture(scope="module")
def portal(module_db_path):
    path = module_db_path("shl")
    db, summary = build_portal_db(path)
    return path, db, summary


@pytest.fixture
def maria(portal):
    client = portal_client(portal[0])
    return client, login(client, "maria.garcia@example.com", "Portal-Demo-1")


def resources(bundle):
    return sorted(f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"])


def test_a_summary_link_round_trips_to_a_valid_ips_document(maria, portal):
    client, token = maria
    patient = portal[2]["patients"]["maria"]
    page, text = make_link(client, token)
    link = parse_link(text)
    assert link.flag == "" and link.label == "For Dr. Lee"
    assert re.fullmatch(r"http://gateway\.test/shl/[A-Za-z0-9_-]{43}", link.url)
    answer = manifest(client, text)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    body = answer.get_json()
    assert body["status"] == "finalized"
    [entry] = body["files"]
    assert sorted(entry) == ["contentType", "lastUpdated", "location"]
    assert entry["contentType"] == "application/fhir+json"
    got = client.get(path_of(entry["location"]))
    assert got.status_code == 200 and got.mimetype == "application/jose"
    header, plain = decrypt(text, got.get_data(as_text=True))
    assert header == {"alg": "dir", "enc": "A256GCM", "cty": "application/fhir+json", "zip": "DEF"}
    bundle = orjson.loads(plain)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "document"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    assert f"Patient/{patient}" in resources(bundle)
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(page))).convert("L"))[0].text == text


def test_a_small_enough_file_is_embedded_and_equals_the_location_file(maria):
    client, token = maria
    _, text = make_link(client, token, content="sections", sections="allergies")
    located = manifest(client, text).get_json()["files"][0]
    file = client.get(path_of(located["location"])).get_data(as_text=True)
    embedded = manifest(client, text, embeddedLengthMax=len(file)).get_json()["files"][0]
    assert sorted(embedded) == ["contentType", "embedded", "lastUpdated"]
    assert embedded["embedded"] == file
    assert "location" in manifest(client, text, embeddedLengthMax=len(file) - 1).get_json()["files"][0]
    bundle = orjson.loads(decrypt(text, file)[1])
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} <= {
        "Patient",
        "Practitioner",
        "Organization",
        "AllergyIntolerance",
    }
    assert "AllergyIntolerance" in {e["resource"]["resourceType"] for e in bundle["entry"]}


def test_everything_link_holds_what_the_fhir_everything_holds(maria, portal):
    client, token = maria
    _, db, summary = portal
    from tests.portal_helpers import bearer

    patient = summary["patients"]["maria"]
    _, text = make_link(client, token, content="everything")
    location = manifest(client, text).get_json()["files"][0]["location"]
    bundle = orjson.loads(decrypt(text, client.get(path_of(location)).get_data(as_text=True))[1])
    Bundle.model_validate(bundle)
    api = client.get(f"/fhir/Patient/{patient}/$everything", headers=bearer(db, patient)).get_json(force=True)
    assert resources(bundle) == resources(api)


def test_every_opening_is_in_the_access_history(maria):
    client, token = maria
    _, text = make_link(client, token, label="For the history test", content="sections", sections="allergies")
    location = manifest(client, text, recipient="Dr. Lee, Valley Clinic").get_json()["files"][0]["location"]
    count = len(orjson.loads(decrypt(text, client.get(path_of(location)).get_data(as_text=True))[1])["entry"])
    page = client.get("/portal/history").get_data(as_text=True)
    row = re.search(
        r'<td data-label="Who">([^<]*)</td><td data-label="What">([^<]*)</td><td data-label="Details">([^<]*)</td>',
        page,
    )
    assert row.groups() == (
        "&#39;Dr. Lee, Valley Clinic&#39;",
        "opened shared link &#39;For the history test&#39;",
        f"{count} items",
    )


def test_the_share_page_lists_the_link_and_a_location_expires(maria, portal, monkeypatch):
    client, token = maria
    _, text = make_link(client, token, label="Listed link")
    page = client.get("/portal/share").get_data(as_text=True)
    assert "Listed link" in page and "Active" in page
    location = manifest(client, text).get_json()["files"][0]["location"]
    import time as clock

    later = clock.time() + 301
    monkeypatch.setattr("gateway.health_links.manifest_api.time.time", lambda: later)
    assert client.get(path_of(location)).status_code == 404
