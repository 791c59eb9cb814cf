"""``python -m bench.gil``: one granian worker's threads and GIL, in-process, without the HTTP server (issue 16).

A granian WSGI worker hands each request, in arrival order, to one of its blocking threads; the threads then take
turns at the one GIL, whose hand-off is not first come, first served (CPython releases it around every SQLite step
and asks a holder to drop it after ``sys.getswitchinterval()``). This replays that in one process: ``connections``
closed-loop clients (a client sends its next request as soon as its answer is complete, as wrk does) feed one FIFO
queue that ``threads`` threads serve through the gateway's WSGI callable (bench/profile.py's), and prints req/s,
p50, p99 and CPU per request for each setting, the settings taking turns in every round. No network and no
server: what it shows is the tail the threads make, not the machine's.

Example: python -m bench.gil --db var/bench-10000.db --threads 1 2 4 8 --connections 8 128
"""

import argparse
import contextlib
import itertools
import os
import queue
import sqlite3
import statistics
import sys
import threading
import time

from bench import floor, profile
from bench.run import CASES, issue_tokens


def main(argv=None):
    """Measure every (threads, switch interval, connections) for the chosen case, in alternating rounds."""
    args = parse_args(argv)
    with contextlib.closing(sqlite3.connect(args.db)) as conn:
        ids = floor.patients_with_labs(conn, args.sample)
    tokens = issue_tokens(args.db, ids)
    name, pattern = next((n, p) for n, p in CASES if args.case in n)
    app = profile.worker_app(args.db)
    environs = [profile.environ_for(pattern.format(id=i), f"Bearer {tokens[i]}") for i in ids]
    settings = list(itertools.product(args.connections, args.threads, args.switch))
    results = {setting: [] for setting in settings}
    replay(app, environs, 4, 4, 1.0)  # warm the page cache, the handles and the caches
    print(f"{name}: 1-min load average before {os.getloadavg()[0]:.1f}", flush=True)
    for round_number in range(args.rounds):
        for k in range(len(settings)):
            setting = settings[(k + round_number) % len(settings)]
            connections, threads, switch = setting
            results[setting].append(replay(app, environs, threads, connections, args.seconds, switch))
    for setting, rows in results.items():
        middle = sorted(rows, key=lambda r: r["rps"])[len(rows) // 2]
        connections, threads, switch = setting
        p99s = "/".join(f"{r['p99_ms']:.1f}" for r in rows)
        print(
            f"c{connections:<4} t{threads:<2} switch {switch * 1000:g} ms: {middle['rps']:6.0f} req/s "
            f"p50 {middle['p50_ms']:6.2f} p99 {middle['p99_ms']:7.2f} ms (rounds "
            f"{p99s}) cpu {middle['cpu_ms']:.3f} ms/request "
            f"load {middle['load']:.1f}",
            flush=True,
        )
    return 0


def replay(app, environs, threads, connections, seconds, switch=None):
    """One timed run: ``connections`` closed-loop clients, one FIFO queue, ``threads`` threads serving it."""
    jobs, latencies, statuses = queue.SimpleQueue(), [], []
    before_switch = sys.getswitchinterval()
    if switch:
        sys.setswitchinterval(switch)
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + seconds

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            statuses.append(status)

    def serve():
        while (job := jobs.get()) is not None:
            client, sent = job
            b"".join(app(dict(environs[client % len(environs)]), start_response))
            done = time.perf_counter()
            latencies.append(done - sent)
            if done < deadline:
                jobs.put((client + connections, done))  # the same client's next request, sent at once

    for client in range(connections):
        jobs.put((client, started))
    workers = [threading.Thread(target=serve) for _ in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    for _ in workers:
        jobs.put(None)  # behind the requests sent before the deadline: each ends one thread
    for worker in workers:
        worker.join()
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    sys.setswitchinterval(before_switch)
    if statuses:
        raise RuntimeError(f"{len(statuses)} requests failed, e.g. {statuses[0]}")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * cuts[49],
        "p99_ms": 1000 * cuts[98],
        "cpu_ms": 1000 * used / len(latencies),
        "load": os.getloadavg()[0],
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.gil", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (a copy: the gateway writes log rows)")
    parser.add_argument("--case", default="$everything", help="a substring of one bench case's name")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--switch", type=float, nargs="+", default=[sys.getswitchinterval()], help="seconds")
    parser.add_argument("--connections", type=int, nargs="+", default=[8], help="clients of this one worker")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=int, default=500)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
