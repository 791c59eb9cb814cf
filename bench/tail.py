"""``python -m bench.tail``: what the serving settings do to the tail (p99), one setting at a time (issue 16).

Serves the gateway (``fhir-gateway serve``'s own ``gateway.server.run``) or the floor (bench/floor.py) with each
combination of workers, blocking threads per worker and CPython's GIL switch interval asked for, and drives the
bench's cases with wrk at each connection count asked for: req/s, p50, p99, errors and server CPU per request,
beside the 1-minute load average (other work on the machine moves every figure). Every setting is served at once
and they take turns in each round, so that the machine's other work falls on all of them alike; the median round
(by req/s) counts, and every round's p99 is printed beside it.

Example: python -m bench.tail --db var/bench-10000.db --threads 1 2 4 8 --workers 2 3 --connections 16 256
"""

import argparse
import contextlib
import itertools
import os
import sqlite3
import sys

from bench import floor
from bench.run import CASES, free_port, issue_tokens, load_round, lua_script, server, verify, wrk

WARMUP_SECONDS = 1


def main(argv=None):
    """Serve every combination asked for at once, load them in alternating rounds, print the medians."""
    args = parse_args(argv)
    if args.serve:
        return serve(args)
    with contextlib.closing(sqlite3.connect(args.db)) as conn:
        ids = floor.patients_with_labs(conn, args.sample)
    tokens = issue_tokens(args.db, ids)
    cases = [(name, pattern) for name, pattern in CASES if not args.cases or any(c in name for c in args.cases)]
    settings = list(itertools.product(args.target, args.workers, args.threads, args.switch))
    print(f"1-min load average before: {os.getloadavg()[0]:.2f}", flush=True)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serve_setting(args.db, setting)) for setting in settings]
        for name, pattern in cases:
            requests = [(pattern.format(id=i), f"Bearer {tokens[i]}") for i in ids]
            for port, _ in servers:
                verify(name, *requests[0], port)
            with lua_script(requests) as script:
                for connections in args.connections:
                    rows = measure(servers, script, connections, args)
                    for setting, row in zip(settings, rows, strict=True):
                        print_row(setting, name, connections, row)
    return 0


@contextlib.contextmanager
def serve_setting(db, setting):
    """One server (this module's --serve, in its own process group) for one (target, workers, threads, switch)."""
    target, workers, threads, switch = setting
    port = free_port()
    command = [sys.executable, "-m", "bench.tail", "--serve", target, "--db", db, "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads), "--switch", str(switch)]
    with server(command, port) as served:
        yield port, served.process


def measure(servers, script, connections, args):
    """Per server, the median (by req/s) of ``args.rounds`` wrk runs, the servers taking turns in each round."""
    run = argparse.Namespace(connections=connections, seconds=args.seconds)
    results = [[] for _ in servers]
    for round_number in range(args.rounds):
        for k in range(len(servers)):  # each round starts one server further on, so no setting always goes first
            index = (k + round_number) % len(servers)
            port, process = servers[index]
            wrk(port, script, connections, WARMUP_SECONDS)
            results[index].append({**load_round(port, process, script, run), "load": os.getloadavg()[0]})
    return [sorted(rows, key=lambda r: r["rps"])[len(rows) // 2] | {"rounds": rows} for rows in results]


def print_row(setting, case, connections, row):
    target, workers, threads, switch = setting
    p99s = "/".join(f"{r['p99_ms']:.0f}" for r in row["rounds"])
    print(
        f"{target:7} w{workers} t{threads:<2} s{switch:<6g} {case:42} c{connections:<4} {row['rps']:7.0f} req/s "
        f"p50 {row['p50_ms']:6.2f} p99 {row['p99_ms']:7.2f} (rounds {p99s}) cpu {row['cpu_ms_per_request'] or 0:5.3f} "
        f"ms errors {sum(r['errors'] for r in row['rounds'])} load {row['load']:.1f}",
        flush=True,
    )


def serve(args):
    """Serve one target with one setting (run by main in a process of its own); forked workers keep the interval."""
    (switch,), (workers,), (threads,) = args.switch, args.workers, args.threads
    sys.setswitchinterval(switch)
    bind = f"127.0.0.1:{args.port}"
    if args.serve == "gateway":
        from gateway.server import run

        run({"DB": args.db, "BASE_URL": f"http://{bind}"}, bind, workers, threads)
    else:
        floor.serve(args.db, bind, workers, threads, f"http://{bind}")
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.tail", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (a copy: the gateway writes log rows)")
    parser.add_argument("--target", nargs="+", choices=("gateway", "floor"), default=["gateway"])
    parser.add_argument("--workers", type=int, nargs="+", default=[os.cpu_count() or 1])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--switch", type=float, nargs="+", default=[sys.getswitchinterval()], help="seconds")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 256])
    parser.add_argument("--cases", nargs="*", default=None, help="substrings of the bench's case names (all)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median by req/s counts")
    parser.add_argument("--sample", type=int, default=500, help="patients (with labs) the load rotates over")
    parser.add_argument("--serve", choices=("gateway", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
