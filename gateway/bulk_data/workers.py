"""The export worker pool of a gateway process, and the jobs' life: claim, run, fail, expire, cancel.

Jobs live in the database: a worker claims one in a transaction, beats while it runs, and a job whose beat
stopped (the process was killed, the host restarted) is claimed again by any worker and starts afresh, or is
failed after EXPORT_ATTEMPTS claims. granian builds the app after forking, so the threads start lazily at a
process's first request, as the outbox sender's do (gateway/outbox_sender.py).
"""

import logging
import os
import shutil
import socket
import threading
import time

from gateway.bulk_data.runner import job_folder, run_job
from gateway.store import connect
from gateway.store import export_jobs as jobs_store

log = logging.getLogger(__name__)


def worker_name():
    """This thread's name in ``claimed_by``: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_next(db, config, job_id=None, progress=None):
    """Claim and run the next job (or ``job_id``); return (job id, outcome) or None when there was none."""
    now = int(time.time())
    worker = worker_name()
    job = jobs_store.claim_job(
        db, worker, now, now - int(config["EXPORT_STALE"]), int(config["EXPORT_ATTEMPTS"]), job_id
    )
    if job is None:
        return None
    try:
        outcome = run_job(db, config, job, worker, progress)
    except Exception as exc:  # noqa: BLE001 - a job's failure is reported in its status, not by ending the worker
        log.exception("export %s failed", job["id"])
        now = int(time.time())
        jobs_store.finish_job(db, job["id"], worker, "failed", now, now + int(config["EXPORT_TTL"]), str(exc))
        outcome = "failed"
    return job["id"], outcome


def remove_job(db, config, job):
    """Cancel or expire a job: its row goes, then its files (a worker still running it stops at its next beat)."""
    jobs_store.delete_job(db, job["id"])
    if not job["spec"].get("folder"):  # an operator's --out folder is theirs to keep
        shutil.rmtree(job_folder(config, job), ignore_errors=True)


def expire(db, config, now=None):
    """Delete the jobs (and files) whose EXPORT_TTL has passed; return how many."""
    ids = jobs_store.expired_jobs(db, int(time.time()) if now is None else now)
    for job_id in ids:
        job = jobs_store.export_job(db, job_id)
        if job is not None:
            remove_job(db, config, job)
    return len(ids)


class ExportWorkers:
    """EXPORT_THREADS threads of this process that run queued jobs and delete expired ones."""

    def __init__(self, config):
        self.config = config
        self._wake, self._stop, self._lock = threading.Event(), threading.Event(), threading.Lock()
        self._threads, self._pid = [], None

    @property
    def running(self):
        return self._pid == os.getpid() and any(t.is_alive() for t in self._threads)

    def ensure_running(self):
        """Start this process's worker threads unless they run already."""
        if self.running or self._stop.is_set():
            return
        with self._lock:
            if not self.running:
                self._pid, self._wake = os.getpid(), threading.Event()
                self._threads = [
                    threading.Thread(target=self._run, args=(self._wake,), name=f"export-worker-{n}", daemon=True)
                    for n in range(max(1, int(self.config["EXPORT_THREADS"])))
                ]
                for thread in self._threads:
                    thread.start()

    def wake(self):
        self.ensure_running()
        self._wake.set()

    def stop(self, timeout=5):
        self._stop.set()
        self._wake.set()
        if self._pid == os.getpid():
            for thread in self._threads:
                thread.join(timeout)

    def _run(self, wake):
        db = connect(self.config["DB"])
        while not self._stop.is_set():
            try:
                expire(db, self.config)
                while not self._stop.is_set() and run_next(db, self.config):
                    pass
            except Exception:  # noqa: BLE001 - a locked database must not end the thread
                log.exception("the export worker failed; it tries again at the next wake-up")
            wake.wait(float(self.config["EXPORT_POLL"]))
            wake.clear()


def init_app(app):
    """Create the app's ExportWorkers; in ``thread`` mode they start at this process's first Bulk Data request
    (gateway.fhir.bulk): a kick-off, or a client polling a job that a restart interrupted."""
    app.extensions["export_workers"] = ExportWorkers(app.config)


def workers_of(app):
    return app.extensions["export_workers"]
