"""Running one export job: stored FHIR JSON streamed in keyset chunks into NDJSON files, one set per type.

No mapper and no model runs here: each row's stored JSON is written as it is, one line. Files are split at
EXPORT_FILE_BYTES, written under a temporary name and renamed once whole, and only then recorded, so no
manifest ever lists a partial file. Memory holds one chunk of rows, whatever the population.
"""

import os
import shutil
import time
from urllib.parse import parse_qsl

import orjson

from gateway.bulk_data.groups import export_patients
from gateway.errors import operation_outcome
from gateway.fhir.access import visibility
from gateway.fhir.search import parse_search
from gateway.store import export_jobs as jobs_store
from gateway.store.chart import utc_now
from smart_auth.scopes import parse_scopes
from smart_auth.tokens import AccessToken

PART = ".part"


class Cancelled(Exception):
    """The job is no longer this worker's: deleted (cancelled) or taken over."""


def job_token(job):
    """The token a job exports with: the kick-off token's client, scopes and practice (the job outlives the token)."""
    reach = job["spec"].get("practice_reach")
    return AccessToken(job["client_id"], job["scope"], parse_scopes(job["scope"]), None, None, 0, reach)


def job_folder(config, job):
    """Where a job's files are written: its own folder under EXPORT_DIR, or the CLI's ``--out`` folder."""
    return job["spec"].get("folder") or os.path.join(config["EXPORT_DIR"], job["id"])


class NdjsonFiles:
    """The open NDJSON files of one job, one per type, each closed, renamed and recorded at the size limit."""

    def __init__(self, folder, limit, record):
        self.folder, self.limit, self.record = folder, limit, record
        self.open, self.numbers, self.written = {}, {}, 0

    def write(self, rtype, body):
        entry = self.open.get(rtype)
        if entry is None:
            number = self.numbers[rtype] = self.numbers.get(rtype, 0) + 1
            name = f"{rtype}-{number}.ndjson"
            entry = self.open[rtype] = [name, _private_file(os.path.join(self.folder, name + PART)), 0, 0]
        entry[1].write(body)
        entry[1].write(b"\n")
        entry[2] += 1
        entry[3] += len(body) + 1
        self.written += 1
        if entry[3] >= self.limit:
            self._finish(rtype)

    def _finish(self, rtype, kind="output"):
        name, handle, count, size = self.open.pop(rtype)
        handle.close()
        os.replace(os.path.join(self.folder, name + PART), os.path.join(self.folder, name))
        if not self.record(name, kind, rtype, count, size):
            raise Cancelled()

    def close(self):
        for rtype in list(self.open):
            self._finish(rtype)

    def abandon(self):
        for _, handle, _, _ in self.open.values():
            handle.close()
        self.open = {}

    def write_errors(self, outcomes):
        """The job's OperationOutcomes (warnings included) as the manifest's ``error`` file."""
        if not outcomes:
            return
        name = "OperationOutcome-1.ndjson"
        lines = b"".join(orjson.dumps(o) + b"\n" for o in outcomes)
        with _private_file(os.path.join(self.folder, name + PART)) as f:
            f.write(lines)
        os.replace(os.path.join(self.folder, name + PART), os.path.join(self.folder, name))
        if not self.record(name, "error", "OperationOutcome", len(outcomes), len(lines)):
            raise Cancelled()


def _private_file(path):
    """A new file only its owner reads: exports hold whole charts, like the database (DESIGN.md)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def clear_folder(folder, own):
    """Remove a job's files: its whole folder, or (an operator's ``--out`` folder) only what a job writes there."""
    if own:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        if name.endswith(".ndjson") or name.endswith(".ndjson" + PART):
            os.unlink(os.path.join(folder, name))


def run_job(db, config, job, worker, progress=None):
    """Export a job this worker has claimed; return 'done', 'failed' or 'cancelled'. ``progress(written, total)``
    is called after each chunk (the CLI's progress bar)."""
    folder, own = job_folder(config, job), not job["spec"].get("folder")
    clear_folder(folder, own)  # a resumed job starts afresh
    os.makedirs(folder, mode=0o700, exist_ok=True)
    files = NdjsonFiles(
        folder,
        int(config["EXPORT_FILE_BYTES"]),
        lambda *f: jobs_store.add_file(db, job["id"], worker, *f),
    )
    try:
        with jobs_store.export_reader(db) as reader:
            where, params, total = _plan(db, reader, config, job)
            upto = jobs_store.snapshot_pk(db)
            jobs_store.start_job(db, job["id"], worker, utc_now(), total)
            plan = (where, params, upto, total)
            _stream(db, reader, job, worker, plan, files, int(config["EXPORT_CHUNK"]), progress)
        files.close()
        files.write_errors([operation_outcome(w, "not-supported", "warning") for w in job["spec"]["warnings"]])
    except Cancelled:
        files.abandon()
        clear_folder(folder, own)
        return "cancelled"
    now = int(time.time())
    if not jobs_store.finish_job(
        db, job["id"], worker, "done", now, now + int(config["EXPORT_TTL"]), None, files.written
    ):
        clear_folder(folder, own)
        return "cancelled"
    return "done"


def _stream(db, reader, job, worker, plan, files, chunk, progress):
    """Write the rows of ``plan`` chunk by chunk (read through ``reader``), beating after each (through ``db``);
    Cancelled when the job is gone."""
    where, params, upto, total = plan
    after = 0
    while True:
        rows = jobs_store.export_chunk(reader, where, params, after, upto, chunk)
        for _, rtype, body in rows:
            files.write(rtype, body)
        if progress:
            progress(files.written, total)
        if not rows:
            return
        after = rows[-1][0]
        if not jobs_store.beat(db, job["id"], worker, files.written, int(time.time())):
            raise Cancelled()


def _plan(db, reader, config, job):
    """(where, params, estimated total) of a job's rows."""
    spec, token = job["spec"], job_token(job)
    types = spec["types"]
    visibilities = {t: visibility(token, "search", t) for t in types}
    filters = {
        t: [parse_search(t, parse_qsl(q, keep_blank_values=True), config["FHIR_BASE"], True).clauses for q in queries]
        for t, queries in spec["type_filters"].items()
    }
    patients = spec["patients"] or export_patients(db, token, spec["group"])
    where, params = jobs_store.export_where(types, spec["since_ms"], patients, filters, visibilities)
    return where, params, jobs_store.export_estimate(reader, types, patients)
