"""Property tests over FHIR search (hypothesis): whatever names and values a client sends, by GET or POST _search
or to $everything, the answer is never a 5xx, every 4xx is an OperationOutcome and every 200 a searchset Bundle."""

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from gateway import store
from gateway.fhir.search import COMMON_PARAMS, DATE_PREFIXES, MODIFIERS, RESULT_PARAMS
from mappers import REGISTRY
from tests.conftest import Tokens

TYPES = ["Patient", "Condition", "Observation", "Appointment", "DiagnosticReport", "MedicationRequest"]
KNOWN = sorted(
    {p.name for t in TYPES for p in REGISTRY[t].search_params}
    | {p.name for p in COMMON_PARAMS}
    | RESULT_PARAMS
    | {"_type", "_since", "start", "end"}
)
INCLUDES = sorted(f"{t}:{p.name}" for t in REGISTRY for p in REGISTRY[t].search_params if p.type == "reference")
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

text = st.text(st.characters(codec="utf-8"), max_size=40)
modifier = st.sampled_from(sorted({m for ms in MODIFIERS.values() for m in ms} | set(REGISTRY))) | text
# Values at the edges of what the parser, Python and SQLite take, mixed with generated ones.
number = st.sampled_from(
    ["\u00b2", "\u0661", "\uff11", "-1", "1e3", "007", str(2**63 - 1), str(2**63), str(2**64), "9" * 40]
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)
date = st.sampled_from(
    [
        "9999-12-31",
        "9999-12",
        "9999",
        "ge9999-12-31",
        "0001",
        "ap0001-01-01",
        "0000",
        "10000",
        "2020-02-30",
        "2020-06-15T24:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "2020-06-15T10:00:00.1234567890123Z",
        "eb2020-13",
    ]
) | st.builds(
    lambda prefix, year, rest: f"{prefix}{year:04d}{rest}",
    st.sampled_from(["", *DATE_PREFIXES, "xx"]),
    st.integers(0, 10_000),
    st.sampled_from(["", "-01", "-12-31", "-06-15T10:00", "-06-15T10:00:00+14:00"]),
)
token = st.builds(lambda s, c: f"{s}|{c}", text, text)
short = st.one_of(
    text,
    number,
    date,
    token,
    st.sampled_from(INCLUDES),
    st.sampled_from(["true", "false", "count", "data", "Patient/x", ",", "\\"]),
)
long = st.builds(lambda c, n: c * n, st.characters(codec="utf-8"), st.sampled_from([255, 256, 257, 2049, 60_000]))
single = short | long | st.just("\ufdfa" * 200)


def _repeated(values):
    return st.builds(lambda v, n: ",".join([v] * n), values, st.sampled_from([2, 199, 200, 201, 1100]))


value = st.one_of(single, st.lists(short, min_size=2, max_size=6).map(",".join), _repeated(short))
KIND = {
    "_count": number,
    "_cursor": number,
    "_snapshot": number,
    "_include": st.sampled_from(INCLUDES),
    "_revinclude": st.sampled_from(INCLUDES),
    "_elements": st.lists(text, max_size=60).map(",".join),
}
KIND.update({p.name: date for t in TYPES for p in REGISTRY[t].search_params if p.type == "date"})
KIND.update({"_lastUpdated": date, "_since": date, "start": date, "end": date})


def _pair(known):
    """A known parameter (perhaps with a modifier) and a value of its kind, or of any kind."""
    names = st.just(known) | st.builds(lambda m: f"{known}:{m}", modifier)
    kind = KIND.get(known, value)
    return st.tuples(names, kind | _repeated(kind) | value)


pair = st.sampled_from(KNOWN).flatmap(_pair) | st.tuples(text, value)
# Many parameters, but of short values: the request stays under a megabyte, as MAX_CONTENT_LENGTH wants.
short_pair = st.tuples(st.sampled_from(KNOWN), short)
pairs = st.lists(pair, max_size=8) | st.builds(
    lambda p, n: p * n, st.lists(short_pair, min_size=1, max_size=2), st.sampled_from([50, 101, 1100])
)


@pytest.fixture(scope="module")
def fhir(make_app, demo_db_path):
    """A test client and two tokens (a system token and a patient's) on the demo database."""
    client = make_app().test_client()
    patient = store.connect(demo_db_path).execute("SELECT id FROM resources WHERE type = 'Patient'").fetchone()[0]
    tokens = Tokens(store.connect(demo_db_path))
    return client, [tokens("system/*.rs"), tokens("patient/*.rs", patient)], patient


def assert_fhir_answer(response, bundle_type="searchset"):
    assert response.status_code < 500, response.data[:500]
    assert response.content_type == "application/fhir+json; charset=utf-8"
    body = orjson.loads(response.data)
    if response.status_code == 200:
        assert (body["resourceType"], body["type"]) == ("Bundle", bundle_type)
        assert all(e["search"]["mode"] in ("match", "include", "outcome") for e in body.get("entry", []))
    else:
        assert 400 <= response.status_code < 500
        assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["severity"] == "error"


@settings(max_examples=120, **SETTINGS)
@given(rtype=st.sampled_from(TYPES), query=pairs, who=st.integers(0, 1))
def test_get_search_never_fails(fhir, rtype, query, who):
    client, headers, _ = fhir
    assert_fhir_answer(client.get(f"/fhir/{rtype}", query_string=query, headers=headers[who]))


@settings(max_examples=80, **SETTINGS)
@given(rtype=st.sampled_from(TYPES), query=pairs, form=pairs, who=st.integers(0, 1))
def test_post_search_never_fails(fhir, rtype, query, form, who):
    client, headers, _ = fhir
    response = client.post(f"/fhir/{rtype}/_search", query_string=query, data=MultiDict(form), headers=headers[who])
    assert_fhir_answer(response)


@settings(max_examples=60, **SETTINGS)
@given(query=pairs, who=st.integers(0, 1))
def test_everything_never_fails(fhir, query, who):
    client, headers, patient = fhir
    response = client.get(f"/fhir/Patient/{patient}/$everything", query_string=query, headers=headers[who])
    assert_fhir_answer(response)
