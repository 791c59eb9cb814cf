"""The FHIR REST API under /fhir: read, search, Patient/$everything and $summary, the CapabilityStatement.

Routes parse the request, ask the access check, call the store, and stitch stored JSON into the
response. No mapper and no model runs here.
"""
import datetime as dt
from email.utils import format_datetime
from urllib.parse import urlencode

import orjson
from flask import Blueprint, current_app, g, request

from mappers import REGISTRY

from . import capability, disclosures, ips, records, store
from .access import current_token, db_conn, visibility
from .errors import Forbidden, InvalidSearch, NotAcceptable, NotFound, operation_outcome
from .fhir_response import bundle, fhir_json, subset, wants_json
from .search import MAX_COUNT, Clause, SearchQuery, parse_search
from .store.chart import utc_now

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
PUBLIC = {"fhir.metadata"}


@bp.before_request
def negotiate_and_authenticate():
    """Refuse non-JSON formats (406) and requests without a valid token (401), before any work."""
    if not wants_json(request.args.get("_format"), request.headers.get("Accept")):
        raise NotAcceptable("This server speaks FHIR JSON only (application/fhir+json)")
    if request.endpoint not in PUBLIC:
        current_token()


@bp.after_request
def log_disclosure(response):
    """One access-log row per request that disclosed patient data (routes set ``g.disclosed``)."""
    disclosed = g.pop("disclosed", None)
    if disclosed and response.status_code == 200:
        disclosures.log_api_read(g.access_token, *disclosed)
    return response


def _disclosed(patient_id, types, count):
    """Note what this request disclosed; only patient-context requests are logged (system searches span many)."""
    if patient_id and count:
        g.disclosed = (patient_id, types, count)


def _resource_type(name):
    if name not in REGISTRY:
        raise NotFound(f"'{name}' is not a resource type this server serves")
    return name


@bp.get("/metadata")
def metadata():
    return fhir_json(capability.statement_bytes(current_app.config))


@bp.get("/<rtype>/<rid>")
def read(rtype, rid):
    rtype = _resource_type(rtype)
    found = store.read_resource(db_conn(), rtype, rid, visibility(current_token(), "read", rtype))
    if found is None:
        raise NotFound(f"{rtype}/{rid} is not known")
    body, version, last_updated = found
    token = current_token()
    _disclosed(token.patient_id or (rid if rtype == "Patient" else None), {rtype}, 1)
    etag = f'W/"{version}"'
    headers = {"ETag": etag, "Last-Modified": _http_date(last_updated)}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return fhir_json(b"", 304, headers)
    return fhir_json(body, 200, headers)


def _http_date(instant):
    return format_datetime(dt.datetime.fromisoformat(instant.replace("Z", "+00:00")), usegmt=True)


@bp.get("/<rtype>")
def search_get(rtype):
    return _search(_resource_type(rtype), list(request.args.items(multi=True)))


@bp.post("/<rtype>/_search")
def search_post(rtype):
    rtype = _resource_type(rtype)
    if request.mimetype != "application/x-www-form-urlencoded" and request.content_length:
        raise InvalidSearch("POST _search takes an application/x-www-form-urlencoded body", status=415)
    pairs = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
    return _search(rtype, pairs)


def _search(rtype, pairs):
    token = current_token()
    strict = "handling=strict" in request.headers.get("Prefer", "")
    query = parse_search(rtype, pairs, current_app.config["FHIR_BASE"], strict)
    conn = db_conn()
    total, page, cursor, snapshot = store.search(conn, query, visibility(token, "search", rtype))
    base = current_app.config["FHIR_BASE"]
    entries = [(f"{base}/{rtype}/{rid}", _shape(body, query), "match") for _, rid, body in page]
    entries += _included(conn, token, query, page)
    kept = [(k, v) for k, v in pairs if k not in ("_cursor", "_snapshot", "_format")]
    links = [("self", _url(rtype, kept))]
    if cursor is not None:
        links.append(("next", _url(rtype, kept + [("_cursor", str(cursor)), ("_snapshot", str(snapshot))])))
    if query.ignored:
        note = "Ignored unknown or unsupported search parameters: " + ", ".join(query.ignored)
        outcome = orjson.dumps(operation_outcome(note, "not-supported", "warning"))
        entries.append(("urn:uuid:ignored-parameters", outcome, "outcome"))
    shown = [url.rsplit("/", 2)[-2] for url, _, mode in entries if mode != "outcome"]
    _disclosed(token.patient_id, set(shown), len(shown))
    return fhir_json(bundle(total, entries, links))


def _url(rtype, pairs):
    query = urlencode(pairs)
    return f"{current_app.config['FHIR_BASE']}/{rtype}" + (f"?{query}" if query else "")


def _shape(body, query):
    if query.elements is not None:
        return subset(body, keep=set(query.elements))
    if query.summary == "data":
        return subset(body, drop=("text",))
    return body


def _included(conn, token, query, page):
    """Entries for _include and _revinclude, each checked against the token like any other read."""
    if not page or not (query.includes or query.revincludes):
        return []
    base, found = current_app.config["FHIR_BASE"], []
    for _, param in query.includes:
        by_type = {}
        for target in store.references_from(conn, [pk for pk, _, _ in page], param):
            rtype, rid = target.split("/", 1)
            by_type.setdefault(rtype, []).append(rid)
        for rtype, ids in by_type.items():
            if rtype in REGISTRY:
                found += _visible_entries(conn, token, rtype, ids, base)
    targets = [f"{query.type}/{rid}" for _, rid, _ in page]
    for source, param_name in query.revincludes:
        clause = Clause(next(p for p in REGISTRY[source].search_params if p.name == param_name), None, targets)
        sub = SearchQuery(source, [clause], count=MAX_COUNT)
        try:
            seen = visibility(token, "search", source)
        except Forbidden:
            continue  # a type the token may not see is simply not included
        _, rows, _, _ = store.search(conn, sub, seen)
        found += [(f"{base}/{source}/{rid}", body, "include") for _, rid, body in rows]
    return found


def _visible_entries(conn, token, rtype, ids, base):
    try:
        seen = visibility(token, "read", rtype)
    except Forbidden:
        return []
    return [(f"{base}/{rtype}/{rid}", body, "include") for _, rid, body in store.read_resources(conn, rtype, ids, seen)]


@bp.get("/Patient/<rid>/$everything")
def everything(rid):
    """Patient/$everything: the patient's compartment plus the Practitioners and Organizations it references."""
    token, conn, base = current_token(), db_conn(), current_app.config["FHIR_BASE"]
    records.require_patient(conn, token, rid)
    wanted = set(filter(None, request.args.get("_type", "").split(","))) or None
    unknown = (wanted or set()) - set(REGISTRY)
    if unknown:
        raise InvalidSearch(f"_type names unknown resource types: {', '.join(sorted(unknown))}")
    rows = records.patient_record(conn, token, rid, wanted, request.args.get("start"), request.args.get("end"),
                                  request.args.get("_since"))
    entries = [(f"{base}/{rtype}/{res_id}", body, "match") for rtype, res_id, body in rows]
    _disclosed(rid, {rtype for rtype, _, _ in rows}, len(rows))
    return fhir_json(bundle(len(entries), entries, [("self", request.url)]))


@bp.get("/Patient/<rid>/$summary")
def summary(rid):
    """Patient/$summary: the International Patient Summary document for the patient (IPS 1.1)."""
    token, conn = current_token(), db_conn()
    record = records.load_record(conn, token, rid, types=ips.IPS_TYPES)
    _disclosed(rid, set(record.by_type), len(record.rows))
    return fhir_json(ips.summary_bundle(record, current_app.config["FHIR_BASE"], utc_now()))
