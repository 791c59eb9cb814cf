"""The FHIR handlers answer a FhirRequest with a FhirResponse outside any Flask request or app context."""

import orjson
import pytest

from gateway import store
from gateway.errors import InvalidSearch, NotAcceptable, NotFound, Unauthorized
from gateway.fhir import handlers
from gateway.fhir.handlers import FhirRequest
from tests.apps import build_app


@pytest.fixture
def config(chart_db_path):
    return dict(build_app(chart_db_path).config)


@pytest.fixture
def ask(config, chart_auth):
    """Serve one request the way both fronts do: admit, then answer."""

    def ask(handler, *params, args=(), headers=None, scope="patient/*.rs", form=handlers._no_form, public=False):
        found = {"Authorization": chart_auth(scope, "pat-1")["Authorization"], **(headers or {})}
        request = FhirRequest("GET", "/fhir", list(args), lambda name: found.get(name, ""), form)
        return handlers.answer(handlers.admit(config, request, public=public), handler, *params)

    return ask


def _logged(config):
    return store.connect(config["DB"]).execute("SELECT count(*) FROM disclosures").fetchone()[0]


def test_a_read_is_the_stored_json_with_its_version_and_one_log_row(ask, config):
    before = _logged(config)
    response = ask(handlers.read, "Patient", "pat-1")
    assert response.status == 200 and response.headers["ETag"].startswith('W/"')
    assert orjson.loads(response.body)["id"] == "pat-1"
    assert response.disclosed == ("pat-1", {"Patient"}, 1) and _logged(config) == before + 1


def test_a_conditional_read_is_304_and_not_logged(ask, config):
    etag = ask(handlers.read, "Patient", "pat-1").headers["ETag"]
    before = _logged(config)
    response = ask(handlers.read, "Patient", "pat-1", headers={"If-None-Match": etag})
    assert (response.status, response.body) == (304, b"") and _logged(config) == before


def test_a_search_is_a_searchset_with_its_self_link(ask):
    response = ask(handlers.search_get, "Condition", args=[("patient", "pat-1")])
    found = orjson.loads(response.body)
    assert found["type"] == "searchset" and found["total"] == len(found["entry"]) >= 1
    assert found["link"][0] == {"relation": "self", "url": "http://gateway.test/fhir/Condition?patient=pat-1"}


def test_a_posted_search_reads_the_form_and_refuses_any_other_body(ask):
    posted = ask(handlers.search_post, "Condition", form=lambda: [("patient", "pat-1")])
    assert orjson.loads(posted.body)["total"] >= 1
    with pytest.raises(InvalidSearch) as refused:
        ask(handlers.search_post, "Condition", form=None)
    assert refused.value.status == 415


def test_negotiation_and_the_token_come_before_the_handler(ask):
    with pytest.raises(NotAcceptable):
        ask(handlers.read, "Patient", "pat-1", args=[("_format", "xml")])
    with pytest.raises(Unauthorized):
        ask(handlers.read, "Patient", "pat-1", headers={"Authorization": "Basic x"})
    with pytest.raises(NotFound):
        ask(handlers.read, "Nonsense", "1")
    metadata = ask(handlers.metadata, headers={"Authorization": ""}, public=True)
    assert orjson.loads(metadata.body)["resourceType"] == "CapabilityStatement"
