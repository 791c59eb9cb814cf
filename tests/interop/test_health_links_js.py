"""SMART Health Links interop with an independent implementation: npm ``kill-the-clipboard`` 1.1.0 (Vinta
Software; TypeScript, its own JOSE library ``jose``), run unmodified under Node by tests/interop/js/shl.mjs.

Both directions: the console reads a link kill-the-clipboard made (its manifest and files served by ``responses``),
and kill-the-clipboard's SHLViewer reads a link the portal's share page made (manifest and file as the gateway
answered them).
"""

import json
import pathlib
import shutil
import subprocess

import pytest
import responses

from fixtures.demo_practice import uid
from gateway.health_links import reader
from gateway.health_links.link import parse_link
from tests.gateway.test_practice_bring import BROUGHT, staff
from tests.health_link_helpers import BUNDLE
from tests.health_links.helpers import decrypt as share_decrypt
from tests.health_links.helpers import make_link as share_link
from tests.health_links.helpers import manifest as share_manifest
from tests.health_links.helpers import path_of
from tests.portal_helpers import build_portal_db, csrf, login, portal_client

JS = pathlib.Path(__file__).parent / "js"
SCRIPT = JS / "shl.mjs"
BASE = "https://shl.example.org/shl"
DEV = reader.Limits(public_only=False)


def node(request):
    """Run the kill-the-clipboard side with one JSON request; its JSON answer."""
    assert shutil.which("node") and (JS / "node_modules" / "kill-the-clipboard").exists(), (
        "kill-the-clipboard is not installed: run `make interop` (npm ci in tests/interop/js)"
    )
    done = subprocess.run(
        ["node", str(SCRIPT)], input=json.dumps(request), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(("embedded_max", "kind"), [(0, "location"), (100_000, "embedded")])
@responses.activate
def test_the_console_reads_a_link_kill_the_clipboard_made(embedded_max, kind):
    made = node({"do": "make", "bundle": BUNDLE, "base": BASE, "embeddedLengthMax": embedded_max})
    assert [kind in f for f in made["manifest"]["files"]] == [True]
    manifest_url = reader._parse_link(made["link"])["url"]
    responses.add(responses.POST, manifest_url, json=made["manifest"])
    for url, jwe in made["files"].items():
        responses.add(responses.GET, url, body=jwe, content_type="application/jose")
    brought = reader.read_link(made["link"], "Sunrise Family Medicine", limits=DEV)
    assert (brought.host, brought.label, brought.resources, brought.notes) == (
        "shl.example.org",
        "Interop test",
        [e["resource"] for e in BUNDLE["entry"]],
        [],
    )
    assert json.loads(responses.calls[0].request.body) == {"recipient": "Sunrise Family Medicine"}


def test_kill_the_clipboard_reads_a_link_the_portal_made(tmp_path):
    """Maria shares her record on the portal's share page; kill-the-clipboard's viewer, given the link text, the
    manifest and the file exactly as the gateway answers them, decrypts the same Bundle the gateway encrypted."""
    build_portal_db(str(tmp_path / "shl.db"))
    client = portal_client(str(tmp_path / "shl.db"))
    token = login(client, "maria.garcia@example.com", "Portal-Demo-1")
    _, text = share_link(client, token, content="everything")
    answer = share_manifest(client, text, recipient="Lakeside Clinic")
    assert answer.status_code == 200
    manifest = answer.get_json()
    [entry] = manifest["files"]
    file_jwe = client.get(path_of(entry["location"])).get_data(as_text=True)
    _, plain = share_decrypt(text, file_jwe)
    read = node(
        {
            "do": "read",
            "link": "https://viewer.example.org/#" + text,
            "manifest": manifest,
            "files": {entry["location"]: file_jwe},
            "recipient": "Lakeside Clinic",
        }
    )
    assert read["fhirResources"] == [json.loads(plain)]
    assert read["fhirResources"][0]["resourceType"] == "Bundle"
    assert read["requests"] == [
        ["POST", parse_link(text).url, {"recipient": "Lakeside Clinic"}],
        ["GET", entry["location"]],
    ]


@responses.activate
def test_the_console_check_in_page_reads_a_link_kill_the_clipboard_made(tmp_path):
    path = str(tmp_path / "interop.db")
    build_portal_db(path)
    made = node({"do": "make", "bundle": BROUGHT, "base": BASE, "embeddedLengthMax": 0})
    responses.add(responses.POST, reader._parse_link(made["link"])["url"], json=made["manifest"])
    for url, jwe in made["files"].items():
        responses.add(responses.GET, url, body=jwe, content_type="application/jose")
    client = staff(path)
    maria = uid("patients", "maria")
    page = client.post(
        f"/practice/patients/{maria}/bring",
        data={"link": "https://viewer.example.org/#" + made["link"], "csrf_token": csrf(client, "/practice/")},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "From shl.example.org: “Interop test”" in html
    assert html.count("New: not in our chart") == 1 and "Amlodipine 5 MG Oral Tablet" in html
