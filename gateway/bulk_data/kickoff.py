"""The kick-off request of a Bulk Data export (Bulk Data Access 2.0, export.html#bulk-data-kick-off-request):
its headers and parameters checked and turned into a job's spec, or a 400 that says what is wrong."""

import datetime as dt
import re
import secrets
import time
from urllib.parse import parse_qsl

import orjson

from gateway.bulk_data.groups import export_patients
from gateway.errors import Forbidden, GatewayError, InvalidSearch
from gateway.fhir.access import visibility
from gateway.fhir.search import RESULT_PARAMS, parse_search
from gateway.store import export_jobs as jobs_store
from mappers import REGISTRY

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
ACCEPTED = ("application/fhir+json", "application/json", "*/*")
PARAMETERS = ("_outputFormat", "_type", "_since", "_typeFilter", "includeAssociatedData", "patient")
# A FHIR instant: seconds and a zone are required (https://hl7.org/fhir/R4/datatypes.html#instant).
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
# _typeFilter queries are comma-separated, but a comma may also separate a search's OR values: a new query starts
# only where a resource type and "?" follow the comma.
_NEXT_QUERY = re.compile(r",(?=[A-Z][A-Za-z]*\?)")


class TooManyExports(GatewayError):
    """A kick-off beyond the limits of active jobs: 429 with Retry-After."""

    status = 429
    code = "throttled"


def check_headers(prefer, accept):
    """``Prefer: respond-async`` is required and the answer is FHIR JSON (export.html#headers)."""
    preferences = [p.strip().lower() for p in prefer.split(",")]
    if "respond-async" not in preferences:
        raise InvalidSearch("A Bulk Data kick-off needs the header Prefer: respond-async")
    offered = [a.split(";")[0].strip().lower() for a in accept.split(",") if a.strip()]
    if offered and not any(a in ACCEPTED for a in offered):
        raise InvalidSearch("A Bulk Data kick-off answers in application/fhir+json: send Accept: application/fhir+json")
    return "handling=lenient" in preferences


def require_system_token(token):
    """Only backend services (system/ scopes, no patient context) export (SMART Backend Services)."""
    if token.patient_id or not any(s.context == "system" for s in token.scopes):
        raise Forbidden("Bulk Data export needs a backend service's system/ token (client_credentials)")


def parameters_of_body(body):
    """The (name, value) pairs of a POSTed Parameters resource (export.html#post-request)."""
    try:
        resource = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidSearch("A POST kick-off takes a FHIR Parameters resource (application/fhir+json)")
    if not isinstance(resource, dict) or resource.get("resourceType") != "Parameters":
        raise InvalidSearch("A POST kick-off takes a FHIR Parameters resource (application/fhir+json)")
    pairs = []
    for param in resource.get("parameter") or []:
        values = [v for k, v in param.items() if k.startswith("value")] if isinstance(param, dict) else []
        if len(values) != 1 or not isinstance(param.get("name"), str):
            raise InvalidSearch("Each kick-off parameter needs a name and one value[x]")
        value = values[0]
        if param["name"] == "patient":
            reference = value.get("reference", "") if isinstance(value, dict) else ""
            if not reference.startswith("Patient/"):
                raise InvalidSearch("patient takes a valueReference to Patient/<id>")
            value = reference.split("/", 1)[1]
        if not isinstance(value, str):
            raise InvalidSearch(f"{param['name']} takes a string value")
        pairs.append((param["name"], value))
    return pairs


def export_spec(conn, token, base, kind, group_id, pairs, lenient):
    """Check a kick-off's parameters; return the job spec (a dict) or raise InvalidSearch naming the problem."""
    warnings = []
    for name in {k for k, _ in pairs} - set(PARAMETERS):
        if not lenient:
            raise InvalidSearch(f"The export parameter '{name}' is not supported")
        warnings.append(f"The export parameter '{name}' is not supported and was ignored")
    formats = [v for k, v in pairs if k == "_outputFormat"]
    if any(f not in OUTPUT_FORMATS for f in formats):
        raise InvalidSearch(f"_outputFormat must be one of {', '.join(OUTPUT_FORMATS)}")
    if any(k == "includeAssociatedData" for k, _ in pairs):
        warnings.append("includeAssociatedData is not supported and was ignored")
    if any(k == "patient" for k, _ in pairs) and kind == "system":
        raise InvalidSearch("patient is a parameter of Patient and Group exports")
    types = _types(token, kind, [v for k, v in pairs if k == "_type"])
    since = _since([v for k, v in pairs if k == "_since"])
    filters = _type_filters(types, base, [v for k, v in pairs if k == "_typeFilter"])
    covered = export_patients(conn, token, group_id)
    patients = [v for k, v in pairs if k == "patient"] or None
    if patients is not None:
        allowed = set(jobs_store.live_patients(conn) if covered is None else covered)
        outside = [p for p in patients if p not in allowed]
        if outside:
            raise InvalidSearch(f"patient names patients this export does not cover: {', '.join(outside)}")
    return {
        "kind": kind,
        "group": group_id,
        "types": types,
        "since": since[0] if since else None,
        "since_ms": since[1] if since else None,
        "type_filters": filters,
        "patients": patients,
        "warnings": warnings,
    }


def _types(token, kind, values):
    """The types to export: those asked for, else every type the kind of export covers that the token may read."""
    covered = jobs_store.compartment_types() if kind != "system" else list(REGISTRY)
    asked = [t.strip() for v in values for t in v.split(",") if t.strip()]
    unknown = [t for t in asked if t not in REGISTRY]
    if unknown:
        raise InvalidSearch(f"_type names resource types this server does not export: {', '.join(unknown)}")
    outside = [t for t in asked if t not in covered]
    if outside:
        raise InvalidSearch(f"_type names types outside the Patient compartment: {', '.join(outside)}")
    if asked:
        for rtype in asked:
            visibility(token, "search", rtype)  # Forbidden names a type the token's scopes do not allow
        return list(dict.fromkeys(asked))
    permitted = []
    for rtype in covered:
        try:
            visibility(token, "search", rtype)
        except Forbidden:
            continue
        permitted.append(rtype)
    return permitted


def _since(values):
    """(the instant, its milliseconds) of _since, or None."""
    if not values:
        return None
    if len(values) > 1 or not _INSTANT.match(values[0]):
        raise InvalidSearch("_since takes one FHIR instant, e.g. 2026-01-01T00:00:00Z")
    moment = dt.datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    return values[0], int(moment.timestamp() * 1000)


def _type_filters(types, base, values):
    """{type: [query string, ...]}: each query parsed with the search API's parser to refuse bad ones now."""
    filters = {}
    for value in values:
        for query in _NEXT_QUERY.split(value):
            rtype, mark, search = query.partition("?")
            if not mark or rtype not in REGISTRY or not search:
                raise InvalidSearch(f"_typeFilter takes Type?search queries, not '{query}'")
            if rtype not in types:
                raise InvalidSearch(f"_typeFilter names {rtype}, which this export does not include (_type)")
            pairs = parse_qsl(search, keep_blank_values=True)
            if any(k in RESULT_PARAMS for k, _ in pairs):
                raise InvalidSearch(f"_typeFilter takes search parameters, not result parameters: '{query}'")
            parse_search(rtype, pairs, base, strict=True)
            filters.setdefault(rtype, []).append(search)
    return filters


def queue_export(conn, config, token, request_url, spec):
    """Queue a job for ``spec``; return its id, or raise TooManyExports beyond the configured limits."""
    job_id = secrets.token_urlsafe(16)
    job = {
        "id": job_id,
        "client_id": token.client_id,
        "scope": token.scope,
        "request_url": request_url,
        # The job outlives the kick-off token: it exports with the client's scopes and practice as they were.
        "spec": {**spec, "practice_reach": token.practice_reach},
        "created_at": int(time.time()),
    }
    limit = jobs_store.create_job(conn, job, config["EXPORT_MAX_PER_CLIENT"], config["EXPORT_MAX_ACTIVE"])
    if limit == "client":
        raise TooManyExports(f"This client has {config['EXPORT_MAX_PER_CLIENT']} exports under way; try again later")
    if limit == "server":
        raise TooManyExports("The server has as many exports under way as it runs; try again later")
    return job_id
