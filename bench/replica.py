"""What a read replica takes off the primary, in-process: the gateway's read cases on PostgreSQL, without and with
GATEWAY_DATABASE_REPLICA_URL, against a floor measured in the same run (issue 17, "Read replicas").

A throwaway primary and a streaming standby of it (tests/pg_cluster.py, ``pg_basebackup -R``) hold the demo practice.
Each case's requests go straight into the WSGI callable a granian worker runs, one after another. Per request it
reports the gateway process's CPU (``time.process_time``) and wall time, and the CPU each PostgreSQL server spent
(its postmaster's children, from /proc): the replica's point is the primary's column. The floor is one pooled
SELECT of the stored JSON on the primary (the least any read costs). Each figure is its least round's mean.

Example: python -m bench.replica --requests 300
"""

import argparse
import datetime
import os
import statistics
import time

ROUNDS = 3
CASES = (
    ("read", "/fhir/Patient/{id}"),
    ("search", "/fhir/Observation?patient={id}"),
    ("$everything", "/fhir/Patient/{id}/$everything"),
)
TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu(cluster):
    """Seconds of CPU the cluster's server processes (the postmaster's children: backends, walsender) have used."""
    with open(os.path.join(cluster.folder, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster or int(pid) == postmaster:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def measure(calls, n, clusters):
    """Per call of each of ``calls`` (µs): wall, this process's CPU, and each cluster's server CPU; the least of
    ROUNDS rounds each. The calls take turns within every round (first, then last), so a drift of the machine's
    load or of the database (the access log grows) weighs on each alike."""
    rounds = [[] for _ in calls]
    for turn in range(ROUNDS):
        order = list(range(len(calls)))
        for k in order if turn % 2 == 0 else order[::-1]:
            servers = [server_cpu(c) for c in clusters]
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(n):
                calls[k](i)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            spent = [server_cpu(c) - before for c, before in zip(clusters, servers)]
            rounds[k].append([wall / n * 1e6, cpu / n * 1e6, *(s / n * 1e6 for s in spent)])
    return [[min(r[j] for r in each) for j in range(len(each[0]))] for each in rounds]


def gateway(url, replica=None):
    from gateway.server import _worker_app

    config = {"DB": url, "BASE_URL": "http://127.0.0.1:8080", "SECRET_KEY": "bench-secret"}
    if replica:
        config["DATABASE_REPLICA_URL"] = replica
    return _worker_app(config)


def caller(app, paths, headers):
    from werkzeug.test import EnvironBuilder

    environs = []
    for path in paths:
        path, _, query = path.partition("?")
        environs.append(EnvironBuilder(path=path, query_string=query, headers=headers).get_environ())

    def start_response(status, _headers, exc_info=None):
        if not status.startswith("200"):
            raise AssertionError(status)

    def call(i):
        b"".join(app(dict(environs[i % len(environs)]), start_response))

    return call


def floor(url, ids):
    from gateway.store import postgres

    pool = postgres.pool(url)

    def call(i):
        with pool.connection() as conn:
            conn.execute(
                "SELECT json FROM resources WHERE type = 'Patient' AND id = %s", (ids[i % len(ids)],)
            ).fetchone()

    return call


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.replica", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per case and round")
    parser.add_argument("--cases", default=",".join(name for name, _ in CASES), help="which cases, comma-separated")
    args = parser.parse_args(argv)
    from fixtures import demo_accounts, demo_practice
    from gateway import store
    from smart_auth.tokens import issue_access_token
    from tests.pg_cluster import Cluster

    primary = Cluster.start()
    standby = None
    try:
        url = primary.database()
        db = store.connect(url)
        demo_accounts.load(db, demo_practice.load(db, datetime.date.today()))
        store.optimize(db)
        ids = [r["uid"] for r in store.chart_rows(db, "patients")]
        token = issue_access_token(db, "bench", "patient/*.rs", ids[0])
        headers = {"Authorization": f"Bearer {token}"}
        standby = primary.standby()
        replica = standby.url(url.rsplit("/", 1)[1])
        target = primary.sql("SELECT pg_current_wal_insert_lsn()::text")[0]
        while not standby.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]:
            time.sleep(0.05)
        apps = {"primary only": gateway(url), "with replica": gateway(url, replica)}
        clusters = (primary, standby)
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.requests} requests x {ROUNDS} rounds")
        (base,) = measure([floor(url, ids)], args.requests, clusters)
        print(f"{'case':<13} {'setup':<13} {'wall µs':>9} {'CPU µs':>8} {'primary µs':>11} {'replica µs':>11} ratios")
        print(f"{'floor':<13} {'one SELECT':<13} {base[0]:9.0f} {base[1]:8.0f} {base[2]:11.0f} {base[3]:11.0f}")
        for name, shape in [c for c in CASES if c[0] in args.cases.split(",")]:
            paths = [shape.format(id=ids[0])]
            found = dict(
                zip(apps, measure([caller(app, paths, headers) for app in apps.values()], args.requests, clusters))
            )
            for setup, (wall, cpu, on_primary, on_replica) in found.items():
                note = f"wall/floor {wall / base[0]:.1f}"
                if setup == "with replica":
                    alone = found["primary only"]
                    note += f"; vs primary only: CPU {cpu / alone[1]:.2f}, primary CPU {on_primary / alone[2]:.2f}"
                print(f"{name:<13} {setup:<13} {wall:9.0f} {cpu:8.0f} {on_primary:11.0f} {on_replica:11.0f} {note}")
        print(f"load average after {statistics.mean(os.getloadavg()[:1]):.2f}")
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()


if __name__ == "__main__":
    main()
