"""The FHIR REST API under /fhir: read, search, Patient/$everything and $summary, the CapabilityStatement.

Routes parse the request, ask the access check, call the store, and stitch stored JSON into the
response. No mapper and no model runs here.
"""
import datetime as dt
import functools
from email.utils import format_datetime
from urllib.parse import urlencode

import orjson
from flask import Blueprint, current_app, g, request

from mappers import REGISTRY

from . import capability, disclosures, ips, records, search, store
from .access import current_token, visibility
from .errors import Forbidden, InvalidSearch, NotAcceptable, NotFound, operation_outcome
from .fhir_response import bundle, fhir_json, subset, wants_json
from .search import Clause, SearchQuery, check_bounds, parse_search
from .store.chart import utc_now

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
PUBLIC = {"fhir.metadata"}
MAX_ID = 64  # a FHIR id is 1-64 characters (https://hl7.org/fhir/R4/datatypes.html#id)


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
        disclosures.log_api_read(current_app.config["DB"], g.access_token, *disclosed)
    return response


def _resource_type(name):
    if name not in REGISTRY:
        raise NotFound(f"'{name}' is not a resource type this server serves")
    return name


@bp.get("/metadata")
def metadata():
    return fhir_json(capability.statement_bytes(current_app.config))


class Call:
    """What a FHIR handler needs of one request, whichever front (Flask or fhir_front) received it."""

    def __init__(self, conn, token, base, args, header, url):
        self.conn, self.token, self.base, self.args = conn, token, base, args
        self.header = header  # name -> value or ""
        self.url = url  # () -> the request URL (built only when a response shows it)
        self.disclosed = None  # (patient id, types, count) when the response discloses a record

    def arg(self, name):
        return next((v for k, v in self.args if k == name), None)

    def note_disclosure(self, patient_id, types, count):
        """Only patient-context requests are logged (a system search spans many records)."""
        if patient_id and count:
            self.disclosed = (patient_id, types, count)


def _flask_call():
    return Call(store.current(), current_token(), current_app.config["FHIR_BASE"], list(request.args.items(multi=True)),
                lambda name: request.headers.get(name, ""), lambda: request.url)


def _flask_response(call, status, headers, body):
    if call.disclosed:
        g.disclosed = call.disclosed
    return fhir_json(body, status, headers)


@bp.get("/<rtype>/<rid>")
def read(rtype, rid):
    call = _flask_call()
    return _flask_response(call, *read_response(call, _resource_type(rtype), rid))


def read_response(call, rtype, rid):
    """(status, headers, body) of a read: the stored JSON with its ETag, or 304 when the client has it."""
    _check_id(rtype, rid)
    found = store.read_resource(call.conn, rtype, rid, visibility(call.token, "read", rtype))
    if found is None:
        raise NotFound(f"{rtype}/{rid} is not known")
    body, version, last_updated = found
    call.note_disclosure(call.token.patient_id or (rid if rtype == "Patient" else None), {rtype}, 1)
    etag = f'W/"{version}"'
    headers = {"ETag": etag, "Last-Modified": _http_date(last_updated)}
    if etag in [t.strip() for t in call.header("If-None-Match").split(",")]:
        return 304, headers, b""
    return 200, headers, body


def _check_id(rtype, rid):
    """Not found, without echoing it, for an id no resource can have."""
    if len(rid) > MAX_ID:
        raise NotFound(f"No {rtype} has an id longer than {MAX_ID} characters")


@functools.lru_cache(maxsize=4096)  # a load or an edit stamps many resources with one instant
def _http_date(instant):
    return format_datetime(dt.datetime.fromisoformat(instant.replace("Z", "+00:00")), usegmt=True)


@bp.get("/<rtype>")
def search_get(rtype):
    call = _flask_call()
    return _flask_response(call, *search_response(call, _resource_type(rtype), call.args))


@bp.post("/<rtype>/_search")
def search_post(rtype):
    rtype = _resource_type(rtype)
    if request.mimetype != "application/x-www-form-urlencoded" and request.content_length:
        raise InvalidSearch("POST _search takes an application/x-www-form-urlencoded body", status=415)
    call = _flask_call()
    return _flask_response(call, *search_response(call, rtype, call.args + list(request.form.items(multi=True))))


def search_response(call, rtype, pairs):
    """(status, headers, body) of a search: a searchset Bundle of one page."""
    token, conn, base = call.token, call.conn, call.base
    strict = "handling=strict" in call.header("Prefer")
    query = parse_search(rtype, pairs, base, strict)
    total, page, cursor, snapshot = store.search(conn, query, visibility(token, "search", rtype))
    entries = [(f"{base}/{rtype}/{rid}", _shape(body, query), "match") for _, rid, body in page]
    included = _included(conn, token, base, query, page, {url for url, _, _ in entries})
    entries += included.entries
    kept = [(k, v) for k, v in pairs if k not in ("_cursor", "_snapshot", "_format")]
    links = [("self", _url(base, rtype, kept))]
    if cursor is not None:
        links.append(("next", _url(base, rtype, kept + [("_cursor", str(cursor)), ("_snapshot", str(snapshot))])))
    if query.ignored:
        note = "Ignored unknown or unsupported search parameters: " + ", ".join(query.ignored)
        outcome = orjson.dumps(operation_outcome(note, "not-supported", "warning"))
        entries.append(("urn:uuid:ignored-parameters", outcome, "outcome"))
    if included.cut:
        entries.append(("urn:uuid:included-resources-cut", orjson.dumps(included.warning()), "outcome"))
    shown = [url.rsplit("/", 2)[-2] for url, _, mode in entries if mode != "outcome"]
    call.note_disclosure(token.patient_id, set(shown), len(shown))
    return 200, {}, bundle(total, entries, links)


def _url(base, rtype, pairs):
    query = urlencode(pairs)
    return f"{base}/{rtype}" + (f"?{query}" if query else "")


def _shape(body, query):
    if query.elements is not None:
        return subset(body, keep=set(query.elements))
    if query.summary == "data":
        return subset(body, drop=("text",))
    return body


class IncludedEntries:
    """The included entries of one page: each resource once (a fullUrl is unique in a Bundle, R4 bdl-7), at most
    search.MAX_INCLUDED of them and search.MAX_INCLUDED_BYTES of JSON; ``cut`` when the budget left some out."""

    def __init__(self, shown):
        self.entries, self.shown, self.size, self.cut = [], set(shown), 0, False

    def room(self):
        return search.MAX_INCLUDED - len(self.entries)

    def add(self, url, body):
        if url in self.shown:
            return
        if not self.room() or self.size + len(body) > search.MAX_INCLUDED_BYTES:
            self.cut = True
            return
        self.shown.add(url)
        self.entries.append((url, body, "include"))
        self.size += len(body)

    def warning(self):
        """The outcome entry of a cut page (search.mode "outcome"): matches, Bundle.total and paging stay whole,
        since included resources are not part of them (https://hl7.org/fhir/R4/search.html#include, #count)."""
        return operation_outcome(
            f"Only {len(self.entries)} included resources are returned with this page (at most "
            f"{search.MAX_INCLUDED}, or {search.MAX_INCLUDED_BYTES // 2**20} MiB): ask for fewer matches a page "
            "(_count) or search the included type itself", "too-costly", "warning")


def _included(conn, token, base, query, page, shown):
    """IncludedEntries for _include and _revinclude, each checked against the token like any other read."""
    found = IncludedEntries(shown)
    if not page or not (query.includes or query.revincludes):
        return found
    for _, param in query.includes:
        by_type = {}
        for target in store.references_from(conn, [pk for pk, _, _ in page], param):
            rtype, rid = target.split("/", 1)
            if rtype in REGISTRY and f"{base}/{target}" not in found.shown:
                by_type.setdefault(rtype, []).append(rid)
        for rtype, ids in by_type.items():
            found.cut |= len(ids) > found.room()
            for rid, body in _visible_rows(conn, token, rtype, ids[:found.room()]):
                found.add(f"{base}/{rtype}/{rid}", body)
    targets = [f"{query.type}/{rid}" for _, rid, _ in page]
    for source, param_name in query.revincludes:
        clause = Clause(next(p for p in REGISTRY[source].search_params if p.name == param_name), None, targets)
        try:
            seen = visibility(token, "search", source)
        except Forbidden:
            continue  # a type the token may not see is simply not included
        # Enough rows to fill the room left even if every resource already shown comes back again.
        sub = SearchQuery(source, [clause], count=found.room() + len(found.shown))
        _, rows, more, _ = store.search(conn, sub, seen)
        found.cut |= more is not None
        for _, rid, body in rows:
            found.add(f"{base}/{source}/{rid}", body)
    return found


def _visible_rows(conn, token, rtype, ids):
    try:
        seen = visibility(token, "read", rtype)
    except Forbidden:
        return []
    return [(rid, body) for _, rid, body in store.read_resources(conn, rtype, ids, seen)]


@bp.get("/Patient/<rid>/$everything")
def everything(rid):
    call = _flask_call()
    return _flask_response(call, *everything_response(call, rid))


def everything_response(call, rid):
    """Patient/$everything: the patient's compartment plus the Practitioners and Organizations it references."""
    token, conn, base = call.token, call.conn, call.base
    check_bounds(call.args)
    _check_id("Patient", rid)
    records.require_patient(conn, token, rid)
    wanted = set(filter(None, (call.arg("_type") or "").split(","))) or None
    unknown = (wanted or set()) - set(REGISTRY)
    if unknown:
        raise InvalidSearch(f"_type names unknown resource types: {', '.join(sorted(unknown))}")
    rows = records.patient_record(conn, token, rid, wanted, call.arg("start"), call.arg("end"), call.arg("_since"))
    entries = [(f"{base}/{rtype}/{res_id}", body, "match") for rtype, res_id, body in rows]
    call.note_disclosure(rid, {rtype for rtype, _, _ in rows}, len(rows))
    return 200, {}, bundle(len(entries), entries, [("self", call.url())])


@bp.get("/Patient/<rid>/$summary")
def summary(rid):
    """Patient/$summary: the International Patient Summary document for the patient (IPS 1.1)."""
    call = _flask_call()
    record = records.load_record(call.conn, call.token, rid, types=ips.ips_types())
    call.note_disclosure(rid, set(record.by_type), len(record.rows))
    return _flask_response(call, 200, {}, ips.summary_bundle(record, call.base, utc_now()))
