"""Reading a SMART Health Link a patient brings: the attacker's cases first (addresses, redirects, sizes, zip bombs,
forged or foreign JWEs, expired links), then passcodes, the U flag, embedded and location files, health cards."""

import http.server
import json
import socket
import threading
import time

import orjson
import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey

from gateway import outbound
from gateway.health_links import reader
from gateway.health_links.reader import Limits
from tests.health_link_helpers import (
    BUNDLE,
    FILE,
    MANIFEST,
    b64,
    encrypt,
    health_card,
    issuer_jwks,
    make_link,
    new_key,
    raw_deflate,
    signed_health_card,
)

DEV = Limits(public_only=False, allow_http=True)
PRODUCTION = Limits(public_only=True, allow_http=False)
NOW = 1_800_000_000


def manifest(*files, status=200):
    responses.add(responses.POST, MANIFEST, json={"files": list(files)}, status=status)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/manifest",
        "https://10.1.2.3/manifest",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/manifest",
    ],
)
@responses.activate
def test_a_manifest_on_an_internal_address_is_refused_without_a_request(url):
    link = make_link(new_key(), url=url)
    with pytest.raises(reader.HostRefused) as refused:
        reader.read_link(link, "Clinic", limits=PRODUCTION, now=NOW)
    host = url.split("/")[2].strip("[]")
    assert str(refused.value) == f"The link points to {host}, which is not on the public internet; it was not opened."
    assert len(responses.calls) == 0


@responses.activate
def test_a_name_resolving_to_an_internal_address_is_refused_without_a_request(monkeypatch):
    monkeypatch.setattr(
        outbound.socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
    )
    with pytest.raises(reader.HostRefused):
        reader.read_link(make_link(new_key()), "Clinic", limits=PRODUCTION, now=NOW)
    assert len(responses.calls) == 0


@responses.activate
def test_a_plain_http_manifest_is_refused_in_production():
    with pytest.raises(reader.HostRefused) as refused:
        reader.read_link(make_link(new_key(), url="http://shl.example.org/m"), "Clinic", limits=PRODUCTION, now=NOW)
    assert str(refused.value) == "The link does not point to a secure (https://) web address; it was not opened."
    assert len(responses.calls) == 0


@responses.activate
def test_a_redirect_is_not_followed():
    responses.add(responses.POST, MANIFEST, status=302, headers={"Location": "http://169.254.169.254/latest"})
    with pytest.raises(reader.HostRefused) as refused:
        reader.read_link(make_link(new_key()), "Clinic", limits=DEV, now=NOW)
    assert str(refused.value) == "shl.example.org answered with a redirect (HTTP 302); it was not followed."
    assert [c.request.url for c in responses.calls] == [MANIFEST]


@responses.activate
def test_a_file_location_on_an_internal_address_is_refused_without_a_request(monkeypatch):
    key = new_key()
    monkeypatch.setattr(
        outbound,
        "public_addresses",
        lambda host, port: [] if host.startswith("169.254") else ["93.184.216.34"],
    )
    manifest({"contentType": "application/fhir+json", "location": "https://169.254.169.254/file"})
    with pytest.raises(reader.HostRefused):
        reader.read_link(make_link(key), "Clinic", limits=PRODUCTION, now=NOW)
    assert [c.request.url for c in responses.calls] == [MANIFEST]


@responses.activate
def test_a_manifest_larger_than_the_cap_is_refused():
    responses.add(responses.POST, MANIFEST, body=b"{" + b" " * 2048 + b"}", content_type="application/json")
    with pytest.raises(reader.TooLarge) as refused:
        reader.read_link(make_link(new_key()), "Clinic", limits=Limits(public_only=False, max_bytes=1024), now=NOW)
    assert str(refused.value) == "shl.example.org sent more than 1 KB; it was not read."


@responses.activate
def test_a_file_larger_than_the_cap_is_refused():
    key = new_key()
    manifest({"contentType": "application/fhir+json", "location": FILE})
    responses.add(responses.GET, FILE, body=b"x" * 5000)
    with pytest.raises(reader.TooLarge):
        reader.read_link(make_link(key), "Clinic", limits=Limits(public_only=False, max_bytes=4096), now=NOW)


@responses.activate
def test_a_deflate_bomb_is_stopped_at_the_payload_cap():
    key = new_key()
    bomb = b'{"resourceType":"Bundle","type":"collection","entry":[' + b" " * (64 * 1024 * 1024) + b"]}"
    manifest({"contentType": "application/fhir+json", "embedded": encrypt(bomb, key, zip_=True)})
    limits = Limits(public_only=False, max_payload=1024 * 1024)
    with pytest.raises(reader.TooLarge) as refused:
        reader.read_link(make_link(key), "Clinic", limits=limits, now=NOW)
    assert str(refused.value) == "The records behind this link are larger than 1 MB; they were not read."


def _jwe_with_header(header):
    return ".".join([b64(orjson.dumps(header)), "", b64(b"0" * 12), b64(b"ciphertext"), b64(b"0" * 16)])


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda key: encrypt(BUNDLE, new_key()), id="another key"),
        pytest.param(lambda key: _jwe_with_header({"alg": "none", "enc": "A256GCM"}), id="alg none"),
        pytest.param(lambda key: encrypt(BUNDLE, key[:16], enc="A128GCM"), id="enc A128GCM"),
        pytest.param(lambda key: encrypt(BUNDLE, key)[:-5] + "AAAAA", id="altered tag"),
        pytest.param(lambda key: "not a jwe", id="not a JWE"),
    ],
)
@responses.activate
def test_a_file_not_encrypted_for_this_link_is_refused(forged):
    key = new_key()
    manifest({"contentType": "application/fhir+json", "embedded": forged(key)})
    with pytest.raises(reader.NotDecryptable) as refused:
        reader.read_link(make_link(key), "Clinic", limits=DEV, now=NOW)
    assert str(refused.value) == (
        "The records could not be decrypted with this link's key: the link may be damaged or altered."
    )


@responses.activate
def test_an_expired_link_is_refused_before_fetching():
    with pytest.raises(reader.LinkExpired) as refused:
        reader.read_link(make_link(new_key(), exp=NOW - 60), "Clinic", limits=DEV, now=NOW)
    assert str(refused.value) == "This link expired on January 15, 2027. Ask the patient to make a new one."
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "text",
    ["", "hello", "shlink:/!!!", "shlink:/" + b64(b'{"url": "https://x.org", "key": "short"}')],
)
def test_a_pasted_text_that_is_not_a_link_is_said_so(text):
    with pytest.raises(reader.NotALink):
        reader.read_link(text, "Clinic", limits=DEV, now=NOW)


def test_a_link_with_both_u_and_p_flags_is_refused():
    with pytest.raises(reader.NotALink):
        reader.read_link(make_link(new_key(), flag="PU"), "Clinic", passcode="1234", limits=DEV, now=NOW)


@responses.activate
def test_an_embedded_file_from_a_viewer_url_is_read():
    key = new_key()
    manifest({"contentType": "application/fhir+json;fhirVersion=4.0.1", "embedded": encrypt(BUNDLE, key)})
    brought = reader.read_link("https://viewer.example.org/#" + make_link(key), "Clinic", limits=DEV, now=NOW)
    assert (brought.host, brought.label, brought.notes) == ("shl.example.org", "Records of Alex", [])
    assert [r["id"] for r in brought.resources] == ["a1", "i1"]
    assert json.loads(responses.calls[0].request.body) == {"recipient": "Clinic"}


@responses.activate
def test_a_location_file_compressed_is_read():
    key = new_key()
    manifest({"contentType": "application/fhir+json", "location": FILE})
    responses.add(responses.GET, FILE, body=encrypt(BUNDLE, key, zip_=True), content_type="application/jose")
    brought = reader.read_link(make_link(key), "Clinic", limits=DEV, now=NOW)
    assert [r["id"] for r in brought.resources] == ["a1", "i1"]
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]


@responses.activate
def test_a_passcode_is_sent_and_a_wrong_one_says_how_many_attempts_are_left():
    responses.add(responses.POST, MANIFEST, json={"remainingAttempts": 2}, status=401)
    with pytest.raises(reader.WrongPasscode) as wrong:
        reader.read_link(make_link(new_key(), flag="P"), "Clinic", passcode="0000", limits=DEV, now=NOW)
    assert (str(wrong.value), wrong.value.remaining) == (
        "The passcode is not right (2 attempts left). Check it with the patient.",
        2,
    )
    assert json.loads(responses.calls[0].request.body) == {"recipient": "Clinic", "passcode": "0000"}


@responses.activate
def test_a_passcode_link_without_a_passcode_asks_for_it_without_a_request():
    with pytest.raises(reader.PasscodeNeeded):
        reader.read_link(make_link(new_key(), flag="P"), "Clinic", limits=DEV, now=NOW)
    assert len(responses.calls) == 0


@responses.activate
def test_a_wrong_passcode_answer_without_a_count_still_says_the_passcode_is_wrong():
    responses.add(responses.POST, MANIFEST, body="Unauthorized", status=401)
    with pytest.raises(reader.WrongPasscode) as wrong:
        reader.read_link(make_link(new_key(), flag="P"), "Clinic", passcode="0000", limits=DEV, now=NOW)
    assert str(wrong.value) == "The passcode is not right (attempts limited). Check it with the patient."


@responses.activate
def test_no_attempts_left_means_the_link_is_gone():
    responses.add(responses.POST, MANIFEST, json={"remainingAttempts": 0}, status=401)
    with pytest.raises(reader.LinkGone):
        reader.read_link(make_link(new_key(), flag="P"), "Clinic", passcode="0000", limits=DEV, now=NOW)


@pytest.mark.parametrize(
    "answer", [{"status": 404}, {"status": 200, "json": {"status": "no-longer-valid", "files": []}}]
)
@responses.activate
def test_a_revoked_link_says_so(answer):
    responses.add(responses.POST, MANIFEST, **answer)
    with pytest.raises(reader.LinkGone) as gone:
        reader.read_link(make_link(new_key()), "Clinic", limits=DEV, now=NOW)
    assert str(gone.value) == (
        "This link no longer works: it may have been revoked or used up. Ask the patient for a new one."
    )


@responses.activate
def test_the_u_flag_gets_the_one_file_directly():
    key = new_key()
    responses.add(responses.GET, MANIFEST, body=encrypt(BUNDLE, key))
    brought = reader.read_link(make_link(key, flag="U"), "Dr. Lee's clinic", limits=DEV, now=NOW)
    assert [r["id"] for r in brought.resources] == ["a1", "i1"]
    assert responses.calls[0].request.url == MANIFEST + "?recipient=Dr.%20Lee%27s%20clinic"


ISSUER_JWKS = "https://issuer.example.org/.well-known/jwks.json"
ISSUER_KEY = ECKey.generate_key("P-256")


def card_link(card):
    key = new_key()
    encrypted = encrypt(card, key, cty="application/smart-health-card")
    manifest({"contentType": "application/smart-health-card", "embedded": encrypted})
    return make_link(key)


@responses.activate
def test_a_health_card_signed_by_its_issuer_is_verified_with_the_issuers_published_keys():
    responses.add(responses.GET, ISSUER_JWKS, json=issuer_jwks(ISSUER_KEY))
    brought = reader.read_link(card_link(signed_health_card(BUNDLE, ISSUER_KEY)), "Clinic", limits=DEV, now=NOW)
    assert [r["id"] for r in brought.resources] == ["a1", "i1"]
    assert brought.notes == [
        "A SMART Health Card signed by https://issuer.example.org was verified with the keys "
        "https://issuer.example.org publishes; whether to trust that issuer is for you to judge."
    ]


@responses.activate
def test_a_health_card_signed_by_another_key_is_not_shown():
    responses.add(responses.GET, ISSUER_JWKS, json=issuer_jwks(ISSUER_KEY))
    forged = signed_health_card(BUNDLE, ECKey.generate_key("P-256"))
    forged_kid = issuer_jwks(ISSUER_KEY)["keys"][0]["kid"]
    header = b64(orjson.dumps({"alg": "ES256", "zip": "DEF", "kid": forged_kid}))
    forged["verifiableCredential"][0] = (
        header + forged["verifiableCredential"][0][forged["verifiableCredential"][0].index(".") :]
    )
    with pytest.raises(reader.NotFhir):
        reader.read_link(card_link(forged), "Clinic", limits=DEV, now=NOW)


@responses.activate
def test_a_health_card_whose_issuer_keys_cannot_be_fetched_is_decoded_and_said_to_be_unverified():
    brought = reader.read_link(card_link(health_card(BUNDLE)), "Clinic", limits=DEV, now=NOW)
    assert [r["id"] for r in brought.resources] == ["a1", "i1"]
    assert brought.notes == [
        "A SMART Health Card from https://issuer.example.org was decoded, but its signature was not verified "
        "(its issuer's keys could not be fetched: unreachable): treat it as what the patient brought, "
        "not as a verified record."
    ]
    assert [c.request.url for c in responses.calls] == [MANIFEST, ISSUER_JWKS]


@responses.activate
def test_a_health_card_issuer_on_an_internal_address_is_not_asked_for_keys(monkeypatch):
    monkeypatch.setattr(
        outbound, "public_addresses", lambda host, port: [] if host == "10.0.0.9" else ["93.184.216.34"]
    )
    link = card_link(health_card(BUNDLE, issuer="https://10.0.0.9"))
    brought = reader.read_link(link, "Clinic", limits=PRODUCTION, now=NOW)
    assert "its issuer's keys could not be fetched: host refused" in brought.notes[0]
    assert [c.request.url for c in responses.calls] == [MANIFEST]


@responses.activate
def test_invalid_fhir_entries_are_left_out_and_counted():
    key = new_key()
    bad = {"resourceType": "Immunization", "id": "bad", "status": 7}
    bundle = {**BUNDLE, "entry": [*BUNDLE["entry"], {"resource": bad}]}
    manifest({"contentType": "application/fhir+json", "embedded": encrypt(bundle, key)})
    brought = reader.read_link(make_link(key), "Clinic", limits=DEV, now=NOW)
    assert ([r["id"] for r in brought.resources], brought.notes) == (
        ["a1", "i1"],
        ["1 entry was not valid FHIR and not shown."],
    )


@responses.activate
def test_a_link_holding_no_fhir_is_said_so():
    key = new_key()
    manifest({"contentType": "application/fhir+json", "embedded": encrypt(b"<html>hello</html>", key)})
    with pytest.raises(reader.NotFhir) as refused:
        reader.read_link(make_link(key), "Clinic", limits=DEV, now=NOW)
    assert str(refused.value) == "The link held no FHIR health records this console can read."


class LinkServer:
    """A real HTTP server on loopback serving one manifest and one file (the remote side of an end-to-end read)."""

    def __init__(self, key):
        self.requests = requests_seen = []
        jwe_body = encrypt(BUNDLE, key, zip_=True).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                requests_seen.append(("POST", json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                port = self.server.server_address[1]
                file = {"contentType": "application/fhir+json", "location": f"http://127.0.0.1:{port}/file"}
                self._send(orjson.dumps({"files": [file]}), "application/json")

            def do_GET(self):
                requests_seen.append(("GET", self.path))
                self._send(jwe_body, "application/jose")

            def _send(self, body, content_type):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/manifest"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_end_to_end_against_a_real_server():
    key = new_key()
    server = LinkServer(key)
    try:
        brought = reader.read_link(make_link(key, url=server.url), "Clinic", limits=DEV, now=time.time())
        assert [r["id"] for r in brought.resources] == ["a1", "i1"]
        assert server.requests == [("POST", {"recipient": "Clinic"}), ("GET", "/file")]
        with pytest.raises(reader.HostRefused):  # the same server is refused where only public hosts may be read
            reader.read_link(make_link(key, url=server.url.replace("http:", "https:")), "Clinic", limits=PRODUCTION)
        assert len(server.requests) == 2
    finally:
        server.close()


@responses.activate
def test_a_health_card_deflate_bomb_is_stopped_at_the_payload_cap():
    key = new_key()
    header = b64(orjson.dumps({"alg": "ES256", "zip": "DEF"}))
    bomb = b64(raw_deflate(b"{" + b" " * (32 * 1024 * 1024) + b"}"))
    card = encrypt({"verifiableCredential": [f"{header}.{bomb}.c2ln"]}, key, cty="application/smart-health-card")
    manifest({"contentType": "application/smart-health-card", "embedded": card})
    with pytest.raises(reader.TooLarge):
        reader.read_link(make_link(key), "Clinic", limits=Limits(public_only=False, max_payload=1024 * 1024), now=NOW)


@pytest.mark.parametrize(
    ("url", "exp", "error", "words"),
    [
        (
            "https://[::1/manifest",
            None,
            reader.HostRefused,
            "The link does not point to a secure (https://) web address",
        ),
        (MANIFEST, -1e300, reader.LinkExpired, "This link expired. Ask the patient to make a new one."),
    ],
)
@responses.activate
def test_a_link_with_a_broken_address_or_date_is_refused_in_words(url, exp, error, words):
    with pytest.raises(error) as refused:
        reader.read_link(make_link(new_key(), url=url, exp=exp), "Clinic", limits=DEV, now=NOW)
    assert str(refused.value).startswith(words)
    assert len(responses.calls) == 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "url": st.sampled_from([MANIFEST, "https://[::1", "ftp://x", "", "https://"]) | JSON_VALUES,
        "key": st.sampled_from([b64(b"k" * 32), "", "!!"]) | JSON_VALUES,
        "exp": st.integers() | st.floats(allow_nan=False) | JSON_VALUES,
        "flag": st.text(alphabet="LPUX", max_size=3) | JSON_VALUES,
        "label": JSON_VALUES,
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=PAYLOADS, prefix=st.sampled_from(["shlink:/", "https://viewer.example.org/#shlink:/", "x"]))
def test_any_pasted_link_is_read_or_refused_in_words(payload, prefix):
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        try:
            reader.read_link(prefix + b64(json.dumps(payload).encode()), "Clinic", passcode="1", limits=DEV, now=NOW)
        except reader.LinkError as exc:
            assert str(exc)
