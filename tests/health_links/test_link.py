"""Making and parsing ``shlink:/`` links (SMART Health Links STU1, "Construct a SMART Health Link Payload")."""

import base64

import orjson
import pytest

from gateway.health_links.link import HealthLink, LinkError, make_link, new_key, parse_link

KEY = "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q"
URL = "https://ehr.example.org/shl/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM"


def encoded(payload):
    return "shlink:/" + base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def test_a_link_round_trips_with_every_field():
    text = make_link(URL, KEY, exp=1800000000, flag="PL", label="For Dr. Lee")
    assert text.startswith("shlink:/") and "=" not in text
    assert parse_link(text) == HealthLink(URL, KEY, 1800000000, "LP", "For Dr. Lee", 1)
    payload = orjson.loads(base64.urlsafe_b64decode(text[8:] + "=" * (-len(text[8:]) % 4)))
    assert payload == {"url": URL, "key": KEY, "exp": 1800000000, "flag": "LP", "label": "For Dr. Lee", "v": 1}


def test_a_viewer_prefixed_link_parses_to_the_same_link():
    text = make_link(URL, KEY)
    assert make_link(URL, KEY, viewer="https://viewer.example.org/") == "https://viewer.example.org/#" + text
    assert parse_link("https://viewer.example.org/#" + text) == parse_link(text) == HealthLink(URL, KEY)


def test_a_new_key_is_32_random_bytes_in_43_characters():
    keys = {new_key() for _ in range(20)}
    assert len(keys) == 20
    assert {len(k) for k in keys} == {43}
    assert {len(HealthLink(URL, k).key_bytes) for k in keys} == {32}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://example.org/", "This is not a SMART Health Link: it does not start with shlink:/"),
        ("shlink:/%%%", "The link's payload is not base64url-encoded JSON."),
        (encoded([1]), "The link's payload is not a JSON object."),
        (encoded({"key": KEY}), "The link has no url."),
        (encoded({"url": URL, "key": "short"}), "The link's key is not 32 bytes in base64url (43 characters)."),
        (encoded({"url": URL, "key": KEY, "flag": "X"}), "The link's flag 'X' is not made of the letters L, P and U."),
        (
            encoded({"url": URL, "key": KEY, "flag": "PU"}),
            "A link cannot be both a direct file (U) and passcode-protected (P).",
        ),
        (encoded({"url": URL, "key": KEY, "label": "x" * 81}), "The link's label is longer than 80 characters."),
        (encoded({"url": URL, "key": KEY, "v": 2}), "The link's version 2 is not one this gateway reads (1)."),
        (encoded({"url": "ftp://x", "key": KEY}), "The link's manifest url is not an http(s) address."),
        (encoded({"url": URL, "key": KEY, "exp": "soon"}), "The link's exp is not a number of seconds."),
    ],
)
def test_a_malformed_link_is_refused_saying_why(text, message):
    with pytest.raises(LinkError) as caught:
        parse_link(text)
    assert str(caught.value) == message
