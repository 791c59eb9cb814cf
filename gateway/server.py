"""Running the app under granian: a Rust HTTP/1.1 server calling the Flask app through WSGI (issue 16).

One worker process per core, forked by granian's master after ``run`` has migrated the database once; each
worker builds its own app (``_worker_app``) and runs it on BLOCKING_THREADS Python threads, so everything that
belongs to a process (SQLite handles, the export and outbox threads) starts in the worker, lazily, as under
gunicorn before. The master respawns a worker that dies and stops them all on SIGTERM or SIGINT, waiting up to
SHUTDOWN_SECONDS for requests in flight before it kills one.

Limits: granian (hyper) answers on its own, with an empty body, a head over twice HEAD_BUFFER bytes or with more than
100 header lines (431) and a request that is not HTTP/1.x (400). Below that bound the app answers, with a FHIR
OperationOutcome: a request target over LIMIT_REQUEST_LINE bytes (414), a header over LIMIT_REQUEST_FIELD_SIZE
(431), a body over MAX_CONTENT_LENGTH (413, from gateway/app.py). A body is read before the app runs, under
gateway/slow_bodies.py's bound (the threads less one per process, one per client address), so that slow senders
cannot hold every request thread.
"""

import os
from functools import partial

import orjson

from gateway.errors import operation_outcome
from gateway.slow_bodies import SlowBodies

# The longest request target the app accepts (gunicorn's default line limit was 4,094, which a FHIR search
# with a few dozen codes passes); a longer search goes as POST [type]/_search with a form body.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELD_SIZE = 8190
# hyper's read buffer: a request head over twice this never reaches the app (431 from granian; hyper checks
# the size after a read, which may take it past the limit, so 96,000 bytes still passed 64 KiB).
HEAD_BUFFER = 64 * 1024
SHUTDOWN_SECONDS = 30
# Per worker. CPython hands the GIL over in no particular order (bench.gil: p99/p50 of one worker ~200x at 8
# threads, ~4.5x at 2), so every request a worker has in Python at once stretches the others' tails; past a couple
# of threads the rest only wait in granian's queue, which is first come, first served. Measured on a quiet machine
# (2026-11-29, 100,000 patients, `python -m bench.tail --threads 2 3 4 8 --workers 2`, three alternating rounds):
# 3 threads against 8 served reads 5,010 against 4,571 req/s, Condition 3,312 / 2,666, lab Observations
# 3,162 / 2,692, `$everything` 1,628 / 1,266, with p99 at 16 connections 17 / 25 / 19 / 29 ms against
# 19 / 30 / 37 / 53 ms, and token exchanges used ~15 % less CPU each; 2 threads measured like 3. At least one
# thread per worker is always free of outbound calls (``_worker_app`` keeps OUTBOUND_SLOTS below the thread count),
# so a slow peer cannot stop a worker.
BLOCKING_THREADS = 3
_HEADERS = [("Content-Type", "application/fhir+json; charset=utf-8"), ("Connection", "close")]


class RequestLimits:
    """WSGI middleware answering a request over the line or header limits with an OperationOutcome."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        refusal = _over_limits(environ)
        if refusal is None:
            return self.app(environ, start_response)
        status, message = refusal
        body = orjson.dumps(operation_outcome(message, "too-costly"))
        start_response(status, [*_HEADERS, ("Content-Length", str(len(body)))])
        return [body]


def _over_limits(environ):
    """(status, diagnostics) when the request passes a limit, else None."""
    query = environ.get("QUERY_STRING", "")
    target = len(environ.get("PATH_INFO", "").encode("latin-1", "replace")) + (len(query) + 1 if query else 0)
    if target > LIMIT_REQUEST_LINE:
        return (
            "414 URI Too Long",
            f"The request line is longer than {LIMIT_REQUEST_LINE} bytes: send a long search as "
            "POST [type]/_search with a form body",
        )
    for key, value in environ.items():
        if (
            key.startswith("HTTP_")
            and isinstance(value, str)
            and len(key) - 5 + 2 + len(value) > LIMIT_REQUEST_FIELD_SIZE
        ):
            return (
                "431 Request Header Fields Too Large",
                f"The request has a header longer than {LIMIT_REQUEST_FIELD_SIZE} bytes",
            )
    return None


def _worker_app(config, threads=BLOCKING_THREADS):
    """The WSGI callable of one worker process, built after the fork; with ``threads`` request threads, at most
    ``threads - 1`` of them may wait on outbound calls at once (gateway/outbound.py), so one always answers."""
    from gateway import outbound
    from gateway.app import create_app

    app = create_app(config)
    outbound.set_slots(min(app.config["OUTBOUND_SLOTS"], max(1, threads - 1)))
    served = RequestLimits(SlowBodies(app, app.config, threads))
    served.flask_app = app  # for the in-process benches (bench/profile.py, bench/oauth_profile.py)
    return served


def _serving_worker(config, threads):
    """What a granian worker process loads: its app, appending its FHIR read rows to an access-log file of its own
    (gateway/store/log_shards.py; only here, so that the benches' and tests' in-process apps write the main log)."""
    from gateway.store import log_shards

    log_shards.enable()
    return _worker_app(config, threads)


def server(target_name, bind, workers, threads):
    """A granian server with the gateway's settings (bench/floor.py serves its floor with the same)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    host, _, port = bind.rpartition(":")
    return Server(
        target_name,
        address=host,
        port=int(port),
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        websockets=False,
        workers=workers,
        blocking_threads=threads,
        http1_settings=HTTP1Settings(max_buffer_size=HEAD_BUFFER),
        log_level=LogLevels.warning,
        log_access=False,
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=SHUTDOWN_SECONDS,
    )


def serve_wsgi(target_name, loader, bind, workers, threads):
    """Serve the WSGI callable ``loader()`` builds in each worker until SIGTERM or SIGINT."""
    server(target_name, bind, workers, threads).serve(target_loader=loader, wrap_loader=False)


def run(config, bind, workers=None, threads=BLOCKING_THREADS):
    """Serve the gateway until interrupted (``workers``: one per core unless given)."""
    from gateway.app import create_app

    create_app(config)  # fail fast on bad configuration, and migrate once before forking
    serve_wsgi("gateway", partial(_serving_worker, config, threads), bind, workers or os.cpu_count() or 1, threads)
