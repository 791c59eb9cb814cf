"""Where the microseconds of one request go, in-process: a timer per stage over N requests per case (issue 16).

The bench's cases are sent straight into the WSGI callable a granian worker runs (gateway.server._serving_worker),
one after another in a process of its own that, like a worker, appends its read rows to a shard's journal of the
access log (gateway/store/log_shards.py), with no HTTP server and no other load in the way. The functions that make
up each stage are wrapped by a timer that counts *exclusive* time (a stage's time minus that of the stages called
inside it), so the stages add up to the whole request:

- token lookup: smart_auth.tokens.authenticate (the token's row, its expiry and revocation, the proxy rule);
- scope decision: gateway.fhir.access.visibility (the scope rules, the visibility filters);
- database read (SQLite or PostgreSQL): the store's read and search functions the handlers call (SQL and fetching
  the stored JSON);
- access-log insert: gateway.disclosures.log_api_read (the disclosure made durable: a worker's journal line);
- response assembly: the handler itself (parameters, Bundle stitching, headers) and ``answer``;
- WSGI / front: everything else the WSGI callable does (routing, the FhirRequest, negotiation, start_response).

The timers cost about a microsecond each; ``unwrapped_us`` is the same requests timed with no timer at all, so
the stages' sum can be compared with it. Example: python -m bench.profile --db var/bench-10000.db --requests 500
"""

import argparse
import concurrent.futures
import contextlib
import multiprocessing
import sqlite3
import sys
import time

STAGES = ("token lookup", "scope decision", "database read", "access-log insert", "response assembly", "WSGI / front")
ROUNDS = 3
ENGINES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
# (module, attribute, stage): the functions each stage is made of, patched where their callers look them up.
_PATCHES = (
    ("smart_auth.tokens", "authenticate", "token lookup"),
    ("gateway.fhir.access", "visibility", "scope decision"),
    ("gateway.fhir.handlers", "visibility", "scope decision"),
    ("gateway.records", "visibility", "scope decision"),
    ("gateway.records", "patient_wide", "scope decision"),
    *(
        ("gateway.store", name, "database read")
        for name in ("read_resource", "read_resources", "search", "record_rows", "references_from", "note_document")
    ),
    ("gateway.disclosures", "log_api_read", "access-log insert"),
    *(("gateway.fhir.handlers", name, "response assembly") for name in ("read", "search_get", "everything", "answer")),
)


class StageClock:
    """Exclusive time per stage: a stack of (stage, start, time spent in stages called inside it), read on ``now``
    (wall time here; bench.oauth_profile's subclass reads the thread's CPU time). The last stage is the request's
    own: what no other stage claimed."""

    stages = STAGES
    now = staticmethod(time.perf_counter)

    def __init__(self):
        self.spent = dict.fromkeys(self.stages, 0.0)
        self.stack = []

    def claims(self, stage):
        """Whether a call of ``stage`` counts as its own: a store call made inside the token lookup or the log insert
        is part of that stage, not a "read"."""
        return not (stage == "database read" and self.stack and self.stack[-1][0] != "response assembly")

    def wrap(self, function, stage):
        def timed(*args, **kwargs):
            if not self.claims(stage):
                return function(*args, **kwargs)
            frame = [stage, self.now(), 0.0]
            self.stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                self.stack.pop()
                elapsed = self.now() - frame[1]
                self.spent[stage] += elapsed - frame[2]
                if self.stack:
                    self.stack[-1][2] += elapsed

        timed.__wrapped__ = function
        return timed

    def request(self, call):
        """Time one whole request (``call()``); what no stage claimed is the WSGI / front's."""
        outer = self.stages[-1]
        frame = [outer, self.now(), 0.0]
        self.stack.append(frame)
        try:
            call()
        finally:
            self.stack.pop()
            self.spent[outer] += self.now() - frame[1] - frame[2]


@contextlib.contextmanager
def instrumented(clock):
    """Wrap every stage's functions with ``clock``'s timers for the block; put the originals back after."""
    import importlib

    saved = []
    try:
        for module_name, attribute, stage in _PATCHES:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
            saved.append((module, attribute, original))
            setattr(module, attribute, clock.wrap(original, stage))
        yield clock
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)


def worker_app(db_path, secret=None):
    """The WSGI callable a granian worker serves (gateway/server.py), on ``db_path`` (a path or a postgresql:// URL,
    which needs a ``secret``)."""
    from gateway.server import _worker_app

    config = {"DB": db_path, "BASE_URL": "http://127.0.0.1:8080"}  # as `fhir-gateway serve` builds it
    return _worker_app(config | ({"SECRET_KEY": secret} if secret else {}))


def environ_for(path, authorization):
    """A WSGI environ for ``GET path`` (with its query) carrying an ``Authorization`` header."""
    from werkzeug.test import EnvironBuilder

    path, _, query = path.partition("?")
    return EnvironBuilder(path=path, query_string=query, headers={"Authorization": authorization}).get_environ()


def profile_case(app, requests, n, rounds=ROUNDS):
    """Per-stage µs per request over ``n`` requests rotating over ``requests`` ((path, Authorization) pairs).

    ``rounds`` rounds of ``n`` requests, timed bare then with timers; each stage's figure is its smallest
    round mean (the round least disturbed by other work on the machine, as timeit does), the bare figure too.
    """
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    environs = [environ_for(path, authorization) for path, authorization in requests]

    def one(i):
        environ = dict(environs[i % len(environs)])
        b"".join(app(environ, start_response))

    for i in range(min(n, len(environs))):
        one(i)  # warm this thread's connections, the page cache and the lru caches
    bare, timed = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(n):
            one(i)
        bare.append(time.perf_counter() - started)
        clock = StageClock()
        with instrumented(clock):
            for i in range(n):
                clock.request(lambda i=i: one(i))
        timed.append(clock.spent)
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise RuntimeError(f"{len(bad)} of {len(statuses)} profiled requests failed, e.g. {bad[0]}")
    stages = {stage: round(1e6 * min(spent[stage] for spent in timed) / n, 1) for stage in STAGES}
    return {
        "requests": n,
        "rounds": rounds,
        "stages_us": stages,
        "total_us": round(sum(stages.values()), 1),
        "unwrapped_us": round(1e6 * min(bare) / n, 1),
    }


def profile_cases(db_path, cases, ids, tokens, n, rounds=ROUNDS, secret=None):
    """One profile per bench case (``cases``: (name, pattern) pairs), with the bench's patients and tokens, taken in
    a fresh process that serves as a granian worker does (its reads go to a shard's journal, not the main log)."""
    spawn = multiprocessing.get_context("spawn")  # none of this process's state (its log claims, its caches)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        return pool.submit(_profile_as_worker, db_path, cases, ids, tokens, n, rounds, secret).result()


def _profile_as_worker(db_path, cases, ids, tokens, n, rounds, secret):
    from gateway.store import log_shards, postgres

    log_shards.enable()  # as gateway/server.py _serving_worker does after the fork
    app = worker_app(db_path, secret)
    engine = "postgres" if postgres.is_url(db_path) else "sqlite"
    return [
        {
            "case": name,
            "engine": engine,
            **profile_case(app, [(pattern.format(id=i), f"Bearer {tokens[i]}") for i in ids], n, rounds),
        }
        for name, pattern in cases
    ]


def print_profiles(profiles):
    """The profile table of each engine: µs per request per stage, and each stage's share of the whole."""
    for engine in dict.fromkeys(row["engine"] for row in profiles):
        _print_profile([row for row in profiles if row["engine"] == engine], engine)
    print(
        "stages: exclusive time of each, the smallest of the rounds' means (bench/profile.py); sum = the stages' "
        "total with timers; bare = the same requests with no timer"
    )


def _print_profile(profiles, engine):
    title = f"in-process µs per request ({ENGINES[engine]})"
    head = f"{title:42} " + " ".join(f"{s:>17}" for s in STAGES) + f" {'sum':>7} {'bare':>7}"
    print("\n" + head + "\n" + "-" * len(head))
    for row in profiles:
        total = row["total_us"] or 1.0
        cells = " ".join(
            f"{row['stages_us'][s]:8.1f} ({100 * row['stages_us'][s] / total:4.1f}%)".rjust(17) for s in STAGES
        )
        print(f"{row['case']:42} {cells} {row['total_us']:7.1f} {row['unwrapped_us']:7.1f}")


def main(argv=None):
    from bench import floor
    from bench.run import CASES, issue_tokens

    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (a copy: the profile writes log rows)")
    parser.add_argument("--requests", type=int, default=500, help="requests per case")
    parser.add_argument("--sample", type=int, default=200, help="patients (with labs) the requests rotate over")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds per case; each stage's least counts")
    args = parser.parse_args(argv)
    with contextlib.closing(sqlite3.connect(args.db)) as conn:
        ids = floor.patients_with_labs(conn, args.sample)
    print_profiles(profile_cases(args.db, CASES, ids, issue_tokens(args.db, ids), args.requests, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
