"""The benchmark floor answers the gateway's URLs with the same resources (tests/gateway fixtures, demo data)."""

import sqlite3

import orjson
import pytest
from werkzeug.test import Client

from bench import floor

BASE = "http://gateway.test"
URLS = [
    "/fhir/Patient/{id}",
    "/fhir/Condition?patient={id}",
    "/fhir/Observation?patient={id}&category=laboratory",
    "/fhir/Patient/{id}/$everything",
]


@pytest.fixture(scope="module")
def floor_client(demo_db_path):
    return Client(floor.make_app(demo_db_path, BASE))


@pytest.fixture(scope="module")
def patient_id(demo_db_path):
    return floor.patients_with_labs(sqlite3.connect(demo_db_path), 1)[0]


def resource_ids(body):
    """The ``Type/id`` of a resource, or of each entry of a Bundle, in order."""
    found = orjson.loads(body)
    if found["resourceType"] != "Bundle":
        return [f"{found['resourceType']}/{found['id']}"]
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in found.get("entry", [])]


@pytest.mark.parametrize("url", URLS)
def test_floor_returns_the_gateways_resources(client, auth, floor_client, patient_id, url):
    url = url.format(id=patient_id)
    gateway = client.get(url, headers=auth("patient/*.rs", patient_id))
    bare = floor_client.get(url)
    assert gateway.status_code == bare.status_code == 200
    assert resource_ids(bare.data) == resource_ids(gateway.data) != []


@pytest.mark.parametrize("url", URLS[1:3])
def test_floor_bundle_total_and_links_match(client, auth, floor_client, patient_id, url):
    url = url.format(id=patient_id)
    gateway = orjson.loads(client.get(url, headers=auth("patient/*.rs", patient_id)).data)
    bare = orjson.loads(floor_client.get(url).data)
    assert (bare["type"], bare["total"]) == (gateway["type"], gateway["total"])
    assert [link["relation"] for link in bare["link"]] == [link["relation"] for link in gateway["link"]]


@pytest.mark.parametrize(
    "url", ["/fhir/Patient/no-such-patient", "/fhir/Patient/no-such-patient/$everything", "/fhir", "/other/Patient/x"]
)
def test_floor_answers_404_for_unknown_ids_and_paths(floor_client, url):
    assert floor_client.get(url).status_code == 404
