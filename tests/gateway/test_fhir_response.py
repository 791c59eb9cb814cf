"""The Bundle stitched from stored JSON bytes: exact bytes, valid JSON, each entry's search mode."""

import orjson

from gateway.fhir.response import bundle

PATIENT = b'{"resourceType":"Patient","id":"p1"}'
CONDITION = b'{"resourceType":"Condition","id":"c1","note":[{"text":"a \\"quoted\\" note"}]}'
OUTCOME = b'{"resourceType":"OperationOutcome","issue":[]}'


def test_a_bundle_stitches_each_entry_with_its_search_mode():
    entries = [
        ("http://x/fhir/Patient/p1", PATIENT, "match"),
        ("http://x/fhir/Condition/c1", CONDITION, "include"),
        ("urn:uuid:ignored-parameters", OUTCOME, "outcome"),
        ("http://x/fhir/Patient/p1", PATIENT, None),
    ]
    body = bundle(2, entries, [("self", "http://x/fhir/Patient?_id=p1"), ("next", "http://x/fhir/Patient?c=1")])
    assert body == (
        b'{"resourceType":"Bundle","type":"searchset","total":2,"link":['
        b'{"relation":"self","url":"http://x/fhir/Patient?_id=p1"},{"relation":"next","url":"http://x/fhir/Patient?c=1"}],'
        b'"entry":[{"fullUrl":"http://x/fhir/Patient/p1","resource":' + PATIENT + b',"search":{"mode":"match"}},'
        b'{"fullUrl":"http://x/fhir/Condition/c1","resource":' + CONDITION + b',"search":{"mode":"include"}},'
        b'{"fullUrl":"urn:uuid:ignored-parameters","resource":' + OUTCOME + b',"search":{"mode":"outcome"}},'
        b'{"fullUrl":"http://x/fhir/Patient/p1","resource":' + PATIENT + b"}]}"
    )
    assert [e.get("search") for e in orjson.loads(body)["entry"]] == [
        {"mode": "match"},
        {"mode": "include"},
        {"mode": "outcome"},
        None,
    ]


def test_a_bundle_without_entries_or_total_has_neither():
    assert bundle(None, [], [("self", "http://x/fhir/Patient/p1/$everything")], "collection") == (
        b'{"resourceType":"Bundle","type":"collection","link":'
        b'[{"relation":"self","url":"http://x/fhir/Patient/p1/$everything"}]}'
    )


def test_a_bundle_of_one_entry_has_no_trailing_comma():
    body = bundle(1, [("http://x/fhir/Patient/p1", PATIENT, "match")], [])
    assert body == (
        b'{"resourceType":"Bundle","type":"searchset","total":1,"link":[],"entry":['
        b'{"fullUrl":"http://x/fhir/Patient/p1","resource":' + PATIENT + b',"search":{"mode":"match"}}]}'
    )
