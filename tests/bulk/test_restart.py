"""A worker killed mid-export (SIGKILL) leaves no partial file in any manifest: its job is taken over and
starts afresh, or is failed after EXPORT_ATTEMPTS claims."""

import os
import signal
import subprocess
import sys
import time

import orjson

from fixtures.demo_data import PATIENTS
from gateway.bulk_data import workers
from gateway.store import export_jobs as jobs_store

from .helpers import KICKOFF, file_path, manifest

SLOW_WORKER = """
import sys, time
from gateway import config, store
from gateway.bulk_data import runner, workers
settings = config.load({"DB": sys.argv[1], "EXPORT_DIR": sys.argv[2], "EXPORT_CHUNK": 20, "EXPORT_FILE_BYTES": 4000})
chunk = runner.jobs_store.export_chunk
def slow_chunk(*args):
    time.sleep(0.05)
    return chunk(*args)
runner.jobs_store.export_chunk = slow_chunk
print(workers.run_next(store.connect(sys.argv[1]), settings))
"""


def _wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_killed_worker_leaves_no_partial_file_in_any_manifest(
    bulk_app, bulk_db, bulk_db_path, system_token, tmp_path
):
    app = bulk_app(EXPORT_WORKERS="off", EXPORT_STALE=0, EXPORT_FILE_BYTES=4000)
    web, headers = app.test_client(), system_token()
    response = web.get("/fhir/$export", headers={**KICKOFF, **headers})
    status = response.headers["Content-Location"][len("http://gateway.test") :]
    job_id = status.rsplit("/", 1)[1]
    folder = tmp_path / "exports" / job_id
    worker = subprocess.Popen(
        [sys.executable, "-c", SLOW_WORKER, bulk_db_path, str(tmp_path / "exports")],
        cwd=os.getcwd(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Three whole files, and at least one beat with its count: one chunk of rows may fill several files
        # before the worker's first beat, and a kill before that beat leaves "written" at 0.
        started = _wait_for(
            lambda: (
                len(jobs_store.export_files(bulk_db, job_id)) >= 3
                and jobs_store.export_job(bulk_db, job_id)["written"] > 0
            )
        )
        assert started, worker.stderr.read() if worker.poll() is not None else "no file was finished in time"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert jobs_store.export_job(bulk_db, job_id)["status"] == "running"
    assert any(name.endswith(".part") for name in os.listdir(folder))  # it died inside a file
    stalled = web.get(status, headers=headers)
    job = jobs_store.export_job(bulk_db, job_id)
    assert 0 < job["written"] < job["total"]
    progress = f"{100 * job['written'] // job['total']}% ({job['written']} of about {job['total']} resources)"
    assert stalled.status_code == 202 and stalled.headers["X-Progress"] == progress

    time.sleep(1.1)  # the dead worker's last beat is now older than EXPORT_STALE (0 s)
    assert workers.run_next(bulk_db, app.config) == (job_id, "done")
    body = manifest(web, headers, status)
    listed = {item["url"].rsplit("/", 1)[1] for item in body["output"]}
    assert set(os.listdir(folder)) == listed
    total = 0
    for item in body["output"]:
        lines = web.get(file_path(item["url"]), headers=headers).data.splitlines()
        assert len(lines) == item["count"]
        assert all(orjson.loads(line)["resourceType"] == item["type"] for line in lines)
        total += item["count"]
    assert total == bulk_db.execute("SELECT count(*) FROM resources WHERE deleted = 0").fetchone()[0]
    assert jobs_store.export_job(bulk_db, job_id)["attempts"] == 2


def test_a_job_interrupted_too_often_is_failed(bulk_app, bulk_db, system_token):
    app = bulk_app(EXPORT_WORKERS="off", EXPORT_STALE=0, EXPORT_ATTEMPTS=1)
    web, headers = app.test_client(), system_token()
    status = web.get("/fhir/$export", headers={**KICKOFF, **headers}).headers["Content-Location"][
        len("http://gateway.test") :
    ]
    job_id = status.rsplit("/", 1)[1]
    now = int(time.time())
    assert jobs_store.claim_job(bulk_db, "a-worker-that-dies", now, now, 1)["id"] == job_id
    time.sleep(1.1)
    assert workers.run_next(bulk_db, app.config) is None
    response = web.get(status, headers=headers)
    assert response.status_code == 500
    assert response.get_json()["issue"][0]["diagnostics"] == "The export failed: the export was interrupted 1 times"


def test_the_gateways_worker_threads_run_a_queued_job(bulk_app, system_token):
    app = bulk_app(EXPORT_WORKERS="thread", EXPORT_POLL=0.05)
    web, headers = app.test_client(), system_token()
    try:
        status = web.get("/fhir/$export?_type=Patient", headers={**KICKOFF, **headers}).headers["Content-Location"]
        path = status[len("http://gateway.test") :]
        assert _wait_for(lambda: web.get(path, headers=headers).status_code == 200)
        assert manifest(web, headers, path)["output"][0]["count"] == len(PATIENTS)
    finally:
        workers.workers_of(app).stop()
