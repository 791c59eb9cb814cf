"""Printing the benchmark's tables and writing bench/results/latest.json."""

import datetime as dt
import json
import os

from bench.profile import print_profiles

# Issue 16's targets against the granian floor (the same bytes from memory under the fastest server we use): a
# gateway doing auth, a database read and a durable access-log row per request cannot come near a server
# handing out bytes, so each case has its own share; p99 at the bench's 16 connections.
TARGET_RATIOS = {
    "read Patient/X": 0.25,
    "Condition?patient=X": 0.2,
    "Observation?patient=X&category=laboratory": 0.2,
    "Patient/X/$everything": 0.12,
}
TARGET_P99_MS, TARGET_SLOWDOWN = 20.0, 1.5
TARGET_WIDE_P99_MS = 100.0  # at --wide (256) connections: no errors and a p99 under this
TOKEN_MODE = "one patient/*.rs token per sampled patient (smart_auth.tokens.issue_access_token)"
RESULTS = os.path.join(os.path.dirname(__file__), "results", "latest.json")


def slowdowns(small, large):
    """Per case: how much slower the large database serves it (req/s before / req/s after), gateway and floor."""
    rows = []
    for before, after in zip(small["cases"], large["cases"], strict=True):
        gateway, bare = (_slowdown(before[side], after[side]) for side in ("gateway", "floor"))
        p99 = after["gateway"]["p99_ms"] / before["gateway"]["p99_ms"] if before["gateway"]["p99_ms"] else 0.0
        rows.append(
            {
                "case": before["case"],
                "slowdown": gateway,
                "floor_slowdown": bare,
                "p99_ratio": round(p99, 3),
                "pass": gateway is not None and gateway <= TARGET_SLOWDOWN,
            }
        )
    return rows


def _slowdown(before, after):
    return round(before["rps"] / after["rps"], 3) if after["rps"] else None  # None: nothing completed


def print_run(run, args):
    """Print one database's table."""
    server = run["server"]
    print(
        f"\n{run['db']}: {run['patients']} patients; wrk -c {args.connections} -t 2 -d {args.seconds}s, "
        f"median of {args.rounds} rounds, over {run['sampled_patients']} patients with labs; {server['server']} "
        f"{server['workers']} workers x {server['threads']} threads (floor also under {server['reference']})\n"
        f"gateway auth: {TOKEN_MODE}; floor: no auth; 1-min load average {run['load_average'][0]} "
        f"before, {run['load_average'][1]} after"
    )
    head = (
        f"{'case':42} {'gw req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6}  {'floor req/s':>11} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6}  {'ratio':>5} {'cpu':>5}  {'gunicorn floor':>14} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'ratio':>5}  verdict"
    )
    print(head + "\n" + "-" * len(head))
    for row in run["cases"]:
        g, f, r = row["gateway"], row["floor"], row["floor_gunicorn"]
        errors = f"  ({g['errors']} gateway / {f['errors']} floor / {r['errors']} gunicorn floor errors)"
        errors = errors if g["errors"] + f["errors"] + r["errors"] else ""
        print(
            f"{row['case']:42} {g['rps']:8.0f} {g['p50_ms']:7.2f} {g['p99_ms']:7.2f} {_ms(g):>6}  "
            f"{f['rps']:11.0f} {f['p50_ms']:7.2f} {f['p99_ms']:7.2f} {_ms(f):>6}  {row['ratio']:5.2f} "
            f"{_ratio(row['cpu_ratio']):>5}  {r['rps']:14.0f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} "
            f"{row['ratio_gunicorn']:5.2f}  {'PASS' if row['pass'] else 'FAIL'}{errors}"
        )
    print(
        f"targets: gateway/granian-floor req/s >= {', '.join(f'{v}' for v in TARGET_RATIOS.values())} (per case, "
        f"in order), gateway p99 < {TARGET_P99_MS:.0f} ms, no errors. "
        "cpu ms = server CPU per request; cpu = floor/gateway CPU per request (less sensitive to other load); "
        "the gunicorn floor and its ratio are for reference only"
    )
    if run.get("postgres"):
        print_postgres(run)
    if run.get("wide"):
        print_wide(run["wide"])
    if run.get("profile"):
        print_profiles(run["profile"])


def print_postgres(run):
    """The PostgreSQL gateway's row per case, beside the floor and the SQLite gateway of the same rounds."""
    pg = run["postgres"]
    print(
        f"\nPostgreSQL {pg['version']}: {pg['workers']} gateway processes x {pg['threads']} threads against one local "
        f"cluster (durable: fsync and synchronous_commit on); loaded by migrate-to-postgres: {pg['rows']:,} rows in "
        f"{pg['seconds']:.1f} s = {pg['rows_per_second']:,.0f} rows/s (verify {pg['verify_seconds']:.1f} s, "
        f"VACUUM ANALYZE {pg['vacuum_analyze_seconds']:.1f} s)"
    )
    head = (
        f"{'case':42} {'pg req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6}  {'/floor':>6} {'/sqlite':>7} "
        f"{'cpu sqlite/pg':>13}  verdict"
    )
    print(head + "\n" + "-" * len(head))
    for row in run["cases"]:
        p = row["postgres"]
        errors = f"  ({p['errors']} errors)" if p["errors"] else ""
        print(
            f"{row['case']:42} {p['rps']:8.0f} {p['p50_ms']:7.2f} {p['p99_ms']:7.2f} {_ms(p):>6}  "
            f"{row['postgres_ratio']:6.2f} {row['postgres_ratio_sqlite']:7.2f} "
            f"{_ratio(row['postgres_cpu_ratio_sqlite']):>13}  {'PASS' if row['postgres_pass'] else 'FAIL'}{errors}"
        )
    print(
        "cpu ms = CPU per request of the gateway processes and the PostgreSQL backends together; /floor and /sqlite = "
        "req/s against the granian floor and the SQLite gateway of the same rounds; cpu sqlite/pg = SQLite gateway's "
        "CPU per request / PostgreSQL's; no target yet: any error fails a row"
    )


def print_wide(rows):
    """The gateway, then the granian floor, under many connections; mean = connections / req/s (Little's law)."""
    title = f"at {rows[0]['connections']} connections"
    print(
        f"\n{title:42} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'mean':>6}        "
        f"{'floor req/s':>11} {'p99 ms':>7} {'mean':>6}"
    )
    for row in rows:
        floor = row.get("floor")
        beside = (
            f"  floor {floor['rps']:11.0f} {floor['p99_ms']:7.2f} {_mean(floor):>6}  {_verdict(floor)}" if floor else ""
        )
        print(
            f"{row['case']:42} {row['rps']:8.0f} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f} {_mean(row):>6}  "
            f"{_verdict(row)}{beside}"
        )
    print(
        f"target: no errors and p99 < {TARGET_WIDE_P99_MS:.0f} ms (the gateway's PASS/FAIL; the floor's shows whether "
        "the same bytes from memory meet it on this machine); mean ms = connections / req/s"
    )


def _verdict(side):
    errors = f" ({side['errors']} errors)" if side["errors"] else ""
    return ("PASS" if side["pass"] else "FAIL") + errors


def _mean(side):
    return "-" if side.get("mean_ms") is None else f"{side['mean_ms']:.0f}"


def _ms(side):
    return "-" if side["cpu_ms_per_request"] is None else f"{side['cpu_ms_per_request']:.2f}"


def _ratio(value):
    return "-" if value is None else f"{value:.2f}"


def print_scale(rows, runs):
    """Print the slowdown from the first database to the second."""
    print(
        f"\nscale: {runs[0]['patients']} -> {runs[1]['patients']} patients "
        f"(slowdown = req/s before / req/s after; target <= {TARGET_SLOWDOWN}x)"
    )
    for row in rows:
        print(
            f"{row['case']:42} gateway {_ratio(row['slowdown']):>5}x (p99 x{row['p99_ratio']:.2f})  "
            f"floor {_ratio(row['floor_slowdown']):>5}x  {'PASS' if row['pass'] else 'FAIL'}"
        )


def write_results(runs, scale, args):
    """Write the run as JSON to bench/results/latest.json."""
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    meta = {
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "wrk": {
            "connections": args.connections,
            "wide_connections": args.wide,
            "threads": 2,
            "seconds": args.seconds,
            "rounds": args.rounds,
        },
        "gateway_auth": TOKEN_MODE,
        "floor_auth": "none",
        "targets": {
            "ratio": TARGET_RATIOS,
            "p99_ms": TARGET_P99_MS,
            "slowdown": TARGET_SLOWDOWN,
            "wide_p99_ms": TARGET_WIDE_P99_MS,
        },
    }
    with open(RESULTS, "w") as out:
        json.dump({"meta": meta, "runs": runs, "scale": scale}, out, indent=2)
    print(f"\nwrote {os.path.relpath(RESULTS)}")
