"""The benchmarks' PostgreSQL: a throwaway cluster tuned for a bench, loaded with the bench database.

``loaded_cluster(sqlite_path)`` starts a cluster in a temp folder (tests/pg_cluster.py: initdb and pg_ctl on a free
loopback port), copies the SQLite bench database into it with the function behind `fhir-gateway migrate-to-postgres`
(timed: rows/s), verifies the copy (row counts and each type's FHIR checksum), vacuums and analyzes it, and yields
a ``Loaded`` (the database URL, the postmaster's pid for CPU accounting, the load's timings). The cluster and its
folder are removed when the block ends, also on Ctrl-C or an error.

Unlike the test cluster, this one is durable (fsync, full_page_writes and synchronous_commit stay on: the access
log row each request writes must survive a crash, so its commit waits for the WAL flush in the bench as in
production). shared_buffers holds the 10,000-patient database (1.3 GB on SQLite) with room to spare on this
24 GB machine; max_wal_size keeps the load from checkpointing every few seconds.
"""

import contextlib
import dataclasses
import functools
import json
import os
import secrets
import subprocess
import sys
import time

from tests.pg_cluster import Cluster

SETTINGS = {
    "shared_buffers": "2GB",
    "effective_cache_size": "8GB",
    "max_connections": "100",  # 2 gateway processes x a pool of 10 (gateway/config.py DATABASE_POOL), and a profile
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
}


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ECHO = functools.partial(print, flush=True)  # progress shows at once in a log file too


class PostgresMissing(RuntimeError):
    """initdb and pg_ctl are not installed."""


@dataclasses.dataclass
class Loaded:
    """A loaded bench database: its URL, the postmaster's pid, and how the load went."""

    url: str
    postmaster: int
    load: dict  # what load() returns: rows, seconds, rows_per_second, ...
    secret: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(32))

    def environment(self):
        """The environment a gateway process on this database needs (a PostgreSQL gateway must have a secret)."""
        return {**os.environ, "GATEWAY_SECRET_KEY": self.secret}


@contextlib.contextmanager
def cluster(settings=SETTINGS):
    """A started throwaway cluster, stopped and removed when the block ends; PostgresMissing without initdb."""
    try:
        started = Cluster.start(settings)
    except RuntimeError as exc:
        raise PostgresMissing(f"{exc}; or pass --no-postgres to measure SQLite alone") from exc
    try:
        yield started
    finally:
        started.stop()


def postmaster_pid(started):
    """The pid of the cluster's postmaster (the first line of postmaster.pid); its children are the backends."""
    with open(os.path.join(started.folder, "data", "postmaster.pid")) as found:
        return int(found.readline())


def load(sqlite_path, url):
    """Copy the SQLite database into ``url`` (migrate-to-postgres's copy and verify), then VACUUM ANALYZE it.

    Returns the load's figures (for the report and the JSON results); RuntimeError when the copy differs.
    """
    from gateway.store import moving, postgres

    started = time.perf_counter()
    copied = moving.copy_to_postgres(sqlite_path, url)
    copy_seconds = time.perf_counter() - started
    rows = sum(copied.values())
    started = time.perf_counter()
    differences = moving.verify(sqlite_path, url)
    verify_seconds = time.perf_counter() - started
    if differences:
        raise RuntimeError(f"the PostgreSQL copy of {sqlite_path} differs: {differences[:3]}")
    # Statistics for the planner and a visibility map for index-only scans, before the load rather than by an
    # autovacuum in the middle of a measured round.
    started = time.perf_counter()
    handle = postgres.PgStore(url)
    handle.execute("VACUUM (ANALYZE)")
    vacuum_seconds = time.perf_counter() - started
    version = handle.execute("SHOW server_version").fetchone()[0]
    postgres.close_pool(url)
    return {
        "version": version,
        "rows": rows,
        "seconds": round(copy_seconds, 2),
        "rows_per_second": round(rows / copy_seconds, 1),
        "verify_seconds": round(verify_seconds, 2),
        "vacuum_analyze_seconds": round(vacuum_seconds, 2),
        "settings": SETTINGS,
    }


def load_in_child(sqlite_path, url):
    """load() in a process of its own, killed if this one is interrupted: the verify holds a whole type's stored FHIR
    at once (1.3 GB at 10,000 patients), and a process forked from a bench that big reports the bench's peak RSS as
    its own (bench.export measures the export's)."""
    command = [sys.executable, "-m", "bench.postgres", os.path.abspath(sqlite_path), url]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode != 0:
        raise RuntimeError(f"loading {sqlite_path} into PostgreSQL failed (exit status {child.returncode})")
    return json.loads(out.splitlines()[-1])


@contextlib.contextmanager
def loaded_cluster(sqlite_path, echo=ECHO):
    """A cluster holding a verified copy of ``sqlite_path``: yields a Loaded; everything is removed afterwards."""
    with cluster() as started:
        url = started.database()
        echo(f"loading {sqlite_path} into a throwaway PostgreSQL cluster ({started.folder}) ...")
        figures = load_in_child(sqlite_path, url)
        rate = f"{figures['rows_per_second']:,.0f} rows/s; verified in {figures['verify_seconds']:.1f} s"
        echo(f"copied {figures['rows']:,} rows into PostgreSQL in {figures['seconds']:.1f} s ({rate})")
        yield Loaded(url, postmaster_pid(started), figures)


if __name__ == "__main__":  # load_in_child: python -m bench.postgres SQLITE_PATH URL prints load()'s figures
    print(json.dumps(load(*sys.argv[1:3])))
