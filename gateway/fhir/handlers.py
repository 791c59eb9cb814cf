"""The FHIR API's handlers, free of any web framework: a FhirRequest in, a FhirResponse out.

Both fronts adapt to them: the Flask routes of fhir_api and the lean WSGI front of fhir_front. Every request
takes the one path ``admit`` (content negotiation, then the bearer token) -> a handler -> ``answer`` (the
disclosure log), so the two fronts cannot disagree. Handlers call the access check and the store and stitch
stored JSON into the response; no mapper and no model runs here. They raise the small errors of
gateway.errors, which the Flask app renders as OperationOutcomes.
"""

import base64
import datetime as dt
import functools
from email.utils import format_datetime
from urllib.parse import urlencode

import orjson

from gateway import disclosures, ips, records, store
from gateway.errors import Forbidden, InvalidSearch, NotAcceptable, NotFound, operation_outcome
from gateway.fhir import capability, provenance, search
from gateway.fhir.access import bearer_token, visibility
from gateway.fhir.response import bundle, subset, wants_json
from gateway.fhir.search import Clause, SearchQuery, check_bounds, parse_search
from gateway.store.chart import utc_now
from mappers import REGISTRY

MAX_ID = 64  # a FHIR id is 1-64 characters (https://hl7.org/fhir/R4/datatypes.html#id)
FORM = "application/x-www-form-urlencoded"


def _no_form():
    return []


class FhirRequest:
    """One FHIR request as a front received it.

    ``args`` are the query's (name, value) pairs in order; ``header(name)`` is a header's value or "";
    ``form()`` the pairs of a POSTed form, and ``form`` is None when the body is something other than a form.
    """

    __slots__ = ("method", "path", "args", "header", "form")

    def __init__(self, method, path, args, header, form=_no_form):
        self.method, self.path, self.args, self.header, self.form = method, path, args, header, form

    def arg(self, name):
        """The first value of query parameter ``name``, or None."""
        return next((v for k, v in self.args if k == name), None)


class FhirResponse:
    """A handler's answer: status, headers, body bytes, and what it disclosed (patient id, types, count) or None."""

    __slots__ = ("status", "headers", "body", "disclosed")

    def __init__(self, status, headers, body, disclosed=None):
        self.status, self.headers, self.body, self.disclosed = status, headers, body, disclosed


class FhirCall:
    """What a handler works with: the request, the caller's token (None on public routes), this thread's
    connection, and the app's configuration."""

    __slots__ = ("request", "token", "conn", "config", "base")

    def __init__(self, request, token, conn, config):
        self.request, self.token, self.conn, self.config = request, token, conn, config
        self.base = config["FHIR_BASE"]

    def searcher(self):
        """The handle a search runs on (records.reader: a replica that has replayed the caller's last write, or
        ``conn``). The handlers only read on it.

        Searches and $everything only: a read by id costs the primary as many statements either way (the token, the
        writer's floor, the log row), so on a replica it saved the primary nothing and cost this process 1.7 times
        the CPU (bench/replica.py).
        """
        return records.reader(self.conn, self.config, self.token)


def admit(config, request, public=False, negotiate=True):
    """The FhirCall of a request this server will answer, else NotAcceptable (406) for a format other than
    JSON (unless the handler negotiates itself: ``negotiate`` False, as Binary does), or Unauthorized (401)
    without a valid bearer token unless the route is ``public``."""
    if negotiate and not wants_json(request.arg("_format"), request.header("Accept")):
        raise NotAcceptable("This server speaks FHIR JSON only (application/fhir+json)")
    conn = store.current(config["DB"])
    if public:
        return FhirCall(request, None, conn, config)
    token = bearer_token(conn, request.header("Authorization"))  # the primary's: a revocation holds at once
    return FhirCall(request, token, conn, config)


def answer(call, handler, *params):
    """Run ``handler`` and log what a 200 disclosed: one access-log row per request (DESIGN.md, data flow 4)."""
    response = handler(call, *params)
    if response.disclosed and response.status == 200:
        disclosures.log_api_read(call.config["DB"], call.token, *response.disclosed)
    return response


def _disclosed(patient_id, types, count):
    """Only patient-context requests are logged (a system search spans many records)."""
    return (patient_id, types, count) if patient_id and count else None


def resource_type(name):
    """``name`` when this server searches that resource type, else NotFound (InvalidSearch for Provenance)."""
    if name == provenance.NAME:
        raise InvalidSearch("Provenance is read by id or asked for with _revinclude=Provenance:target")
    if name not in REGISTRY:
        raise NotFound(f"'{name}' is not a resource type this server serves")
    return name


def metadata(call):
    """The CapabilityStatement (public: a client reads it before it has a token)."""
    return FhirResponse(200, {}, capability.statement_bytes(call.config))


def read(call, rtype, rid):
    """A read: the stored JSON (or a Provenance built from its target's) with its ETag, or 304 when the client has
    it."""
    if rtype == provenance.NAME:
        _check_id(rtype, rid)
        found = provenance.read(call.conn, call.token, rid)
    else:
        rtype = resource_type(rtype)
        _check_id(rtype, rid)
        found = store.read_resource(call.conn, rtype, rid, visibility(call.token, "read", rtype))
    if found is None:
        raise NotFound(f"{rtype}/{rid} is not known")
    body, version, last_updated = found
    disclosed = _disclosed(call.token.patient_id or (rid if rtype == "Patient" else None), {rtype}, 1)
    etag = f'W/"{version}"'
    headers = {"ETag": etag, "Last-Modified": _http_date(last_updated)}
    if etag in [t.strip() for t in call.request.header("If-None-Match").split(",")]:
        return FhirResponse(304, headers, b"", disclosed)
    return FhirResponse(200, headers, body, disclosed)


def binary(call, rid):
    """Binary/<id>: a clinical note's document, read with the token that reads its DocumentReference.

    The document is served in its own content type when the client asks for that (or ``*/*``, or sends no
    Accept), and as a FHIR Binary resource (``data`` in base64) when it asks for FHIR JSON (R4 http.html#binary:
    "a FHIR format is requested, the Binary resource is returned"; otherwise "its native form"). No scope
    names Binary in US Core's notes guidance, so the DocumentReference read scope decides; another patient's
    document and no document at all are both 404.
    """
    _check_id("Binary", rid)
    seen = visibility(call.token, "read", "DocumentReference")
    document = store.read_resource(call.conn, "DocumentReference", rid, seen) and store.note_document(call.conn, rid)
    if not document:
        raise NotFound(f"Binary/{rid} is not known")
    content_type, data = document
    disclosed = _disclosed(call.token.patient_id, {"DocumentReference"}, 1)
    if _wants_fhir_binary(call.request, content_type):
        resource = {
            "resourceType": "Binary",
            "id": rid,
            "contentType": content_type,
            "securityContext": {"reference": f"DocumentReference/{rid}"},
            "data": base64.b64encode(data).decode("ascii"),
        }
        return FhirResponse(200, {}, orjson.dumps(resource), disclosed)
    headers = {
        "Content-Type": content_type + ("; charset=utf-8" if content_type.startswith("text/") else ""),
        # A note's HTML is the EHR's, not ours: never let it run script or load anything on this origin.
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    return FhirResponse(200, headers, data, disclosed)


def _wants_fhir_binary(request, content_type):
    """True for FHIR JSON, False for the document itself; NotAcceptable when the client wants neither."""
    fmt = request.arg("_format")
    if fmt:
        if wants_json(fmt, ""):
            return True
        raise NotAcceptable("Binary is served as FHIR JSON (_format=json) or in its own content type")
    offered = [part.split(";")[0].strip().lower() for part in request.header("Accept").split(",")]
    offered = [t for t in offered if t]
    major = content_type.split("/")[0] + "/*"
    if not offered or any(t in (content_type, major, "*/*") for t in offered):
        return any(t in ("application/fhir+json", "application/json+fhir") for t in offered)
    if wants_json(None, request.header("Accept")):
        return True
    raise NotAcceptable(f"This document is {content_type}; ask for it (or */*) or for application/fhir+json")


def _check_id(rtype, rid):
    """Not found, without echoing it, for an id no resource can have."""
    if len(rid) > MAX_ID:
        raise NotFound(f"No {rtype} has an id longer than {MAX_ID} characters")


@functools.lru_cache(maxsize=4096)  # a load or an edit stamps many resources with one instant
def _http_date(instant):
    return format_datetime(dt.datetime.fromisoformat(instant.replace("Z", "+00:00")), usegmt=True)


def search_get(call, rtype):
    """A search by GET: the query's parameters."""
    return _search(call, resource_type(rtype), call.request.args)


def search_post(call, rtype):
    """A search by POST to ``_search``: the query's parameters and the form's (415 for any other body)."""
    rtype = resource_type(rtype)
    if call.request.form is None:
        raise InvalidSearch(f"POST _search takes an {FORM} body", status=415)
    return _search(call, rtype, call.request.args + call.request.form())


def _search(call, rtype, pairs):
    """A searchset Bundle of one page."""
    token, conn, base = call.token, call.searcher(), call.base
    strict = "handling=strict" in call.request.header("Prefer")
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
    return FhirResponse(200, {}, bundle(total, entries, links), _disclosed(token.patient_id, set(shown), len(shown)))


def _url(base, path, pairs):
    query = urlencode(pairs)
    return f"{base}/{path}" + (f"?{query}" if query else "")


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
            "(_count) or search the included type itself",
            "too-costly",
            "warning",
        )


def _included(conn, token, base, query, page, shown):
    """IncludedEntries for _include and _revinclude, each checked against the token like any other read."""
    found = IncludedEntries(shown)
    if not page or not (query.includes or query.revincludes):
        return found
    for _, param in query.includes:
        by_type, canonicals = {}, []
        for target in store.references_from(conn, [pk for pk, _, _ in page], param):
            if "://" in target:  # a canonical (QuestionnaireResponse.questionnaire): found by the target's url
                canonicals.append(target)
                continue
            rtype, rid = target.split("/", 1)
            if rtype in REGISTRY and f"{base}/{target}" not in found.shown:
                by_type.setdefault(rtype, []).append(rid)
        for rtype, rid, body in _by_canonical(conn, token, query.type, param, canonicals, found.room()):
            found.add(f"{base}/{rtype}/{rid}", body)
        for rtype, ids in by_type.items():
            found.cut |= len(ids) > found.room()
            for rid, body in _visible_rows(conn, token, rtype, ids[: found.room()]):
                found.add(f"{base}/{rtype}/{rid}", body)
    targets = [f"{query.type}/{rid}" for _, rid, _ in page]
    for source, param_name in query.revincludes:
        if source == provenance.NAME:
            for rid, body in provenance.of_page(conn, token, [pk for pk, _, _ in page]):
                found.add(f"{base}/{source}/{rid}", body)
            continue
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


def _by_canonical(conn, token, source, param_name, canonicals, room):
    """[(type, id, json)] of the resources whose ``url`` is one of ``canonicals``, of the types a canonical
    parameter targets, as the token may search them (R4 search.html#include: canonical references are followed
    too)."""
    if not canonicals or room <= 0:
        return []
    found = []
    for rtype in next(p for p in REGISTRY[source].search_params if p.name == param_name).targets:
        url = next((p for p in REGISTRY[rtype].search_params if p.name == "url"), None) if rtype in REGISTRY else None
        if url is None:
            continue
        try:
            seen = visibility(token, "search", rtype)
        except Forbidden:
            continue
        _, rows, _, _ = store.search(conn, SearchQuery(rtype, [Clause(url, None, canonicals)], count=room), seen)
        found.extend((rtype, rid, body) for _, rid, body in rows)
    return found


def _visible_rows(conn, token, rtype, ids):
    try:
        seen = visibility(token, "read", rtype)
    except Forbidden:
        return []
    return [(rid, body) for _, rid, body in store.read_resources(conn, rtype, ids, seen)]


def everything(call, rid):
    """Patient/$everything: the patient's compartment plus the Practitioners and Organizations it references."""
    token, conn, base, request = call.token, call.searcher(), call.base, call.request
    check_bounds(request.args)
    _check_id("Patient", rid)
    records.require_patient(conn, token, rid)
    wanted = set(filter(None, (request.arg("_type") or "").split(","))) or None
    unknown = (wanted or set()) - set(REGISTRY)
    if unknown:
        raise InvalidSearch(f"_type names unknown resource types: {', '.join(sorted(unknown))}")
    rows = records.patient_record(
        conn, token, rid, wanted, request.arg("start"), request.arg("end"), request.arg("_since")
    )
    entries = [(f"{base}/{rtype}/{res_id}", body, "match") for rtype, res_id, body in rows]
    disclosed = _disclosed(rid, {rtype for rtype, _, _ in rows}, len(rows))
    # The self link on the configured base, as a search's (not the Host header's, which the caller chooses).
    kept = [(k, v) for k, v in request.args if k != "_format"]
    return FhirResponse(
        200, {}, bundle(len(entries), entries, [("self", _url(base, f"Patient/{rid}/$everything", kept))]), disclosed
    )


def summary(call, rid):
    """Patient/$summary: the International Patient Summary document for the patient (IPS 1.1)."""
    record = records.load_record(call.searcher(), call.token, rid, types=ips.ips_types())
    body = ips.summary_bundle(record, call.base, utc_now())
    return FhirResponse(200, {}, body, _disclosed(rid, set(record.by_type), len(record.rows)))
