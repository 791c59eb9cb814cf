"""kill -9 mid-write: writers in real processes (the gateway's own functions, or `fhir-gateway serve`) are killed
while their writes are in flight, then the database is opened again and checked. Whatever was committed is
whole and nothing half-written is visible: a chart row and its FHIR projection and search index agree exactly; an
invitation is linked with its link and audit, or none of them; an authorization code is unused with no tokens,
or used with its tokens. On the engine of the run (SQLite WAL by default, PostgreSQL with --store=postgres)."""

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import requests

from fixtures import demo_clients
from gateway import store
from gateway.store import enrollment as enrollment_store
from gateway.store import projection
from gateway.store.search_index import index_entries
from smart_auth import accounts
from smart_auth.enrollment import Context, new_invite
from smart_auth.notify import Notifier
from tests import chart
from tests.gateway.test_faults_outage import CLIENT, _code
from tests.gateway.test_multi_host import SECRET
from tests.gateway.test_server_limits import _free_port, _wait_for

ROUNDS = 2
WRITERS = 3


def _writer(function, *args):
    """A process running ``tests.gateway.test_faults_kill.<function>(*args)``; it prints a line once it writes."""
    code = f"from tests.gateway.test_faults_kill import {function}; {function}(*{args!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # read only when it fails to start (it writes nothing there while it runs)
        start_new_session=True,
        text=True,
        env={**os.environ, "GATEWAY_SECRET_KEY": SECRET},
    )


def _kill_while_writing(writers, seed, commits=None):
    """Wait until every writer has committed once, let them write a varied while, then SIGKILL them all at once.

    ``commits``: for a writer with a finite list (it prints a line per commit), wait for that many lines of each
    instead of a while, so that the kill lands with most of the list unwritten however fast the machine is."""
    for process in writers:
        if process.stdout.readline().strip() != "writing":
            process.wait(10)
            raise AssertionError(f"the writer did not start: {process.stderr.read()[-2000:]}")
    if commits is None:
        time.sleep(random.Random(seed).uniform(0.05, 0.6))
    else:
        for process in writers:
            for _ in range(commits - 1):
                assert process.stdout.readline().strip() == "writing"
    for process in writers:
        assert process.poll() is None, "a writer finished before it was killed"
        os.killpg(process.pid, signal.SIGKILL)
    for process in writers:
        process.wait(10)
        assert process.returncode == -signal.SIGKILL


# -- chart edits: a row and its projection ----------------------------------------------------------


def edit_charts(path, seed):
    """Writer: update and insert diagnoses (each re-projecting Condition) until killed."""
    db = store.connect(path)
    rows = store.chart_rows(db, "diagnoses")
    rng = random.Random(seed)
    for n in range(1_000_000):
        row = rng.choice(rows)
        if n % 3:
            store.update_row(
                db, "diagnoses", row["id"], {"description": f"Edit {seed}-{n}", "onset_date": f"20{n % 90 + 10}-01-02"}
            )
        else:
            copy = {k: v for k, v in row.items() if k not in ("id", "uid", "updated_at")}
            store.insert_rows(db, "diagnoses", [dict(copy, description=f"New {seed}-{n}")])
        if n == 0:
            print("writing", flush=True)


def _stored_index(db, pk):
    found = []
    for table, columns in (
        ("search_token", "param, system, code"),
        ("search_date", "param, low, high"),
        ("search_string", "param, value, raw"),
        ("search_ref", "param, target, patient_id"),
    ):
        found.append(sorted(tuple(r) for r in db.execute(f"SELECT {columns} FROM {table} WHERE pk = ?", (pk,))))
    return found


def assert_projection_whole(db, table):
    """Every row of ``table`` re-projects to exactly its stored resource and index rows, and every stored resource
    of the table has its row."""
    rows = store.chart_rows(db, table)
    found = projection.contexts(projection.DbSource(db), table, rows)
    for rt in projection.types_of(table):
        stored = {
            r[0]: r[1:]
            for r in db.execute(
                "SELECT id, pk, version, last_updated, json, source_id FROM resources"
                " WHERE type = ? AND source_table = ?",
                (rt.name, table),
            )
        }
        assert {row["uid"] for row in rows} == set(stored), f"{rt.name}: chart rows and resources differ"
        for row, ctx in zip(rows, found):
            pk, version, last_updated, body, source_id = stored[row["uid"]]
            assert source_id == row["id"]
            expected, entries = projection.render(rt, table, row, ctx, version, last_updated)
            assert bytes(body) == expected, f"{rt.name}/{row['uid']}: the resource is not its row's projection"
            patient = ctx["patient"] if rt.compartment else None
            index_rows = ([], [], [], [])
            projection._index(index_entries(rt, json.loads(expected), expected), 0, patient, index_rows)
            wanted = [sorted({tuple(r[1:]) for r in rows_of_kind}) for rows_of_kind in index_rows]
            assert _stored_index(db, pk) == wanted, f"{rt.name}/{row['uid']}: its search index is not its projection's"


def test_chart_writers_killed_mid_write_leave_every_row_and_its_projection_whole(empty_db_path):
    db = store.connect(empty_db_path)
    chart.build(db)
    before = len(store.chart_rows(db, "diagnoses"))
    for round_ in range(ROUNDS):
        writers = [_writer("edit_charts", empty_db_path, round_ * WRITERS + i) for i in range(WRITERS)]
        _kill_while_writing(writers, round_)
        db = store.connect(empty_db_path)
        assert_projection_whole(db, "diagnoses")
    after = store.chart_rows(db, "diagnoses")
    assert len(after) > before and any(row["description"].startswith("Edit") for row in after)


# -- enrollment: a verified access code links the account ---------------------------------------------

INVITES_PER_WRITER = 30


def link_invites(path, account_id, invites):
    """Writer: verify each invitation's access code (which links the account to the chart), then wait to be killed."""
    from gateway.store import accounts as account_store
    from smart_auth.verification import verify_access_code

    db = store.connect(path)
    context = Context(db, SECRET, "http://gateway.test", Notifier(db, {}))
    account = account_store.account_by_id(db, account_id)
    for uid, pin in invites:
        verify_access_code(context, account, uid, pin)
        print("writing", flush=True)
    time.sleep(60)


def _invite_many(db, account, count):
    """``count`` new charts, each with an invitation of ``account`` as the patient: [(invite uid, PIN)]."""
    context = Context(db, SECRET, "http://gateway.test", Notifier(db, {}))
    template = {k: v for k, v in store.chart_rows(db, "patients")[0].items() if k not in ("id", "uid", "updated_at")}
    ids = store.insert_rows(db, "patients", [dict(template, mrn=f"K-{uuid.uuid4().hex[:8]}") for _ in range(count)])
    person = {"relation": "self", "email": account["email"], "phone": "", "text_link": False}
    made = []
    for patient_id in ids:
        patient = store.chart_row(db, "patients", patient_id)
        invite = new_invite(context, patient, person, "staff test", str(uuid.uuid4()), "invited", account["id"])
        made.append((invite["uid"], invite["pin"]))
    return made


def assert_enrollments_whole(db, account, invite_uids):
    """Each invitation is linked with its active link and its verified and linked events, or has none of them."""
    linked_charts = {
        row[0]
        for row in db.execute(
            "SELECT patient_id FROM account_links WHERE account_id = ? AND status = 'active'", (account["id"],)
        )
    }
    for uid in invite_uids:
        invite = enrollment_store.invite_by_uid(db, uid)
        events = {
            row[0] for row in db.execute("SELECT event FROM enrollment_events WHERE invite_id = ?", (invite["id"],))
        }
        parts = (invite["status"] == "linked", invite["patient_id"] in linked_charts, {"verified", "linked"} <= events)
        assert parts in ((True, True, True), (False, False, False)), f"invitation {uid} half linked: {parts}"
    return sum(enrollment_store.invite_by_uid(db, uid)["status"] == "linked" for uid in invite_uids)


def test_enrollment_writers_killed_mid_link_leave_each_invitation_linked_whole_or_not_at_all(empty_db_path):
    db = store.connect(empty_db_path)
    chart.build(db)
    account = accounts.create_account(db, "many@example.com", "Secret-Pass1", name="Many", confirmed=True)
    every = []
    for round_ in range(ROUNDS):
        batches = [_invite_many(db, account, INVITES_PER_WRITER) for _ in range(WRITERS)]
        every += [uid for batch in batches for uid, _ in batch]
        writers = [_writer("link_invites", empty_db_path, account["id"], batch) for batch in batches]
        _kill_while_writing(writers, round_, commits=random.Random(round_).randint(1, 5))
        linked = assert_enrollments_whole(store.connect(empty_db_path), account, every)
    assert 0 < linked < len(every)


# -- token issue: a code exchanged at the token endpoint -------------------------------------------------


def assert_codes_whole(db, codes):
    """Each code is unused with no tokens of its family, or used with exactly its access and refresh token."""
    from gateway.store.tokens import token_hash

    used = 0
    for code in codes:
        used_at, family = db.execute(
            "SELECT used_at, family FROM oauth_codes WHERE code_hash = ?", (token_hash(code),)
        ).fetchone()
        access = db.execute("SELECT count(*) FROM access_tokens WHERE family = ?", (family,)).fetchone()[0]
        refresh = db.execute("SELECT count(*) FROM refresh_tokens WHERE family = ?", (family,)).fetchone()[0]
        state = (used_at is not None, access, refresh)
        assert state in ((True, 1, 1), (False, 0, 0)), f"code of family {family} half spent: {state}"
        used += used_at is not None
    return used


def _exchange_until_killed(base, codes, answered):
    while True:
        try:
            code = codes.get_nowait()
        except queue.Empty:
            return
        try:
            response = requests.post(
                f"{base}/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": demo_clients.REDIRECT_URI,
                    "code_verifier": demo_clients.CODE_VERIFIER,
                },
                auth=CLIENT,
                timeout=10,
            )
        except requests.RequestException:
            return  # the server was killed
        answered.append(response.status_code)


def test_a_token_endpoint_killed_mid_exchange_leaves_each_code_unused_or_spent_with_its_tokens(empty_db_path):
    db = store.connect(empty_db_path)
    chart.build(db)
    demo_clients.load(db)
    patient = store.chart_rows(db, "patients")[0]["uid"]
    codes = [_code(db, patient, "subject-1") for _ in range(300)]
    waiting = queue.Queue()
    for code in codes:
        waiting.put(code)
    port, answered = _free_port(), []
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--db", empty_db_path, "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "GATEWAY_SECRET_KEY": SECRET, "GATEWAY_BASE_URL": "http://gateway.test"},
    )
    try:
        _wait_for(("127.0.0.1", port), server)
        clients = [
            threading.Thread(target=_exchange_until_killed, args=(f"http://127.0.0.1:{port}", waiting, answered))
            for _ in range(8)
        ]
        for client in clients:
            client.start()
        while len(answered) < 50:
            time.sleep(0.01)
        time.sleep(random.uniform(0.05, 0.3))
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    for client in clients:
        client.join(20)
    assert set(answered) == {200}
    used = assert_codes_whole(store.connect(empty_db_path), codes)
    assert len(answered) <= used < len(codes)
