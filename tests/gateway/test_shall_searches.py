"""Every SHALL search of US Core 6.1.0, run against the demo for every demo patient with that patient's token.

For each served type and each SHALL search (single and combined, from the official CapabilityStatement), the
values come from the patient's own resources as the ONC (g)(10) kit picks them (a token's first coding as
``system|code``, a status as its code, a date as it stands and with ``ge``/``le``/``gt``/``lt``), one resource per
distinct set of token values (so every category the patient has is searched). Each search runs by GET and by
POST ``_search``, with ``patient=<id>`` and ``patient=Patient/<id>``; it must answer 200, every match must carry
the values (tests/gateway/shall_searches.py, from the spec) and the resource the values came from must be among
the matches. A type the patient has none of is skipped for that patient, but every search runs for someone.
"""

import urllib.parse

import orjson
import pytest

from mappers import REGISTRY
from tests.conftest import Tokens
from tests.gateway import shall_searches as spec

FHIR = "/fhir"
FORM = "application/x-www-form-urlencoded"
SEARCHES = spec.shall_searches()
# The CapabilityStatement's types the gateway does not serve (yet): adding one makes this set wrong on purpose.
NOT_SERVED = {
    "Endpoint",
    "HealthcareService",
    "Media",
    "Provenance",
    "ValueSet",
}
# The codes the ONC kit (us-core-test-kit, generated/v6.1.0/medication_request/metadata.yml, ``multiple_or: SHALL``)
# sends together, comma-separated, in a SHALL search: every code of the element's required value set.
MULTIPLE_OR = {
    (
        "MedicationRequest",
        "intent",
    ): "proposal,plan,order,original-order,reflex-order,filler-order,instance-order,option",
    ("MedicationRequest", "status"): "active,on-hold,cancelled,completed,entered-in-error,stopped,draft,unknown",
}
CASES = [(rtype, search) for rtype, searches in SEARCHES.items() if rtype in REGISTRY for search in searches]


def _case_id(case):
    rtype, search = case
    return f"{rtype}?{'+'.join(name for name, _, _ in search)}"


def test_the_types_the_capability_statement_lists_and_we_do_not_serve_are_known():
    assert set(SEARCHES) - set(REGISTRY) == NOT_SERVED


def test_every_served_type_with_shall_searches_is_tested():
    tested = {rtype for rtype, _ in CASES}
    assert tested == {rtype for rtype in SEARCHES if rtype in REGISTRY and SEARCHES[rtype]}
    assert len(CASES) == 51  # DocumentReference adds five, QuestionnaireResponse two (_id, patient)


def _references(resource):
    if isinstance(resource, dict):
        for key, value in resource.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(resource, list):
        for item in resource:
            yield from _references(item)


@pytest.fixture(scope="module")
def record(demo):
    """{patient id: {type: [resource, ...] in pk order}}: the compartment, what it references, the directory."""
    rows = demo.execute("SELECT type, id, patient_id, json FROM resources WHERE deleted = 0 ORDER BY pk").fetchall()
    everything = {(rtype, rid): (patient, orjson.loads(body)) for rtype, rid, patient, body in rows}
    record = {}
    for (rtype, rid), (owner, resource) in everything.items():
        if rtype == "Patient":
            record[rid] = {}
    for patient, by_type in record.items():
        own = [res for (rtype, _), (owner, res) in everything.items() if owner == patient or res["id"] == patient]
        practices = {ref for ref in _references(everything[("Patient", patient)][1]) if ref.startswith("Organization/")}
        seen = {f"{res['resourceType']}/{res['id']}" for res in own}
        referenced = {ref for res in own for ref in _references(res)}
        for (rtype, rid), (owner, res) in everything.items():
            directory = REGISTRY[rtype].practice_directory and practices & set(_references(res))
            if f"{rtype}/{rid}" in seen or (owner is None and (f"{rtype}/{rid}" in referenced or directory)):
                by_type.setdefault(rtype, []).append(res)
    return record


@pytest.fixture(scope="module")
def fhir(make_app, demo):
    """Runs one search as one patient's app: ``fhir(patient, rtype, pairs, method)`` -> (status, bundle)."""
    client = make_app().test_client()
    tokens = Tokens(demo)
    headers = {}

    def run(patient, rtype, pairs, method):
        if patient not in headers:
            headers[patient] = tokens("patient/*.rs", patient)
        pairs = [*pairs, ("_count", "1000")]
        if method == "GET":
            response = client.get(f"{FHIR}/{rtype}", query_string=pairs, headers=headers[patient])
        else:
            body = urllib.parse.urlencode(pairs)
            response = client.post(f"{FHIR}/{rtype}/_search", data=body, content_type=FORM, headers=headers[patient])
        return response.status_code, response.get_json(force=True)

    return run


def _token_query(value):
    system, code = spec.tokens(value)[0]
    return f"{system}|{code}" if system else code


def _string_query(value):
    if isinstance(value, str):
        return value
    return value.get("family") or value.get("city") or spec.string_parts(value)[0]


def _date_forms(value):
    """(prefix, date) pairs that the value matches: as it stands, with each comparator the kit uses (gt, ge, lt,
    le), and with the day before or after for ne, sa and eb (R4 search.html#prefix), so every comparator runs."""
    if isinstance(value, str):
        forms = [("eq", value), ("ge", value), ("le", value)]
        start = value
    else:
        start = value.get("start")
        forms = [("ge", start)] + ([("le", value["end"])] if "end" in value else [])
    forms += [("gt", spec.shifted(start, -1)), ("lt", spec.shifted(start, 1))]
    forms += [("ne", spec.shifted(start, -1)), ("sa", spec.shifted(start, -1)), ("eb", spec.shifted(start, 1))]
    return [(prefix, text) for prefix, text in forms if text and spec.date_matches(prefix, text, value)]


def _queries(patient, resource, search):
    """The parameter lists to run for one resource: both patient forms, then (with ``patient=<id>``) every date
    comparator, each coded token as its bare code, and each multiple-or the kit sends."""
    rtype = resource["resourceType"]
    fixed, dates, patient_forms, variants = [], [], [None], []
    for name, ptype, expression in search:
        values = spec.values_at(resource, expression)
        if name == "patient":
            patient_forms = [patient, f"Patient/{patient}"]
        elif name == "_id":
            fixed.append((name, resource["id"]))
        elif ptype == "token":
            fixed.append((name, _token_query(values[0])))
            if "|" in fixed[-1][1]:
                variants.append((len(fixed) - 1, (name, fixed[-1][1].rpartition("|")[2])))
            if (rtype, name) in MULTIPLE_OR:
                variants.append((len(fixed) - 1, (name, MULTIPLE_OR[rtype, name])))
        elif ptype == "string":
            fixed.append((name, _string_query(values[0])))
        elif ptype == "reference":
            fixed.append((name, values[0]["reference"]))
        else:
            dates = [(name, prefix + text) for prefix, text in _date_forms(values[0])]
    own = [("patient", patient)] if patient_forms[0] else []
    queries = [[*([("patient", form)] if form else []), *fixed, *dates[:1]] for form in patient_forms]
    queries += [[*own, *fixed, date] for date in dates[1:]]
    queries += [[*own, *fixed[:at], pair, *fixed[at + 1 :], *dates[:1]] for at, pair in variants]
    return queries


def _matches(resource, name, ptype, expression, query):
    values = spec.values_at(resource, expression)
    if name == "_id":
        return resource["id"] == query
    if name == "patient" or ptype == "reference":
        return any(v.get("reference", "").endswith(query if "/" in query else f"Patient/{query}") for v in values)
    if ptype == "token":
        wanted = [q.rpartition("|")[::2] if "|" in q else (None, q) for q in query.split(",")]
        found = [pair for v in values for pair in spec.tokens(v)]
        return any(
            (s, c) == (system, code) or (system is None and c == code) for system, code in wanted for s, c in found
        )
    if ptype == "string":
        return any(spec.normalized(p).startswith(spec.normalized(query)) for v in values for p in spec.string_parts(v))
    prefix, text = (query[:2], query[2:]) if query[:2].isalpha() else ("eq", query)
    return any(spec.date_matches(prefix, text, v) for v in values)


def _picks(candidates, search):
    """One resource per distinct set of token values, among those that carry a value for every parameter."""
    picked = {}
    for resource in candidates:
        values = [spec.values_at(resource, expression) for _, _, expression in search]
        if not all(values):
            continue
        key = tuple(_token_query(v[0]) for (_, ptype, _), v in zip(search, values) if ptype == "token")
        picked.setdefault(key, resource)
    return list(picked.values())


@pytest.mark.parametrize("rtype, search", CASES, ids=[_case_id(c) for c in CASES])
def test_shall_search_finds_the_resource_and_only_matches(record, fhir, rtype, search):
    problems, exercised = [], set()
    for patient, by_type in record.items():
        for resource in _picks(by_type.get(rtype, []), search):
            exercised.add(patient)
            for pairs in _queries(patient, resource, search):
                for method in ("GET", "POST"):
                    problems += _check(fhir, patient, search, resource, by_type[rtype], pairs, method)
    assert problems == []
    assert exercised, f"no demo patient has a {rtype} to run {_case_id((rtype, search))} with"


def _check(fhir, patient, search, resource, record, pairs, method):
    """What is wrong with one search's answer: its status, paging, a result that does not match, the resource the
    values came from missing, or any other matching resource of the patient's record missing."""
    rtype = resource["resourceType"]
    status, bundle = fhir(patient, rtype, pairs, method)
    where = f"{method} {rtype}?{'&'.join(f'{k}={v}' for k, v in pairs)}"
    if status != 200:
        return [f"{where}: {status} {bundle}"]
    problems = [f"{where}: paged" for link in bundle.get("link", []) if link["relation"] == "next"]
    matches = [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]
    by_name = {name: (ptype, expression) for name, ptype, expression in search}

    def matching(found):
        return [k for k, v in pairs if k in by_name and not _matches(found, k, *by_name[k], v)]

    problems += [
        f"{where}: {rtype}/{found['id']} does not match {matching(found)}" for found in matches if matching(found)
    ]
    found_ids = {found["id"] for found in matches}
    if resource["id"] not in found_ids:
        problems.append(f"{where}: {rtype}/{resource['id']} not found")
    missing = sorted({r["id"] for r in record if not matching(r)} - found_ids - {resource["id"]})
    if missing:
        problems.append(f"{where}: also matching but missing {missing}")
    return problems
