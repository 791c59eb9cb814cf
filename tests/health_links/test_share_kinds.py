"""What a link holds over time and for whom: a long-term (L) link shows a later visit, a fixed one does not; a
parent of a 12-to-17-year-old cannot share what the proxy rule hides; a U link's file comes by a plain GET."""

import time

import orjson
import pytest

from gateway import store
from gateway.health_links import sharing
from gateway.health_links.link import parse_link
from gateway.records import portal_token
from smart_auth import accounts
from tests import chart
from tests.gateway.test_proxy_access import PARENT, PLAIN, birthday_ago, build
from tests.health_links.helpers import decrypt, make_link, manifest, path_of
from tests.portal_helpers import login, portal_client, show_record

PATIENT = ("patient@example.com", "Patient-Pass1")
LATER = {
    "uid": "dx-later",
    "patient_id": 1,
    "icd10_code": "J45.909",
    "snomed_code": "195967001",
    "description": "Asthma",
    "onset_date": "2026-11-20",
}


@pytest.fixture
def small(empty_db_path):
    db = store.connect(empty_db_path)
    chart.build(db)
    account = accounts.create_account(db, *PATIENT, name="Pat", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    client = portal_client(empty_db_path)
    return db, client, login(client, *PATIENT)


def conditions(client, text):
    answer = manifest(client, text).get_json()
    location = answer["files"][0]["location"]
    bundle = orjson.loads(decrypt(text, client.get(path_of(location)).get_data(as_text=True))[1])
    ids = sorted(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    return answer["status"], ids


def test_a_long_term_link_shows_a_later_visit_and_a_fixed_one_does_not(small):
    db, client, token = small
    _, current = make_link(client, token, content="sections", sections="diagnoses", long_term="yes")
    _, fixed = make_link(client, token, content="sections", sections="diagnoses")
    assert parse_link(current).flag == "L"
    before = conditions(client, current)
    assert conditions(client, fixed) == ("finalized", before[1])
    store.insert_rows(db, "diagnoses", [LATER])
    assert conditions(client, current) == ("can-change", sorted([*before[1], "dx-later"]))
    assert conditions(client, fixed) == ("finalized", before[1])


def test_a_parent_of_a_12_year_old_cannot_share_what_the_proxy_rule_hides(empty_db_path):
    db, parent = build(empty_db_path, birthday_ago(12))
    client = portal_client(empty_db_path)
    token = login(client, *PARENT)
    show_record(client, token, accounts.linked_records(db, parent["id"])[0]["id"])
    for content in ("summary", "everything"):
        for long_term in ("", "yes"):
            _, text = make_link(client, token, content=content, long_term=long_term)
            assert conditions(client, text)[1] == [PLAIN], (content, long_term)


def test_a_long_term_link_ends_with_its_sharers_access(empty_db_path):
    db, parent = build(empty_db_path, birthday_ago(12))
    client = portal_client(empty_db_path)
    token = login(client, *PARENT)
    show_record(client, token, accounts.linked_records(db, parent["id"])[0]["id"])
    _, current = make_link(client, token, long_term="yes")
    _, fixed = make_link(client, token)
    with store.transaction(db):
        db.execute("UPDATE account_links SET status = 'revoked'")
    assert manifest(client, current).status_code == 404
    assert manifest(client, fixed).status_code == 404


def test_a_direct_file_link_answers_a_get_with_the_file(small):
    db, client, token = small
    account = accounts.authenticate(db, *PATIENT, "127.0.0.1")
    record = accounts.linked_records(db, account["id"])[0]
    choices = {"label": "Direct", "content": "summary", "expiry": "week", "direct": True}
    made = sharing.create_link(
        db,
        "s",
        account,
        portal_token(account, record, db),
        record["patient_uid"],
        "http://gateway.test",
        choices,
        int(time.time()),
    )
    assert parse_link(made.text).flag == "U"
    url = path_of(parse_link(made.text).url)
    assert client.get(url).get_json() == {"error": '"recipient" is required: a string naming who is asking.'}
    got = client.get(url + "?recipient=Dr.%20Lee")
    assert got.status_code == 200 and got.mimetype == "application/jose"
    assert orjson.loads(decrypt(made.text, got.get_data(as_text=True))[1])["type"] == "document"
    _, fixed = make_link(client, token)
    assert client.get(path_of(parse_link(fixed).url) + "?recipient=x").status_code == 404


def test_a_long_term_link_stops_when_the_secret_changes(small, empty_db_path):
    db, client, token = small
    _, current = make_link(client, token, long_term="yes")
    assert manifest(client, current).status_code == 200
    other = portal_client(empty_db_path, SECRET_KEY="another-secret")
    answer = manifest(other, current)
    assert (answer.status_code, answer.get_json()["error"][:24]) == (404, "This link is not active:")
