"""``python -m bench.oauth``: the SMART authorization server under load, and the access check's share of a read.

1. The token endpoint, served by granian like ``bench.run``: ``authorization_code`` exchanges (public app,
   PKCE S256) and ``refresh_token`` rotations. Every code and refresh token is minted through this
   server's own authorize and token endpoints and used once, by concurrent keep-alive clients.
2. The read cases of ``bench.run``, under wrk, with access tokens from those code exchanges.
3. The access check's share of a read: the time a read spends in the access check (bearer-token lookup
   and scope decision), timed in one process, against (a) that read's whole in-process WSGI time and
   (b) the server CPU time per read served under wrk in step 2. The target is under 15 % of a served read.

It writes bench/results/oauth.json. Example: python -m bench.oauth --patients 10000 --seconds 10
"""

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import os
import sqlite3
import statistics
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug.datastructures import MultiDict

from bench import floor
from bench.run import CASES, BenchError, ensure_database, free_port, load_round, lua_script, serve_commands, server, wrk

ACCOUNT = ("bench.oauth@example.com", "Bench-Oauth-1")
CLIENT_ID, REDIRECT = "bench-oauth-app", "http://127.0.0.1:9/callback"
SCOPE = "launch/patient openid fhirUser offline_access patient/*.rs"
VERIFIER = "bench-code-verifier-" + "0123456789" * 4
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
TARGET_SHARE = 0.15
RESULTS = os.path.join(os.path.dirname(__file__), "results", "oauth.json")


def main(argv=None):
    args = parse_args(argv)
    db_path = args.db or f"var/bench-{args.patients}.db"
    ensure_database(db_path, args.patients)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        ids = floor.patients_with_labs(conn, args.sample)
    if not ids:
        raise BenchError(f"{db_path} has no patients with laboratory Observations")
    port = free_port()
    minter = Minter(db_path, f"http://127.0.0.1:{port}", ids)
    result = {"db": db_path, "sampled_patients": len(ids), "token_endpoint": [], "reads": [], "access_share": []}
    command, port, env, also = serve_commands(db_path, [port, free_port()])[0]
    with server(command, port, env, also) as served:
        result["token_endpoint"] = [
            token_case("authorization_code", port, minter.code_exchanges(args.requests), args),
            token_case("refresh_token", port, minter.refreshes(args.requests), args),
        ]
        tokens = minter.access_tokens()
        result["reads"] = [read_case(name, pattern, tokens, port, served.process, args) for name, pattern in CASES]
    result["access_share"] = [
        access_share(minter.app, name, pattern, tokens, args.share_reads, read["cpu_ms_per_request"])
        for (name, pattern), read in zip(CASES, result["reads"])
    ]
    print_results(result)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as out:
        json.dump(result, out, indent=2)
    return 0 if all(c["pass"] for c in result["access_share"]) else 1


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.oauth", description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="patients to generate if the db is empty")
    parser.add_argument("--db", default=None, help="database path (default var/bench-PATIENTS.db)")
    parser.add_argument("--sample", type=int, default=200, help="patients the bench account is linked to")
    parser.add_argument("--requests", type=int, default=2000, help="codes (and refresh tokens) to spend")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive token clients")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per read case")
    parser.add_argument("--connections", type=int, default=16, help="wrk keep-alive connections")
    parser.add_argument("--share-reads", type=int, default=400, help="in-process reads per case for the share")
    return parser.parse_args(argv)


class Minter:
    """The bench's person and app: logs in once, consents once per record, then mints codes through /oauth/authorize."""

    def __init__(self, db_path, base_url, patient_ids):
        from gateway.app import create_app

        self.app = create_app({"DB": db_path, "BASE_URL": base_url})
        self.web = self.app.test_client()
        self.links = prepare(db_path, patient_ids)
        self._log_in()
        self.minted = 0

    def _log_in(self):
        with self.web.session_transaction() as session:
            token = session.setdefault("csrf", "bench-csrf")
        response = self.web.post(
            "/portal/login", data={"csrf_token": token, "email": ACCOUNT[0], "password": ACCOUNT[1]}
        )
        if response.status_code != 302:
            raise BenchError("the bench account could not log in")

    def code(self):
        """One fresh authorization code for the next sampled record (consenting the first time)."""
        link = self.links[self.minted % len(self.links)]
        self.minted += 1
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "scope": SCOPE,
            "state": "b",
            "aud": self.app.config["FHIR_BASE"],
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            "record": str(link),
        }
        response = self.web.get("/oauth/authorize", query_string=params)
        if response.status_code == 200:  # the consent page: allow everything once; it is remembered
            ticked = [("grant_scope", s) for s in SCOPE.split()]
            with self.web.session_transaction() as session:
                csrf = session["csrf"]
            response = self.web.post(
                "/oauth/authorize/decide",
                data=MultiDict(list(params.items()) + ticked + [("csrf_token", csrf), ("decision", "allow")]),
            )
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]

    def exchange(self, code):
        response = self.web.post("/oauth/token", data=exchange_form(code))
        if response.status_code != 200:
            raise BenchError(f"code exchange failed: {response.get_json()}")
        return response.get_json()

    def code_exchanges(self, n):
        return [exchange_form(self.code()) for _ in range(n)]

    def refreshes(self, n):
        return [
            {
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "refresh_token": self.exchange(self.code())["refresh_token"],
            }
            for _ in range(n)
        ]

    def access_tokens(self):
        """One access token per sampled patient, each from a real code exchange."""
        found = {}
        for _ in self.links:
            body = self.exchange(self.code())
            found[body["patient"]] = body["access_token"]
        return found


def exchange_form(code):
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "code_verifier": VERIFIER,
    }


def prepare(db_path, patient_ids):
    """The bench account linked to the sampled charts, and the bench app; return the link ids in order."""
    from gateway import store
    from gateway.store import accounts as account_store
    from smart_auth import accounts, clients

    db = store.connect(db_path)
    if clients.query_client(db, CLIENT_ID) is None:
        clients.register_client(db, "Bench app", [REDIRECT], "public", client_id=CLIENT_ID)
    account = account_store.account_by_email(db, ACCOUNT[0]) or accounts.create_account(
        db, ACCOUNT[0], ACCOUNT[1], name="Bench", confirmed=True
    )
    for uid in patient_ids:
        chart = store.chart_rows(db, "patients", uid=uid)[0]
        accounts.link_account_to_chart(db, account["id"], chart["id"], "self")
    by_uid = {link["patient_uid"]: link["id"] for link in accounts.linked_records(db, account["id"])}
    return [by_uid[uid] for uid in patient_ids]


def token_case(grant_type, port, forms, args):
    """POST every form once from ``args.clients`` keep-alive clients; req/s, p50, p99, errors."""
    latencies, errors, lock = [], [0], threading.Lock()

    def client(share):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for form in share:
            body = urlencode(form)
            started = time.perf_counter()
            conn.request("POST", "/oauth/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status != 200
        conn.close()

    threads = [threading.Thread(target=client, args=(forms[i :: args.clients],)) for i in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "case": f"POST /oauth/token {grant_type}",
        "requests": len(forms),
        "rps": round(len(forms) / seconds, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "errors": errors[0],
    }


def read_case(name, pattern, tokens, port, process, args):
    """One read case under wrk, rotating over the sampled patients with their own server-issued tokens."""
    requests = [(pattern.format(id=i), f"Bearer {token}") for i, token in tokens.items()]
    with lua_script(requests) as script:
        wrk(port, script, args.connections, 2)
        return {"case": name, **load_round(port, process, script, args)}


def access_share(app, name, pattern, tokens, reads, served_cpu_ms):
    """The access check's time per read (in-process), and its share of the read's WSGI time and served CPU time."""
    from werkzeug.test import EnvironBuilder

    from gateway.fhir import handlers as fhir_handlers

    spent = [0.0]

    def timed(function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return wrapper

    items = list(tokens.items())

    def read(n):
        patient, token = items[n % len(items)]
        path, _, query = pattern.format(id=patient).partition("?")
        environ = EnvironBuilder(
            path=path, query_string=query, headers={"Authorization": f"Bearer {token}"}
        ).get_environ()
        started = time.perf_counter()
        b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: None))
        return time.perf_counter() - started

    for n in range(min(reads, len(items))):
        read(n)  # warm the caches and connections first
    # Both fronts authenticate in fhir_handlers.admit (bearer_token) and check scopes in its handlers.
    original = fhir_handlers.bearer_token, fhir_handlers.visibility
    fhir_handlers.bearer_token, fhir_handlers.visibility = (timed(f) for f in original)
    try:
        total = sum(read(n) for n in range(reads))
    finally:
        fhir_handlers.bearer_token, fhir_handlers.visibility = original
    check_ms = 1000 * spent[0] / reads
    served = check_ms / served_cpu_ms if served_cpu_ms else None
    return {
        "case": name,
        "reads": reads,
        "read_ms": round(1000 * total / reads, 3),
        "access_check_ms": round(check_ms, 3),
        "share_of_wsgi": round(spent[0] / total, 4),
        "served_cpu_ms": served_cpu_ms,
        "share_of_served": round(served, 4) if served is not None else None,
        "pass": served is not None and served < TARGET_SHARE,
    }


def print_results(result):
    print(f"\nSMART authorization server — {result['db']}, {result['sampled_patients']} sampled patients")
    print(f"{'case':<48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in result["token_endpoint"] + result["reads"]:
        print(f"{row['case']:<48} {row['rps']:>8} {row['p50_ms']:>8} {row['p99_ms']:>8} {row['errors']:>7}")
    print(f"\nAccess check's share of a read (target < {TARGET_SHARE:.0%} of a served read):")
    print(f"{'case':<44} {'check ms':>9} {'WSGI ms':>8} {'share':>6} {'served CPU ms':>14} {'share':>6}")
    for row in result["access_share"]:
        served = f"{row['share_of_served']:>6.1%}" if row["share_of_served"] is not None else "     -"
        print(
            f"{row['case']:<44} {row['access_check_ms']:>9} {row['read_ms']:>8} {row['share_of_wsgi']:>6.1%}"
            f" {row['served_cpu_ms']!s:>14} {served}  {'ok' if row['pass'] else 'OVER TARGET'}"
        )


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as exc:
        raise SystemExit(f"bench.oauth: {exc}")
