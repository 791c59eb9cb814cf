"""The floor: a bare WSGI callable that serves the benchmark's URL shapes straight from SQLite.

No framework, no auth, no search parsing: it selects the stored JSON the gateway would select and
stitches the same searchset Bundle, so the gateway/floor ratio measures what the gateway adds on top.
It answers ``/fhir/<Type>/<id>``, ``/fhir/<Type>?patient=<id>[&category=<code>]`` and
``/fhir/Patient/<id>/$everything``; anything else is a 404.

Served by granian with the gateway's settings (``--server gunicorn``: gunicorn's gthread workers, for reference).

Example: python -m bench.floor --db var/bench-10000.db --port 8181
"""

import argparse
import os
import sqlite3
import threading
from functools import partial
from urllib.parse import parse_qsl

import orjson

from gateway.server import BLOCKING_THREADS, serve_wsgi
from mappers import REGISTRY

PAGE = 50  # the gateway's default _count
COMPARTMENT = [name for name, rt in REGISTRY.items() if rt.compartment]
OUTSIDE = [name for name, rt in REGISTRY.items() if not rt.compartment]  # Practitioner, Organization
RANK = {name: rank for rank, name in enumerate(REGISTRY)}  # $everything lists types in registry order
HEADERS = [("Content-Type", "application/fhir+json; charset=utf-8")]
NOT_FOUND = b'{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}'


def make_app(db_path, base_url):
    """Return the floor's WSGI callable over the database at ``db_path``."""
    local = threading.local()
    base = base_url.rstrip("/") + "/fhir"

    def app(environ, start_response):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = _open(db_path)
        body = answer(conn, base, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        status = "200 OK" if body is not None else "404 Not Found"
        body = NOT_FOUND if body is None else body
        start_response(status, [*HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    return app


def _open(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA mmap_size = 268435456")  # the gateway's read setting (gateway/store/connection.py)
    return conn


def answer(conn, base, path, query):
    """Return the response body for one request, or None for 404."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "fhir":
        return None
    if len(parts) == 4 and parts[1] == "Patient" and parts[3] == "$everything":
        return everything(conn, base, parts[2])
    if len(parts) == 3:
        row = conn.execute(
            "SELECT json FROM resources WHERE type = ? AND id = ? AND deleted = 0", (parts[1], parts[2])
        ).fetchone()
        return row[0] if row else None
    if len(parts) == 2:
        params = dict(parse_qsl(query))
        return search(conn, base, parts[1], params, query)
    return None


def search(conn, base, rtype, params, query):
    """A searchset of ``rtype`` by ``patient`` (and ``category``): first page, total, self/next links."""
    patient = params.get("patient", "").removeprefix("Patient/")
    sql = "SELECT pk, id, json FROM resources r WHERE type = ? AND patient_id = ? AND deleted = 0"
    args = [rtype, patient]
    if "category" in params:
        sql += " AND EXISTS (SELECT 1 FROM search_token t WHERE t.pk = r.pk AND t.param = 'category' AND t.code = ?)"
        args.append(params["category"])
    rows = conn.execute(sql + " ORDER BY pk LIMIT ?", [*args, PAGE + 1]).fetchall()
    total = len(rows)
    links = [("self", f"{base}/{rtype}?{query}")]
    if total > PAGE:
        rows = rows[:PAGE]
        total = conn.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]
        links.append(("next", f"{base}/{rtype}?{query}&_cursor={rows[-1][0]}"))
    return bundle(total, [(f"{base}/{rtype}/{rid}", body) for _, rid, body in rows], links)


def everything(conn, base, patient_id):
    """The patient's compartment plus the non-compartment resources it references, or None."""
    marks = ",".join("?" * len(COMPARTMENT))
    mine = f"SELECT pk FROM resources WHERE type IN ({marks}) AND patient_id = ? AND deleted = 0"
    rows = conn.execute(
        f"SELECT pk, type, id, json FROM resources WHERE pk IN ({mine})", [*COMPARTMENT, patient_id]
    ).fetchall()
    if not any(rtype == "Patient" for _, rtype, _, _ in rows):
        return None
    targets = conn.execute(
        f"SELECT DISTINCT target FROM search_ref WHERE param = '_ref' AND pk IN ({mine})", [*COMPARTMENT, patient_id]
    ).fetchall()
    for rtype in OUTSIDE:
        ids = [t[len(rtype) + 1 :] for (t,) in targets if t.startswith(rtype + "/")]
        if ids:
            rows += conn.execute(
                f"SELECT pk, type, id, json FROM resources WHERE type = ? AND deleted = 0"
                f" AND id IN ({','.join('?' * len(ids))})",
                [rtype, *ids],
            ).fetchall()
    rows.sort(key=lambda row: (RANK[row[1]], row[0]))
    entries = [(f"{base}/{rtype}/{rid}", body) for _, rtype, rid, body in rows]
    return bundle(len(entries), entries, [("self", f"{base}/Patient/{patient_id}/$everything")])


def bundle(total, entries, links):
    """Stitch a searchset Bundle from ``(fullUrl, json bytes)`` entries by concatenation."""
    link = orjson.dumps([{"relation": rel, "url": url} for rel, url in links])
    head = b'{"resourceType":"Bundle","type":"searchset","total":%d,"link":%s' % (total, link)
    if not entries:
        return head + b"}"
    body = b",".join(
        b'{"fullUrl":"%s","resource":%s,"search":{"mode":"match"}}' % (url.encode(), json) for url, json in entries
    )
    return head + b',"entry":[' + body + b"]}"


def patients_with_labs(conn, limit):
    """Return up to ``limit`` Patient ids that have laboratory Observations, in id order."""
    rows = conn.execute(
        "SELECT DISTINCT r.patient_id FROM search_token t JOIN resources r ON r.pk = t.pk"
        " WHERE t.param = 'category' AND t.code = 'laboratory' AND r.type = 'Observation'"
        " AND r.deleted = 0 ORDER BY r.patient_id LIMIT ?",
        (limit,),
    )
    return [patient_id for (patient_id,) in rows]


SERVERS = ("granian", "gunicorn")


def serve(db_path, bind, workers, threads, base_url, server="granian"):
    """Serve the floor until interrupted: under granian with the gateway's own settings (gateway/server.py),
    or under gunicorn's gthread workers, the server the gateway used before issue 16, for reference."""
    loader = partial(make_app, db_path, base_url)
    if server == "granian":
        serve_wsgi("floor", loader, bind, workers, threads)
    else:
        _gunicorn_floor(loader, bind, workers, threads).run()


def _gunicorn_floor(loader, bind, workers, threads):
    """The gunicorn application (imported only when asked for)."""
    from gunicorn.app.base import BaseApplication

    class GunicornFloor(BaseApplication):
        """gthread workers, keep-alive, no access log: how the gateway was served before issue 16."""

        def load_config(self):
            settings = {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread"}
            settings |= {"keepalive": 30, "accesslog": None, "errorlog": "-", "loglevel": "warning"}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return loader()

    return GunicornFloor()


def main(argv=None):
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8181)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=BLOCKING_THREADS)
    parser.add_argument("--server", choices=SERVERS, default="granian")
    args = parser.parse_args(argv)
    base_url = f"http://{args.host}:{args.port}"
    serve(args.db, f"{args.host}:{args.port}", args.workers, args.threads, base_url, args.server)


if __name__ == "__main__":
    main()
