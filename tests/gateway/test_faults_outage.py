"""PostgreSQL restarted and stopped under load: a real `fhir-gateway serve` on its own throwaway cluster, client
threads reading FHIR with a token, refreshing tokens and loading a portal page. Every answer is 200 or 503 with
Retry-After (never a 500, never a reset connection), 503s come while the database is down, and 200s come back
within seconds of it without restarting the gateway (gateway/store/postgres.py, OUTAGE)."""

import threading
import time
import uuid

import psycopg
import pytest
import requests

from fixtures import demo_clients
from gateway import store
from gateway.store import oauth as oauth_store
from gateway.store.errors import unavailable
from smart_auth import accounts
from smart_auth.models import Authorization
from smart_auth.tokens import issue_access_token
from tests import chart
from tests.gateway.test_multi_host import _login, host
from tests.pg_cluster import Cluster

CLIENT = (demo_clients.CONFIDENTIAL_ID, demo_clients.CONFIDENTIAL_SECRET)
BACK_WITHIN_S = 5.0  # POOL_TIMEOUT_S bounds a waiting request; the pool reconnects within ~2 s of the server


@pytest.fixture(scope="module")
def cluster():
    """A cluster of this module's own: it is stopped and restarted, which the session's shared one must not be."""
    made = Cluster.start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def database(cluster):
    url = cluster.database()
    with psycopg.connect(url, autocommit=True) as conn:
        # The throwaway cluster acknowledges commits before writing them (synchronous_commit=off, pg_cluster.py), so
        # an immediate stop (a crash) would lose answered commits; a deployment keeps the default, on.
        conn.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET synchronous_commit = on")
    db = store.connect(url)
    chart.build(db)
    demo_clients.load(db)
    account = accounts.create_account(db, "ana@example.com", "Secret-Pass1", name="Ana", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    return url, account["uid"]


def _code(db, patient, subject):
    """An authorization code as the consent page stores it, for the token endpoint to exchange."""
    code = uuid.uuid4().hex
    authorization = Authorization(subject, patient, None, "offline_access patient/*.rs", str(uuid.uuid4()))
    oauth_store.save_code(
        db,
        code,
        {
            "client_id": CLIENT[0],
            "redirect_uri": demo_clients.REDIRECT_URI,
            "scope": authorization.scope,
            "context": authorization.to_json(),
            "family": authorization.family,
            "code_challenge": demo_clients.code_challenge(),
            "code_challenge_method": "S256",
            "auth_time": int(time.time()),
            "expires_at": int(time.time()) + 120,
        },
    )
    return code


KINDS = (("fhir", "_fhir"), ("fhir-flask", "_fhir_flask"), ("token", "_refresh"), ("page", "_page"))


class Load:
    """Client threads driving the gateway until stopped; every answer is kept as (start, end, kind, status, headers)."""

    def __init__(self, base, patient, bearer, refresh_token, portal):
        self.base, self.patient, self.bearer, self.refresh_token, self.portal = (
            base,
            patient,
            bearer,
            refresh_token,
            portal,
        )
        self.answers, self.failures = [], []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def _loop(self, kind, send):
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                response = send()
            except requests.RequestException as exc:  # a reset or refused connection: the gateway went away
                with self.lock:
                    self.failures.append((kind, repr(exc)))
                continue
            with self.lock:
                self.answers.append((start, time.monotonic(), kind, response.status_code, response))
            if response.status_code == 503:
                time.sleep(0.2)  # not Retry-After's 3 s: the test wants to see the recovery closely

    def _fhir(self):
        return requests.get(f"{self.base}/fhir/Patient/{self.patient}", headers=self.bearer, timeout=30)

    def _fhir_flask(self):
        # The lean front hands a conditional request to Flask: this is the Flask app's FHIR door.
        headers = {**self.bearer, "If-None-Match": 'W/"no-such-version"'}
        return requests.get(f"{self.base}/fhir/Condition?patient={self.patient}", headers=headers, timeout=30)

    def _refresh(self):
        response = requests.post(
            f"{self.base}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            auth=CLIENT,
            timeout=30,
        )
        if response.status_code == 200:
            self.refresh_token = response.json()["refresh_token"]
        return response

    def _page(self):
        return self.portal.get(f"{self.base}/portal/", allow_redirects=False, timeout=30)

    def start(self):
        self.threads = [
            threading.Thread(target=self._loop, args=(kind, getattr(self, method)), daemon=True)
            for kind, method in KINDS
        ]
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(40)


@pytest.fixture
def load(database):
    database, subject = database
    db = store.connect(database)
    patient = store.chart_rows(db, "patients")[0]["uid"]
    bearer = {"Authorization": "Bearer " + issue_access_token(db, CLIENT[0], "patient/*.rs", patient)}
    # A thread per kind of client: a request must not wait in granian's queue behind another's pool wait (up to
    # POOL_TIMEOUT_S), or its 503 would come seconds after the outage it answers (the default is 3 threads).
    with host(database, threads=len(KINDS)) as base:
        exchanged = requests.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": _code(db, patient, subject),
                "redirect_uri": demo_clients.REDIRECT_URI,
                "code_verifier": demo_clients.CODE_VERIFIER,
            },
            auth=CLIENT,
            timeout=10,
        )
        assert exchanged.status_code == 200, exchanged.text
        portal = requests.Session()
        assert _login(portal, base).status_code == 302
        running = Load(base, patient, bearer, exchanged.json()["refresh_token"], portal)
        running.start()
        try:
            yield running
        finally:
            running.finish()


def _pg_ctl(cluster, *args):
    cluster._run("pg_ctl", "-D", f"{cluster.folder}/data", "-w", *args)


def _check_answers(load, back_at):
    """Every answer 200 or 503 with Retry-After in its door's shape; every kind answers 200 soon after ``back_at``."""
    assert load.failures == []
    statuses = {}
    for _, _, kind, status, response in load.answers:
        statuses.setdefault(kind, set()).add(status)
        assert status in (200, 503), (kind, status, response.text[:300])
        if status == 503:
            assert response.headers["Retry-After"] == "3"
            _assert_shape(kind, response)
    for kind in ("fhir", "fhir-flask", "token", "page"):
        recovered = [
            end for start, end, k, status, _ in load.answers if k == kind and status == 200 and start >= back_at
        ]
        assert recovered, f"{kind}: no 200 after the database came back ({statuses.get(kind)})"
        assert min(recovered) - back_at < BACK_WITHIN_S, f"{kind}: first 200 {min(recovered) - back_at:.1f} s after"
        unavailable = sum(1 for *_, k, status, _ in load.answers if k == kind and status == 503)
        print(f"{kind}: {unavailable} x 503, first 200 {min(recovered) - back_at:.2f} s after the database was back")
    return statuses


def _assert_shape(kind, response):
    if kind.startswith("fhir"):
        assert response.headers["Content-Type"].startswith("application/fhir+json")
        assert response.json()["issue"][0]["code"] == "transient"
    elif kind == "token":
        assert response.json()["error"] == "temporarily_unavailable"
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "briefly unavailable" in response.text


def _run_until(load, seconds):
    time.sleep(seconds)


def test_a_stopped_database_answers_503_with_retry_after_and_the_gateway_recovers_by_itself(cluster, load):
    _run_until(load, 1.5)
    _pg_ctl(cluster, "-m", "immediate", "stop")
    down_at = time.monotonic()
    _run_until(load, 7)  # longer than the pool's wait (POOL_TIMEOUT_S): requests must give up with a 503
    # restart, not start: with no server running it starts one with the options of the last (postmaster.opts)
    _pg_ctl(cluster, "-l", f"{cluster.folder}/log", "restart")
    back_at = time.monotonic()
    _run_until(load, BACK_WITHIN_S + 1)
    load.finish()
    statuses = _check_answers(load, back_at)
    during = [kind for start, end, kind, status, _ in load.answers if status == 503 and down_at <= end <= back_at + 1]
    assert set(during) == {"fhir", "fhir-flask", "token", "page"}, statuses
    assert all(status == 200 for start, _, _, status, _ in load.answers if start < down_at - 0.5)


def test_a_restarted_database_costs_no_500_and_no_reset(cluster, load):
    _run_until(load, 1.5)
    _pg_ctl(cluster, "-m", "fast", "restart", "-l", f"{cluster.folder}/log")
    back_at = time.monotonic()
    _run_until(load, BACK_WITHIN_S + 1)
    load.finish()
    _check_answers(load, back_at)


# Every door while the database is down, through the app in this process (its pool waits 0.5 s, not 5):
# (method, path, body, kind of answer). The portal and console are asked with a session cookie, so the outage
# meets them while Flask opens the session, before any route runs.
DOORS = [
    ("GET", "/fhir/Patient/{patient}", None, "fhir"),
    ("GET", "/fhir/Condition?patient={patient}", None, "fhir"),  # If-None-Match: the Flask route
    ("POST", "/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}, "oauth"),
    ("POST", "/oauth/introspect", {"token": "x"}, "oauth"),
    ("POST", "/oauth/register", None, "oauth"),
    ("GET", "/oauth/authorize?response_type=code&client_id=demo-public-app", None, "page"),
    ("GET", "/portal/", None, "page"),
    ("GET", "/portal/records/conditions", None, "page"),
    ("GET", "/practice/", None, "page"),
    ("GET", "/practice/api/invites/nothing", None, "practice"),
    ("GET", "/portal/api/grants", None, "oauth"),
]


@pytest.fixture
def stopped(cluster, database, make_app, monkeypatch):
    """An app in this process, a portal session on it, and then the database stopped (started again after)."""
    from gateway.store import postgres

    url, _ = database
    postgres.close_pool(url)
    monkeypatch.setattr(postgres, "POOL_TIMEOUT_S", 0.5)
    app = make_app(url, SECRET_KEY="one-secret-for-every-host")
    web = app.test_client()
    page = web.get("/portal/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"email": "ana@example.com", "password": "Secret-Pass1", "csrf_token": token}
    assert web.post("/portal/login", data=form).status_code == 302
    patient = store.chart_rows(store.connect(url), "patients")[0]["uid"]
    _pg_ctl(cluster, "-m", "immediate", "stop")
    try:
        yield web, patient
    finally:
        _pg_ctl(cluster, "-l", f"{cluster.folder}/log", "restart")
        postgres.close_pool(url)


def test_every_door_answers_503_in_its_own_shape_while_the_database_is_down(stopped):
    web, patient = stopped
    for method, path, body, kind in DOORS:
        headers = {"Authorization": "Bearer x", "If-None-Match": 'W/"1"'} if kind == "fhir" else {}
        if path == "/fhir/Patient/{patient}":
            headers.pop("If-None-Match")
        if path == "/oauth/register":
            headers["Content-Type"] = "application/json"
            body = '{"redirect_uris": ["https://app.example/cb"]}'
        response = web.open(path.format(patient=patient), method=method, data=body, headers=headers)
        assert response.status_code == 503, (path, response.status_code, response.get_data(as_text=True)[:300])
        assert response.headers["Retry-After"] == "3" and response.headers["Cache-Control"] == "no-store", path
        if kind == "fhir":
            assert response.get_json()["issue"][0]["code"] == "transient", path
        elif kind in ("oauth", "practice"):
            key = "message" if kind == "practice" else "error_description"
            assert response.get_json()["error"] == "temporarily_unavailable" and response.get_json()[key], path
        else:
            assert response.mimetype == "text/html" and "Briefly unavailable" in response.get_data(as_text=True), path


def test_a_writer_gives_up_on_a_held_write_lock_after_lock_timeout_but_a_migration_waits(database, monkeypatch):
    """A gateway host that stopped mid-write without closing its socket must not hold every other writer for
    ever: lock_timeout covers the advisory write lock too (55P03, a 503 at the doors); migrations wait it out."""
    from gateway.store import postgres

    url, _ = database
    postgres.close_pool(url)
    settings = dict(postgres.CONNECTION_SETTINGS)
    settings["options"] = settings["options"].replace(f"lock_timeout={postgres.LOCK_TIMEOUT_S}s", "lock_timeout=200ms")
    monkeypatch.setattr(postgres, "CONNECTION_SETTINGS", settings)
    db = postgres.PgStore(url)
    waited = []
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (postgres.WRITE_LOCK,))
        started = time.monotonic()
        with pytest.raises(psycopg.errors.LockNotAvailable) as refused, db.transaction():
            pass
        assert time.monotonic() - started < 2
        assert unavailable(refused.value)
        migrating = threading.Thread(target=lambda: waited.append(postgres.migrate(db)))
        migrating.start()
        time.sleep(0.6)  # three lock timeouts: the migration is still waiting, not failed
        assert migrating.is_alive() and waited == []
        holder.execute("SELECT pg_advisory_unlock(%s)", (postgres.WRITE_LOCK,))
    migrating.join(10)
    assert waited and waited[0] > 0
    postgres.close_pool(url)
