"""``python -m bench.run``: the gateway against a bare-WSGI floor, same server, same load, same database.

The gateway and the floor are served by granian with the same settings (gateway/server.py: a worker per
core, BLOCKING_THREADS threads each), and the floor once more by gunicorn's gthread workers (the server before
issue 16), for reference, each in its own processes; wrk drives each case over loopback with keep-alive
connections, rotating over many patients, each with its own patient token, in rounds that alternate over the
three servers. It prints req/s, p50 and p99 per case and server and the gateway/floor ratio (against the
granian floor), and writes bench/results/latest.json.

Unless ``--no-postgres``, the same database is also copied into a throwaway PostgreSQL cluster (bench/postgres.py,
with the function behind `fhir-gateway migrate-to-postgres`, timed) and served by `fhir-gateway serve --db
postgresql://...` as POSTGRES_WORKERS gateway processes, a fourth server in the same alternating rounds; its rows
give the ratio to the floor and to the SQLite gateway, and its CPU per request counts the PostgreSQL backends too.

Example: python -m bench.run --patients 10000 --seconds 10 --scale 100000
"""

import argparse
import collections
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from bench import floor, profile
from bench import postgres as bench_postgres
from bench.report import (
    TARGET_P99_MS,
    TARGET_RATIOS,
    TARGET_WIDE_P99_MS,
    print_run,
    print_scale,
    slowdowns,
    write_results,
)
from gateway.server import BLOCKING_THREADS

CASES = [
    ("read Patient/X", "/fhir/Patient/{id}"),
    ("Condition?patient=X", "/fhir/Condition?patient={id}"),
    ("Observation?patient=X&category=laboratory", "/fhir/Observation?patient={id}&category=laboratory"),
    ("Patient/X/$everything", "/fhir/Patient/{id}/$everything"),
]
WORKERS, THREADS = os.cpu_count() or 1, BLOCKING_THREADS  # `fhir-gateway serve` defaults; the floors get the same
SERVERS = ("gateway", "floor", "floor_gunicorn", "postgres")  # the keys of a case's rows, in serve_commands' order
POSTGRES_WORKERS = 2  # gateway processes against the one PostgreSQL (issue 17: "2 gateway processes")
WARMUP_SECONDS = 2
BIN = os.path.dirname(sys.executable)


class BenchError(RuntimeError):
    """The benchmark cannot run or its two servers disagree."""


def main(argv=None):
    """Run the benchmark at ``--patients`` (and ``--scale``), print the tables and write the JSON."""
    args = parse_args(argv)
    runs = [measure(args.db or f"var/bench-{args.patients}.db", args.patients, args)]
    print_run(runs[0], args)
    scale = []
    if args.scale:
        runs.append(measure(f"var/bench-{args.scale}.db", args.scale, args))
        print_run(runs[1], args)
        scale = slowdowns(runs[0], runs[1])
        print_scale(scale, runs)
    write_results(runs, scale, args)
    rows = [row for run in runs for row in run["cases"] + run["wide"]]
    passed = all(r["pass"] and r.get("postgres_pass", True) for r in rows)
    return 0 if passed and all(s["pass"] for s in scale) else 1


def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="patients to generate if the db is empty")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per case and server")
    parser.add_argument("--connections", type=int, default=16, help="wrk keep-alive connections")
    parser.add_argument("--db", default=None, help="database path (default var/bench-PATIENTS.db)")
    parser.add_argument("--scale", type=int, default=None, help="also run at this many patients and compare")
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per case; the median counts")
    parser.add_argument("--sample", type=int, default=500, help="patients (with labs) the load rotates over")
    parser.add_argument(
        "--wide", type=int, default=256, help="then load the gateway alone with this many connections (0: not)"
    )
    parser.add_argument(
        "--profile-requests", type=int, default=500, help="in-process requests per case for the profile (0: none)"
    )
    parser.add_argument(
        "--no-postgres",
        dest="postgres",
        action="store_false",
        help="measure SQLite alone (no throwaway PostgreSQL cluster, no PostgreSQL rows)",
    )
    return parser.parse_args(argv)


def measure(db_path, patients, args):
    """Build the database if needed (and its PostgreSQL copy), start the servers, verify them, run wrk on every
    case, then profile each engine in-process."""
    ensure_database(db_path, patients)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        ids = floor.patients_with_labs(conn, args.sample)
    if not ids:
        raise BenchError(f"{db_path} has no patients with laboratory Observations")
    tokens = issue_tokens(db_path, ids)  # before the PostgreSQL copy, which takes them along
    with contextlib.ExitStack() as cluster:
        loaded = cluster.enter_context(bench_postgres.loaded_cluster(db_path)) if args.postgres else None
        load_before = os.getloadavg()[0]  # other work on the machine skews every number; say how much there was
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(server(command, port, env, also))
                for command, port, env, also in serve_commands(db_path, [free_port() for _ in SERVERS], loaded)
            ]
            cases = [measure_case(name, pattern, ids, tokens, servers, args) for name, pattern in CASES]
            wide = [
                wide_case(name, pattern, ids, tokens, servers[0], args, servers[1])
                for name, pattern in CASES
                if args.wide
            ]
        # After the servers stop, so that the profile has the machine's cores to itself (bench/profile.py).
        n = args.profile_requests
        profiles = profile.profile_cases(db_path, CASES, ids, tokens, n) if n else []
        if n and loaded:
            profiles += profile.profile_cases(loaded.url, CASES, ids, tokens, n, secret=loaded.secret)
        load_after = os.getloadavg()[0]
    return {
        "db": db_path,
        "patients": count_patients(db_path),
        "sampled_patients": len(ids),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "server": {"server": "granian", "workers": WORKERS, "threads": THREADS, "reference": "gunicorn gthread"},
        "postgres": {"workers": POSTGRES_WORKERS, "threads": THREADS, **loaded.load} if loaded else None,
        "cases": cases,
        "wide": wide,
        "profile": profiles,
    }


def serve_commands(db_path, ports, loaded=None):
    """(command, port, environment, other pids whose CPU counts) of each server: the gateway's own `serve`, the
    floor's under granian and under gunicorn, and with ``loaded`` (a bench_postgres.Loaded) the gateway on its
    PostgreSQL copy, whose CPU includes the postmaster's children (the backends serving it)."""
    options = ["--db", db_path, "--workers", str(WORKERS), "--threads", str(THREADS)]
    commands = [
        ([f"{BIN}/fhir-gateway", "serve", *options], None, ()),
        ([sys.executable, "-m", "bench.floor", *options, "--server", "granian"], None, ()),
        ([sys.executable, "-m", "bench.floor", *options, "--server", "gunicorn"], None, ()),
    ]
    if loaded is not None:
        options = ["--db", loaded.url, "--workers", str(POSTGRES_WORKERS), "--threads", str(THREADS)]
        commands.append(([f"{BIN}/fhir-gateway", "serve", *options], loaded.environment(), (loaded.postmaster,)))
    return [
        ([*command, "--port", str(port)], port, env, also)
        for (command, env, also), port in zip(commands, ports, strict=False)
    ]


def measure_case(name, pattern, ids, tokens, servers, args):
    """Verify one case on every server, then load them in alternating wrk rounds; return the case's row."""
    requests = [(pattern.format(id=i), f"Bearer {tokens[i]}") for i in ids]
    for path, authorization in requests[:3]:
        verify(name, path, authorization, *(served.port for served in servers))
    with lua_script(requests) as script:
        for served in servers:
            wrk(served.port, script, args.connections, WARMUP_SECONDS)
        rounds = [
            [load_round(served.port, served.process, script, args, served.also) for served in servers]
            for _ in range(args.rounds)
        ]
    gateway, bare, reference, *pg = (median_round([r[side] for r in rounds]) for side in range(len(servers)))
    ratio = gateway["rps"] / bare["rps"] if bare["rps"] else 0.0
    errors = gateway["errors"] + bare["errors"] + reference["errors"]
    ok = ratio >= TARGET_RATIOS[name] and gateway["p99_ms"] < TARGET_P99_MS and not errors
    row = {
        "case": name,
        "gateway": gateway,
        "floor": bare,
        "floor_gunicorn": reference,
        "ratio": round(ratio, 3),
        "ratio_gunicorn": round(gateway["rps"] / reference["rps"], 3) if reference["rps"] else 0.0,
        "cpu_ratio": _cpu_ratio(bare, gateway),
        "pass": ok,
    }
    return row | (postgres_row(pg[0], gateway, bare) if pg else {})


def postgres_row(pg, gateway, bare):
    """The PostgreSQL gateway's figures beside the SQLite gateway's and the floor's (no target: errors fail it)."""
    return {
        "postgres": pg,
        "postgres_ratio": round(pg["rps"] / bare["rps"], 3) if bare["rps"] else 0.0,
        "postgres_ratio_sqlite": round(pg["rps"] / gateway["rps"], 3) if gateway["rps"] else 0.0,
        "postgres_cpu_ratio_sqlite": _cpu_ratio(gateway, pg),
        "postgres_pass": not pg["errors"],
    }


def _cpu_ratio(cheaper, dearer):
    """CPU per request of ``cheaper`` / of ``dearer`` (None when either is unknown)."""
    cpu = cheaper["cpu_ms_per_request"], dearer["cpu_ms_per_request"]
    return round(cpu[0] / cpu[1], 3) if None not in cpu and cpu[1] else None


def wide_case(name, pattern, ids, tokens, gateway, args, floor=None):
    """One case at ``args.wide`` connections: the gateway, judged on no errors and a p99 under TARGET_WIDE_P99_MS
    (issue 16), then ``floor`` (the granian floor) the same way, so that the row shows whether any server returning
    those bytes meets the target on this machine. One round each after a warm-up: this shows what many clients do
    to the tail. ``mean_ms`` is connections / req/s, the mean latency Little's law sets at that throughput (wrk's
    clients send the next request as soon as an answer arrives); a p99 under it would need the slowest 1 % of
    requests to carry most of the waiting."""
    row = {"case": name, "connections": args.wide, **_wide_round(pattern, ids, tokens, gateway, args)}
    row["pass"] = not row["errors"] and row["p99_ms"] < TARGET_WIDE_P99_MS
    if floor is not None:
        row["floor"] = _wide_round(pattern, ids, tokens, floor, args)
        row["floor"]["pass"] = not row["floor"]["errors"] and row["floor"]["p99_ms"] < TARGET_WIDE_P99_MS
    return row


def _wide_round(pattern, ids, tokens, served, args):
    port, process = served[:2]
    requests = [(pattern.format(id=i), f"Bearer {tokens[i]}") for i in ids]
    with lua_script(requests) as script:
        wrk(port, script, args.wide, WARMUP_SECONDS)
        result = load_round(port, process, script, argparse.Namespace(connections=args.wide, seconds=args.seconds))
    result["mean_ms"] = round(1000 * args.wide / result["rps"], 1) if result["rps"] else None
    return result


def median_round(rounds):
    """The round with the median req/s, plus every round's req/s and all rounds' errors."""
    middle = dict(sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2])
    middle["rounds_rps"] = [r["rps"] for r in rounds]
    middle["errors"] = sum(r["errors"] for r in rounds)
    return middle


def ensure_database(db_path, patients):
    """Generate ``patients`` synthetic patients into ``db_path`` unless it already holds patients."""
    found = count_patients(db_path) if os.path.exists(db_path) else 0
    if found:
        if found < patients:
            print(f"note: {db_path} holds {found} patients, not {patients}; measuring what it holds", flush=True)
        return
    print(f"Generating {patients} patients into {db_path} (fhir-gateway generate) ...", flush=True)
    done = subprocess.run(
        [f"{BIN}/fhir-gateway", "generate", "--db", db_path, "--patients", str(patients), "--seed", "1"]
    )
    if done.returncode != 0:
        raise BenchError(
            "`fhir-gateway generate` failed; to try the bench on the demo data instead run "
            "`fhir-gateway load-demo --db var/bench-demo.db` and pass --db var/bench-demo.db"
        )


def count_patients(db_path):
    """How many Patient resources the database serves (0 if it has no projection yet)."""
    try:
        with contextlib.closing(sqlite3.connect(db_path)) as conn:
            return conn.execute("SELECT count(*) FROM resources WHERE type = 'Patient' AND deleted = 0").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def issue_tokens(db_path, ids):
    """One ``patient/*.rs`` bearer token per patient, issued by the function behind `fhir-gateway token issue`."""
    from gateway import store
    from smart_auth.tokens import issue_access_token

    db = store.connect(db_path)
    return {i: issue_access_token(db, "bench", "patient/*.rs", i, ttl=3600) for i in ids}


def free_port():
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


Served = collections.namedtuple("Served", "port process also")  # also: other pids whose CPU is the server's


@contextlib.contextmanager
def server(command, port, env=None, also=()):
    """Run a server in its own process group until the block ends (also on Ctrl-C or failure); yield a Served."""
    process = subprocess.Popen(command, start_new_session=True, env=env)
    try:
        wait_until_listening(process, port)
        yield Served(port, process, also)
    finally:
        stop(process)


def wait_until_listening(process, port, timeout=60):
    """Block until ``port`` accepts connections; BenchError if the server exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{' '.join(process.args)} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise BenchError(f"nothing listens on port {port} after {timeout} s")


def stop(process):
    """Stop a server's master and its workers (the process group it leads)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def verify(name, path, authorization, gateway_port, *floor_ports):
    """Every server answers ``path`` with 200 and the same resources, in the same order."""
    answers = [fetch(port, path, authorization) for port in (gateway_port, *floor_ports)]
    statuses = [status for status, _ in answers]
    if statuses != [200] * len(answers):
        raise BenchError(f"{name}: {path} gave {statuses} from {', '.join(SERVERS[: len(answers)])}")
    gateway_ids, *floors_ids = [resource_ids(body) for _, body in answers]
    for floor_ids in floors_ids:
        if gateway_ids != floor_ids:
            raise BenchError(
                f"{name}: {path}: gateway returned {len(gateway_ids)} resources, "
                f"a floor {len(floor_ids)}, or in another order"
            )


def fetch(port, path, authorization):
    """GET a path on a loopback port; return (status, body)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def resource_ids(body):
    """The ``Type/id`` of a resource, or of each entry of a Bundle, in order."""
    found = json.loads(body)
    if found["resourceType"] != "Bundle":
        return [f"{found['resourceType']}/{found['id']}"]
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in found.get("entry", [])]


LUA = """
local reqs = {%s}
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)  -- threads start at different patients
  counter = counter + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i %% #reqs + 1
  return wrk.format("GET", reqs[i][1], {["Authorization"] = reqs[i][2]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%.0f %%.0f %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@contextlib.contextmanager
def lua_script(requests):
    """A wrk script that rotates over ``(path, Authorization)`` pairs; deleted when the block ends."""
    pairs = ",\n".join(f'{{"{path}", "{authorization}"}}' for path, authorization in requests)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(LUA % pairs)
        script.flush()
        yield script.name


def load_round(port, process, script, args, also=()):
    """One timed wrk run, plus the server's CPU milliseconds per request (robust to a busy machine); ``also``: pids
    whose children's CPU is the server's too (the postmaster: its backends do the PostgreSQL gateway's reads)."""
    before = cpu_seconds(process.pid, *also)
    result = wrk(port, script, args.connections, args.seconds)
    used = cpu_seconds(process.pid, *also) - before
    result["cpu_ms_per_request"] = round(1000 * used / result["requests"], 3) if result["requests"] else None
    return result


def cpu_seconds(*parents):
    """CPU seconds (user + system) used so far by processes and their children (a server's master and workers)."""
    pids = []
    for pid in parents:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            pids += [pid, *map(int, listing.read().split())]
    total = 0
    for one in pids:
        with contextlib.suppress(FileNotFoundError), open(f"/proc/{one}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (proc(5) fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def wrk(port, script, connections, seconds):
    """Load ``port`` for ``seconds``; return req/s, p50 and p99 (ms) and the error count."""
    # A 30 s timeout (not wrk's 2 s) so that a slow case shows its latency instead of only errors.
    command = [
        "wrk",
        "-c",
        str(connections),
        "-t",
        "2",
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        script,
        f"http://127.0.0.1:{port}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise BenchError(f"wrk printed no summary:\n{output}")
    requests, micros, p50, p99, non_2xx, socket_errors = (int(float(v)) for v in line.split()[1:])
    return {
        "rps": round(requests / (micros / 1e6), 1),
        "p50_ms": round(p50 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "requests": requests,
        "errors": non_2xx + socket_errors,
    }


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind: servers stop, the cluster goes
    try:
        sys.exit(main())
    except (BenchError, bench_postgres.PostgresMissing) as exc:
        sys.exit(f"bench: {exc}")
    except KeyboardInterrupt:
        sys.exit("bench: interrupted; servers and PostgreSQL cluster stopped")
