"""Two `fhir-gateway serve` processes (two hosts behind a load balancer) on different ports, one PostgreSQL database,
one GATEWAY_SECRET_KEY: whatever one host decides about access, the other knows at once, because it lives in the
database (tokens and their revocation, login attempts, web sessions) and not in a process."""

import contextlib
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from fixtures import demo_clients
from gateway import store
from smart_auth import accounts
from smart_auth.tokens import issue_access_token
from tests import chart
from tests.gateway.test_server_limits import _free_port, _wait_for

SECRET = "one-secret-for-every-host"


@contextlib.contextmanager
def host(url, threads=None):
    port = _free_port()
    env = {**os.environ, "GATEWAY_SECRET_KEY": SECRET, "GATEWAY_BASE_URL": "http://gateway.test"}
    options = ["--threads", str(threads)] if threads else []
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--db", url, "--port", str(port), "--workers", "1", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    try:
        _wait_for(("127.0.0.1", port), process)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


@pytest.fixture(scope="module")
def database(postgres_cluster):
    url = postgres_cluster.database()
    db = store.connect(url)
    chart.build(db)
    demo_clients.load(db)
    account = accounts.create_account(db, "ana@example.com", "Secret-Pass1", name="Ana", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    return url


@pytest.fixture(scope="module")
def hosts(database):
    with host(database) as one, host(database) as two:
        yield one, two


def _csrf(session, url):
    html = session.get(url).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(session, base, password="Secret-Pass1", email="ana@example.com"):
    token = _csrf(session, f"{base}/portal/login")
    return session.post(
        f"{base}/portal/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def test_a_token_revoked_through_one_host_is_refused_by_the_other_at_once(database, hosts):
    one, two = hosts
    db = store.connect(database)
    patient = store.chart_rows(db, "patients")[0]["uid"]
    token = issue_access_token(db, demo_clients.CONFIDENTIAL_ID, "patient/Patient.rs", patient)
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{two}/fhir/Patient/{patient}", headers=bearer, timeout=10).status_code == 200
    revoked = requests.post(
        f"{one}/oauth/revoke",
        data={"token": token},
        auth=(demo_clients.CONFIDENTIAL_ID, demo_clients.CONFIDENTIAL_SECRET),
        timeout=10,
    )
    assert revoked.status_code == 200
    refused = requests.get(f"{two}/fhir/Patient/{patient}", headers=bearer, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_a_lockout_from_five_wrong_passwords_on_one_host_holds_on_the_other(database, hosts):
    one, two = hosts
    email = "locked@example.com"
    accounts.create_account(store.connect(database), email, "Right-Pass1", name="Lou", confirmed=True)
    for _ in range(5):
        assert _login(requests.Session(), one, "Wrong-Pass9", email).status_code == 401
    locked = _login(requests.Session(), two, "Right-Pass1", email)
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text


def test_a_session_begun_on_one_host_works_on_the_other_and_ends_on_both(database, hosts):
    one, two = hosts
    session = requests.Session()
    response = _login(session, one)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    assert session.get(f"{two}/portal/", allow_redirects=False).status_code == 200
    token = _csrf(session, f"{two}/portal/")
    assert session.post(f"{two}/portal/logout", data={"csrf_token": token}, allow_redirects=False).status_code == 302
    assert session.get(f"{one}/portal/", allow_redirects=False).status_code == 302
