"""``python -m bench.export``: a Bulk Data system export against its floor, on a copy of a generated database.

The export runs as the gateway's workers run it (a queued job claimed by ``workers.run_next``) in a process of
its own, so its peak RSS is the worker's. The floor, in another process, is a bare loop that streams
``SELECT json`` of the same rows (every live resource, in pk order) to one file. Each runs twice, alternating,
and the faster run of each counts. The source database is copied first and never written (``--in-place``
skips the copy for a database too large to copy: 100,000 patients are 26 GB; it gains the bench's job rows).

By default (so that `make bench` measures it; ``--no-postgres`` skips it) the same export also runs on PostgreSQL:
the copy is loaded into a throwaway cluster (bench/postgres.py, with the function behind `fhir-gateway
migrate-to-postgres`) and the same job runs there in the same alternation, reported as resources/s, the worker's
peak RSS (the backend's memory is PostgreSQL's, not counted) and its ratio to the SQLite export.

Example: python -m bench.export --patients 10000   (copies var/bench-10000.db, generating it first if missing)
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from bench import postgres as bench_postgres

TARGET_RATIO = 0.5  # of the floor's resources per second
TARGET_RATE = 50_000  # resources per second
TARGET_RSS_MB = 300

EXPORT = """
import json, resource, sys, time
from gateway import config, store
from gateway.store import export_jobs
from gateway.bulk_data import kickoff, workers
from smart_auth.scopes import parse_scopes
from smart_auth.tokens import ALL_PRACTICES, AccessToken
settings = config.load({"DB": sys.argv[1], "EXPORT_DIR": sys.argv[2], "EXPORT_WORKERS": "off"})
conn = store.connect(sys.argv[1])
token = AccessToken("bench", "system/*.rs", parse_scopes("system/*.rs"), None, None, 0, ALL_PRACTICES)
spec = kickoff.export_spec(conn, token, settings["FHIR_BASE"], "system", None, [], False)
job_id = kickoff.queue_export(conn, settings, token, "bench", spec)
started = time.perf_counter()
_, outcome = workers.run_next(conn, settings, job_id)
seconds = time.perf_counter() - started
files = export_jobs.export_files(conn, job_id)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "resources": sum(f["count"] for f in files),
                  "bytes": sum(f["bytes"] for f in files), "files": len(files), "rss_mb": rss}))
"""

FLOOR = """
import json, resource, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1])
started = time.perf_counter()
count = size = 0
with open(sys.argv[2], "wb") as out:
    for (body,) in conn.execute("SELECT json FROM resources WHERE deleted = 0 ORDER BY pk"):
        out.write(body)
        out.write(b"\\n")
        count += 1
        size += len(body) + 1
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "resources": count, "bytes": size, "rss_mb": rss}))
"""


def measure(script, *args, env=None):
    """Run ``script`` in a fresh interpreter; return the JSON it prints."""
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(source, patients, folder):
    """A writable copy of ``source`` (default var/bench-PATIENTS.db, generated first if missing, as bench.run
    does)."""
    if source is None:
        source = os.path.join("var", f"bench-{patients}.db")
        if not os.path.exists(source):
            subprocess.run(
                [
                    os.path.join(os.path.dirname(sys.executable), "fhir-gateway"),
                    "generate",
                    "--db",
                    source,
                    "--patients",
                    str(patients),
                    "--seed",
                    "1",
                ],
                check=True,
            )
    path = os.path.join(folder, "export-bench.db")
    shutil.copyfile(source, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="patients of var/bench-PATIENTS.db")
    parser.add_argument("--source", default=None, help="a generated database to copy (never written unless --in-place)")
    parser.add_argument("--work", default=None, help="folder for the copy and the files (default: a temp folder)")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="export from --source itself, which gains the bench's job rows (for a bench database too large to copy)",
    )
    parser.add_argument(
        "--no-postgres", dest="postgres", action="store_false", help="export from SQLite alone (no PostgreSQL copy)"
    )
    args = parser.parse_args(argv)
    work = args.work or tempfile.mkdtemp(prefix="export-bench-")
    os.makedirs(work, exist_ok=True)  # a --work folder named but not yet made
    try:
        if args.in_place and not args.source:
            parser.error("--in-place needs --source")
        db = args.source if args.in_place else prepare(args.source, args.patients, work)
        with contextlib.ExitStack() as cluster:
            loaded = cluster.enter_context(bench_postgres.loaded_cluster(db)) if args.postgres else None
            report(args, alternate(db, work, loaded), loaded)
    except bench_postgres.PostgresMissing as exc:
        sys.exit(f"bench.export: {exc}")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def alternate(db, work, loaded=None, times=2):
    """Run the floor, the export and (with ``loaded``) the export on PostgreSQL ``times`` each, alternating."""
    runs = {"export": [], "floor": [], **({"postgres": []} if loaded else {})}
    for n in range(times):
        runs["floor"].append(measure(FLOOR, db, os.path.join(work, f"floor-{n}.ndjson")))
        os.unlink(os.path.join(work, f"floor-{n}.ndjson"))
        runs["export"].append(measure(EXPORT, db, os.path.join(work, f"exports-{n}")))
        shutil.rmtree(os.path.join(work, f"exports-{n}"), ignore_errors=True)
        if loaded:
            folder = os.path.join(work, f"exports-pg-{n}")
            runs["postgres"].append(measure(EXPORT, loaded.url, folder, env=loaded.environment()))
            shutil.rmtree(folder, ignore_errors=True)
    return runs


def report(args, runs, loaded=None):
    best = {name: min(found, key=lambda r: r["seconds"]) for name, found in runs.items()}
    export, floor = best["export"], best["floor"]
    assert export["outcome"] == "done" and export["resources"] == floor["resources"], (export, floor)
    rate, floor_rate = export["resources"] / export["seconds"], floor["resources"] / floor["seconds"]
    ratio = rate / floor_rate
    print(f"Bulk export of {export['resources']:,} resources ({args.source or f'{args.patients} patients'})")
    for name, run in best.items():
        print(
            f"  {name:<8} {run['seconds']:7.2f} s  {run['resources'] / run['seconds']:>10,.0f} resources/s"
            f"  {run['bytes'] / run['seconds'] / 2**20:7.1f} MiB/s  peak RSS {run['rss_mb']:6.1f} MB"
        )
    print(f"  export files: {export['files']}, {export['bytes'] / 2**20:.1f} MiB")
    print(
        f"  ratio to floor {ratio:.2f} (target {TARGET_RATIO}), {rate:,.0f} resources/s (target {TARGET_RATE:,}),"
        f" peak RSS {export['rss_mb']:.0f} MB (target < {TARGET_RSS_MB} MB)"
    )
    if "postgres" in best:
        report_postgres(best["postgres"], export, floor, loaded.load)
    print(f"  1-min load average {os.getloadavg()[0]:.2f}")


def report_postgres(pg, export, floor, load):
    """The export on PostgreSQL against the SQLite export and the floor of the same run."""
    assert pg["outcome"] == "done" and (pg["resources"], pg["bytes"]) == (export["resources"], export["bytes"]), pg
    rate = pg["resources"] / pg["seconds"]
    print(
        f"  PostgreSQL {load['version'].split()[0]}: {rate:,.0f} resources/s, ratio to the SQLite export "
        f"{rate / (export['resources'] / export['seconds']):.2f}, to the floor "
        f"{rate / (floor['resources'] / floor['seconds']):.2f}, peak RSS {pg['rss_mb']:.0f} MB (the export worker; "
        f"loaded by migrate-to-postgres: {load['rows']:,} rows at {load['rows_per_second']:,.0f} rows/s)"
    )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind: the cluster and the temp folder go too
    main()
