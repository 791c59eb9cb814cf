"""Attacker tests of the public manifest door: passcodes count down and lock the link (parallel guesses
included), expired, revoked and unknown links answer 404 alike, bad requests a clear 400, big bodies 413,
an address past its budget 429; nothing secret is stored in plain form."""

import contextlib
import os
import sqlite3
import subprocess
import threading
import time

import pytest

from gateway import store
from gateway.health_links import sharing
from gateway.health_links.link import parse_link
from gateway.records import portal_token
from smart_auth import accounts
from tests import chart
from tests.health_links.helpers import make_link, manifest, path_of
from tests.portal_helpers import login, portal_client

PATIENT = ("patient@example.com", "Patient-Pass1")
GONE = "This link is not active: it may have expired, been revoked or run out of passcode attempts."


@pytest.fixture
def small(empty_db_path):
    """tests/chart.py with an account linked to its first patient as self."""
    db = store.connect(empty_db_path)
    chart.build(db)
    account = accounts.create_account(db, *PATIENT, name="Pat", confirmed=True)
    link = accounts.link_account_to_chart(db, account["id"], 1, "self")
    return empty_db_path, db, account, link


@pytest.fixture
def client(small):
    client = portal_client(small[0])
    return client, login(client, *PATIENT)


def test_a_wrong_passcode_counts_down_then_the_link_stops(client):
    client, token = client
    _, text = make_link(client, token, passcode="tulip-42")
    assert parse_link(text).flag == "P"
    for left in (4, 3, 2, 1, 0):
        answer = manifest(client, text, passcode="wrong")
        assert (answer.status_code, answer.get_json()) == (
            401,
            {"error": "The passcode is missing or not right.", "remainingAttempts": left},
        )
    locked = manifest(client, text, passcode="tulip-42")
    assert (locked.status_code, locked.get_json()) == (404, {"error": GONE})


def test_a_right_passcode_opens_the_link_and_costs_no_attempt(client):
    client, token = client
    _, text = make_link(client, token, passcode="tulip-42")
    assert manifest(client, text).get_json()["remainingAttempts"] == 4  # a missing passcode is a wrong one
    assert manifest(client, text, passcode="tulip-42").status_code == 200
    assert manifest(client, text, passcode="nope").get_json()["remainingAttempts"] == 3


def test_parallel_guesses_never_exceed_the_budget(small, client):
    path = small[0]
    web, token = client
    _, text = make_link(web, token, passcode="tulip-42")
    url = path_of(parse_link(text).url)
    answers, start = [], threading.Barrier(12, timeout=60)
    clients = [portal_client(path) for _ in range(12)]  # built first: only the guesses run in parallel

    def guess(own):
        start.wait()
        answer = own.post(url, json={"recipient": "Mallory", "passcode": "guess"})
        answers.append((answer.status_code, (answer.get_json() or {}).get("remainingAttempts")))

    threads = [threading.Thread(target=guess, args=(own,)) for own in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(a for a in answers if a[0] == 401) == [(401, n) for n in range(5)]
    assert [a for a in answers if a[0] != 401] == [(404, None)] * 7


def test_an_expired_link_answers_404(small):
    path, db, account, _ = small
    record = accounts.linked_records(db, account["id"])[0]
    choices = {"label": "Old", "content": "summary", "expiry": "day"}
    made_at = int(time.time()) - 86401
    shared = sharing.create_link(
        db,
        "secret",
        account,
        portal_token(account, record, db),
        record["patient_uid"],
        "http://gateway.test",
        choices,
        made_at,
    )
    answer = manifest(portal_client(path), shared.text)
    assert (answer.status_code, answer.get_json()) == (404, {"error": GONE})


def test_a_revoked_link_answers_404_and_its_locations_too(client):
    client, token = client
    _, text = make_link(client, token, label="To revoke")
    location = manifest(client, text).get_json()["files"][0]["location"]
    page = client.get("/portal/share").get_data(as_text=True)
    uid = page.split("/portal/share/")[1].split("/revoke")[0]
    confirm = client.get(f"/portal/share/{uid}/revoke")
    assert confirm.status_code == 200 and "Revoke To revoke?" in confirm.get_data(as_text=True)
    done = client.post(f"/portal/share/{uid}/revoke", data={"csrf_token": token})
    assert (done.status_code, done.headers["Location"]) == (302, "/portal/share")
    assert manifest(client, text).status_code == 404
    assert client.get(path_of(location)).status_code == 404
    assert "Revoked" in client.get("/portal/share").get_data(as_text=True)
    assert client.post(f"/portal/share/{uid}/revoke", data={"csrf_token": token}).status_code == 404


def test_an_unknown_link_answers_404(client):
    client, _ = client
    answer = client.post("/shl/" + "A" * 43, json={"recipient": "x"})
    assert (answer.status_code, answer.get_json()) == (404, {"error": GONE})
    assert client.get("/shl/file/" + "A" * 43).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The request body is not JSON."),
        (b"[1, 2]", "The request body must be a JSON object."),
        (b"{}", '"recipient" is required: a string naming who is asking.'),
        (b'{"recipient": "  "}', '"recipient" is required: a string naming who is asking.'),
        (b'{"recipient": 7}', '"recipient" is required: a string naming who is asking.'),
        (b'{"recipient": "x", "passcode": 1234}', '"passcode" must be a string.'),
        (
            b'{"recipient": "x", "embeddedLengthMax": -1}',
            '"embeddedLengthMax" must be a whole number of characters, 0 or more.',
        ),
        (
            b'{"recipient": "x", "embeddedLengthMax": "9"}',
            '"embeddedLengthMax" must be a whole number of characters, 0 or more.',
        ),
    ],
)
def test_a_malformed_request_is_a_400_saying_why(client, body, message):
    client, token = client
    _, text = make_link(client, token)
    answer = client.post(path_of(parse_link(text).url), data=body, content_type="application/json")
    assert (answer.status_code, answer.get_json()) == (400, {"error": message})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_huge_body_is_refused(client):
    client, token = client
    _, text = make_link(client, token)
    answer = client.post(path_of(parse_link(text).url), data=b'{"recipient": "' + b"x" * 5000 + b'"}')
    assert (answer.status_code, answer.get_json()) == (413, {"error": "The request body is larger than 4096 bytes."})


def test_an_address_past_its_budget_gets_429(small):
    client = portal_client(small[0], SHL_LIMIT=3, SHL_WINDOW=60)
    codes = [client.post("/shl/" + "B" * 43, json={"recipient": "x"}).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    last = client.post("/shl/" + "B" * 43, json={"recipient": "x"})
    assert last.status_code == 429 and int(last.headers["Retry-After"]) in range(1, 61)


def test_a_viewer_app_may_call_from_any_origin_without_credentials(client):
    client, _ = client
    preflight = client.options(
        "/shl/" + "A" * 43, headers={"Origin": "https://viewer.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in preflight.headers


def dump_of(path, pg_cluster):
    """Every row of the database as text: SQLite's .dump, or pg_dump's (both print blobs and bytea in hex)."""
    if pg_cluster is None:
        with contextlib.closing(sqlite3.connect(path)) as raw:
            return "\n".join(raw.iterdump())
    pg_dump = os.path.join(pg_cluster.bin_dir, "pg_dump")
    return subprocess.run([pg_dump, "--data-only", path], capture_output=True, check=True, text=True).stdout


def test_no_manifest_id_key_or_passcode_is_stored_in_plain_form(small, client, pg_cluster):
    path = small[0]
    web, token = client
    _, fixed = make_link(web, token, passcode="tulip-42")
    _, current = make_link(web, token, long_term="yes")
    dump = dump_of(path, pg_cluster)
    for text in (fixed, current):
        link = parse_link(text)
        assert link.key not in dump
        assert link.url.rsplit("/", 1)[1] not in dump
    assert "tulip-42" not in dump
    assert dump.count("$argon2id$") >= 1
