"""What checking a PostgreSQL connection before each loan costs (gateway/store/postgres.py, ``lend_live``).

One process, one throwaway cluster (tests/pg_cluster.py), the demo chart; each case reads one patient's chart
row through the store N times (one statement, one loan from the pool) and reports client CPU time (user + system
of this process) and wall time per read. The floor is the same pool with no check at all; psycopg_pool's own
``check_connection`` (an empty query, one round trip) is shown beside the gateway's poll-first check. Rounds
alternate the cases so a change in the machine's load falls on all of them.
Example: python -m bench.pool_check --reads 3000
"""

import argparse
import os
import resource
import time

import psycopg_pool

from gateway import store
from gateway.store import postgres


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pool_with(url, check):
    return psycopg_pool.ConnectionPool(
        url, min_size=1, max_size=2, kwargs=postgres.CONNECTION_SETTINGS, open=True, check=check
    )


def _time_reads(db, uid, reads):
    """(client CPU µs, wall µs) per read of one patient's chart row (one statement, one loan)."""
    cpu, wall = _cpu(), time.perf_counter()
    for _ in range(reads):
        store.chart_rows(db, "patients", uid=uid)
    return 1e6 * (_cpu() - cpu) / reads, 1e6 * (time.perf_counter() - wall) / reads


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from fixtures import demo_practice
    from tests.pg_cluster import Cluster

    cluster = Cluster.start()
    try:
        url = cluster.database()
        import datetime as dt

        demo_practice.load(store.connect(url), dt.date(2026, 11, 25))
        db = store.connect(url)
        uid = store.chart_rows(db, "patients")[0]["uid"]
        postgres.close_pool(url)  # the store's own pool; each case below puts its pool in its place
        cases = {
            "floor (no check)": _pool_with(url, None),
            "psycopg_pool check_connection": _pool_with(url, psycopg_pool.ConnectionPool.check_connection),
            "gateway (lend_live)": postgres._new_pool(url),
        }
        results = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, made in cases.items():
                made.wait()
                postgres._pools[(url, os.getpid())] = made  # the store's reads borrow from this case's pool
                _time_reads(db, uid, args.reads // 10)  # warm
                results[name].append(_time_reads(db, uid, args.reads))
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        floor = min(r[0] for r in results["floor (no check)"])
        for name, rounds in results.items():
            cpu, wall = min(r[0] for r in rounds), min(r[1] for r in rounds)
            print(f"{name:32} CPU {cpu:6.1f} µs/read ({cpu / floor:4.2f} x floor)   wall {wall:6.1f} µs/read")
        for made in cases.values():
            made.close()
        postgres._pools.pop((url, os.getpid()), None)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
