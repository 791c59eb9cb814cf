"""Bulk Data Access 2.0 under /fhir: the $export kick-offs, the job status (and DELETE), the file downloads,
and the Group resources an export names. Thin routes over gateway.bulk_data.

https://hl7.org/fhir/uv/bulkdata/STU2/export.html
"""

import os
import time
import zlib
from email.utils import formatdate

import orjson
from flask import Blueprint, Response, current_app, request, send_file

from gateway import store
from gateway.bulk_data import groups, kickoff, workers
from gateway.bulk_data.runner import job_folder
from gateway.errors import InvalidSearch, NotFound, operation_outcome
from gateway.fhir.access import bearer_token
from gateway.fhir.response import bundle, fhir_json
from gateway.store import export_jobs as jobs_store
from mappers import REGISTRY

bp = Blueprint("fhir_bulk", __name__, url_prefix="/fhir")
NDJSON = "application/fhir+ndjson"
_TYPE_ORDER = {name: rank for rank, name in enumerate(REGISTRY)}
RETRY_AFTER = "2"  # seconds between status polls while a job runs
BLOCK = 256 * 1024  # bytes read a step when a download is compressed on the fly


@bp.before_request
def start_workers():
    """This process's export workers start with its first Bulk Data request (granian forks before any)."""
    if current_app.config["EXPORT_WORKERS"] == "thread":
        workers.workers_of(current_app).ensure_running()


def _caller():
    conn = store.current()
    return conn, bearer_token(conn, request.headers.get("Authorization"))


def _kickoff(kind, group_id=None):
    conn, token = _caller()
    kickoff.require_system_token(token)
    lenient = kickoff.check_headers(request.headers.get("Prefer", ""), request.headers.get("Accept", ""))
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        pairs += kickoff.parameters_of_body(request.get_data())
    config = current_app.config
    spec = kickoff.export_spec(conn, token, config["FHIR_BASE"], kind, group_id, pairs, lenient)
    try:
        job_id = kickoff.queue_export(conn, config, token, _request_url(config), spec)
    except kickoff.TooManyExports as exc:
        return fhir_json(operation_outcome(exc.message, exc.code), 429, {"Retry-After": "60"})
    if config["EXPORT_WORKERS"] == "inline":
        workers.run_next(conn, config, job_id)
    elif config["EXPORT_WORKERS"] == "thread":
        workers.workers_of(current_app).wake()
    note = operation_outcome("The export has started: poll the Content-Location URL", "informational", "information")
    for warning in spec["warnings"]:
        note["issue"].append({"severity": "warning", "code": "not-supported", "diagnostics": warning})
    return fhir_json(note, 202, {"Content-Location": f"{config['FHIR_BASE']}/$export-status/{job_id}"})


def _request_url(config):
    """The kick-off URL as the client addressed this server (the configured base, not the Host header)."""
    query = request.query_string.decode("latin-1")
    return config["FHIR_BASE"] + request.path[len("/fhir") :] + (f"?{query}" if query else "")


@bp.route("/$export", methods=["GET", "POST"])
def system_export():
    return _kickoff("system")


@bp.route("/Patient/$export", methods=["GET", "POST"])
def patient_export():
    return _kickoff("patient")


@bp.route("/Group/<group_id>/$export", methods=["GET", "POST"])
def group_export(group_id):
    return _kickoff("group", group_id)


def _own_job(conn, token, job_id):
    """The caller's job, unexpired; another client's job and no job answer alike (404).

    So does a job started while the client reached another practice (an operator rebound it since): its files
    hold that practice's charts, which the client's tokens no longer see.
    """
    job = jobs_store.export_job(conn, job_id)
    if job is None or job["client_id"] != token.client_id or job["spec"].get("practice_reach") != token.practice_reach:
        raise NotFound("No such export job")
    if job["expires_at"] is not None and job["expires_at"] <= time.time():
        workers.remove_job(conn, current_app.config, job)
        raise NotFound("No such export job")
    return job


@bp.route("/$export-status/<job_id>", methods=["GET", "DELETE"])
def export_status(job_id):
    conn, token = _caller()
    job = _own_job(conn, token, job_id)
    if request.method == "DELETE":
        workers.remove_job(conn, current_app.config, job)
        return fhir_json(operation_outcome("The export was cancelled", "informational", "information"), 202)
    if job["status"] in jobs_store.ACTIVE:
        return Response(status=202, headers={"X-Progress": _progress(job), "Retry-After": RETRY_AFTER})
    if job["status"] == "failed":
        return fhir_json(operation_outcome(f"The export failed: {job['error']}", "exception"), 500)
    return Response(
        manifest(current_app.config, job, jobs_store.export_files(conn, job_id)),
        200,
        {"Expires": _http_date(job["expires_at"])},
        content_type="application/json",
    )


def _progress(job):
    if job["status"] == "queued":
        return "queued"
    total = job["total"] or 0
    percent = min(99, 100 * job["written"] // total) if total else 0
    return f"{percent}% ({job['written']} of about {total} resources)"


def _http_date(seconds):
    return formatdate(seconds, usegmt=True)


def manifest(config, job, files):
    """The complete-status body (export.html#response---complete-status): the five keys, ``error`` always."""
    base = f"{config['FHIR_BASE']}/$export-file/{job['id']}/"
    files = sorted(files, key=_file_order)
    body = {
        "transactionTime": job["transaction_time"],
        "request": job["request_url"],
        "requiresAccessToken": True,
        "output": [
            {"type": f["type"], "url": base + f["name"], "count": f["count"]} for f in files if f["kind"] == "output"
        ],
        "error": [{"type": f["type"], "url": base + f["name"]} for f in files if f["kind"] == "error"],
    }
    return orjson.dumps(body)


def _file_order(file):
    """Types in registry order (as the CapabilityStatement lists them), each type's files by number."""
    number = int(file["name"].rsplit("-", 1)[1].split(".")[0])
    return (_TYPE_ORDER.get(file["type"], len(_TYPE_ORDER)), number)


@bp.get("/$export-file/<job_id>/<name>")
def export_file(job_id, name):
    conn, token = _caller()
    job = _own_job(conn, token, job_id)
    if job["status"] != "done" or name not in {f["name"] for f in jobs_store.export_files(conn, job_id)}:
        raise NotFound("No such export file")
    path = os.path.join(job_folder(current_app.config, job), name)
    if _accepts_gzip(request.headers.get("Accept-Encoding", "")) and "Range" not in request.headers:
        return Response(_gzipped(path), 200, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}, mimetype=NDJSON)
    # conditional=True answers Range requests (206 with Content-Range) and If-Range, for resumable downloads.
    response = send_file(path, mimetype=NDJSON, conditional=True, etag=True, max_age=0)
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _accepts_gzip(header):
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _gzipped(path):
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip member (RFC 1952)
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            yield compressor.compress(block)
    yield compressor.flush()


@bp.get("/Group/<group_id>")
def group_read(group_id):
    conn, token = _caller()
    practice = groups.require_group_reader(token)
    found = groups.find_group(conn, group_id, practice)
    if found is None:
        raise NotFound(f"Group/{group_id} is not known")
    return fhir_json(found)


@bp.get("/Group")
def group_search():
    """Group?[_id=][&name=]: every Group matching (name: starts with, case-insensitive, as a string search)."""
    conn, token = _caller()
    practice = groups.require_group_reader(token)
    unknown = {k for k in request.args if k not in ("_id", "name", "_format")}
    if unknown:
        raise InvalidSearch(f"Group is searched by _id and name, not {', '.join(sorted(unknown))}")
    ids = {v for value in request.args.getlist("_id") for v in value.split(",")}
    names = [n.lower() for value in request.args.getlist("name") for n in value.split(",")]
    found = [
        g
        for g in groups.all_groups(conn, practice)
        if (not ids or g["id"] in ids) and (not names or any(g["name"].lower().startswith(n) for n in names))
    ]
    base = current_app.config["FHIR_BASE"]
    entries = [(f"{base}/Group/{g['id']}", orjson.dumps(g), "match") for g in found]
    return fhir_json(bundle(len(entries), entries, [("self", request.url)]))
