"""Read replicas (gateway/store/replicas.py) against a real streaming standby, started with ``pg_basebackup -R``:
searches and $everything are served there, reads by id and everything that decides access by the primary.

Replay on the standby is paused (``pg_wal_replay_pause()``) to make its lag visible: a chart row written then is
on the primary only, so whoever still reads the old row read the replica, and whoever reads the new one read the
primary. Runs in the PostgreSQL pass (``--store=postgres``), whose cluster is the primary.
"""

import base64
import contextlib
import logging
import os
import re
import time

import pytest
import requests

from fixtures import demo_clients
from gateway import store
from gateway.config import ConfigError, load
from gateway.store import replicas
from smart_auth import accounts
from smart_auth.tokens import issue_access_token
from tests import chart
from tests.gateway.test_multi_host import host
from tests.web_helpers import portal_login, post, staff_login


@pytest.fixture(autouse=True)
def patient_pools(monkeypatch):
    """A first connection to the replica may take longer than a request waits (WAIT_SECONDS) on a loaded machine,
    and the replica is then left alone for DOWN_SECONDS: these tests are about where reads go, so they wait."""
    monkeypatch.setattr(replicas, "WAIT_SECONDS", 10.0)


@pytest.fixture(scope="module")
def primary(pg_cluster):
    if pg_cluster is None:
        # Must skip on the SQLite pass: SQLite has no replicas. make test's PostgreSQL pass runs every test here.
        pytest.skip("SQLite has no replicas; make test's PostgreSQL pass runs these")  # must skip: PG-only feature
    return pg_cluster


@pytest.fixture(scope="module")
def database(primary):
    """The small chart, a staff user of its practice (the writer) and the name of the database on both servers."""
    url = primary.database()
    db = store.connect(url)
    chart.build(db)
    demo_clients.load(db)
    accounts.create_staff(db, "desk@example.com", "Desk-Pass1", "Front desk", 1)
    account = accounts.create_account(db, "jose@example.com", "Secret-Pass1", name="José", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    return url


@pytest.fixture(scope="module")
def standby(primary, database):
    replica = primary.standby()
    yield replica
    replica.stop()


def replica_url(standby, database):
    return standby.url(database.rsplit("/", 1)[1])


def caught_up(primary, standby, database):
    """Wait until the standby has replayed everything the primary has written.

    CHECKPOINT first writes (and flushes) a WAL record: right after a segment switch (pg_basebackup ends with one)
    the insert position sits past the new page's header, which no replay reaches until another record is written."""
    primary.sql("CHECKPOINT")
    target = primary.sql("SELECT pg_current_wal_insert_lsn()::text", database.rsplit("/", 1)[1])[0]
    for _ in range(200):
        if standby.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]:
            return
        time.sleep(0.05)
    raise AssertionError("the standby did not catch up in 10 s")


@contextlib.contextmanager
def replay_paused(standby):
    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")


def staff_uid(database):
    return store.connect(database).execute("SELECT uid FROM staff_users").fetchone()[0]


def bearer(database, scope, patient=None, subject=None):
    token = issue_access_token(store.connect(database), "test-client", scope, patient, subject)
    return {"Authorization": f"Bearer {token}"}


def family_name(client, headers, by_id=False):
    """pat-1's family name as a search finds it (a replica may serve it), or a read by id (always the primary)."""
    response = client.get("/fhir/Patient/pat-1" if by_id else "/fhir/Patient?_id=pat-1", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    return (found if by_id else found["entry"][0]["resource"])["name"][0]["family"]


def rename(client, family):
    """The staff user renames pat-1 in the practice console (a chart write through the real page)."""
    page = "/practice/patients/pat-1/demographics"
    assert post(client, page, {**_RENAMED, "last_name": family}, page).status_code == 302


@pytest.fixture
def app(make_app, primary, database, standby):
    caught_up(primary, standby, database)
    return make_app(database, DATABASE_REPLICA_URL=replica_url(standby, database), DATABASE_REPLICA_MAX_LAG=60)


def test_reads_come_from_the_replica_and_a_writer_reads_their_own_write_at_once(app, primary, database, standby):
    writer = app.test_client()
    staff_login(writer)
    staff_token = bearer(database, "user/Patient.rs", subject=staff_uid(database))
    reader = bearer(database, "patient/Patient.rs", "pat-1")
    assert family_name(writer, staff_token) == family_name(writer, reader) == "Ramírez"
    with replay_paused(standby):
        rename(writer, "Ramírez-Paused")
        # The writer's floor is past the replica's replay: their read goes to the primary and shows the write.
        assert family_name(writer, staff_token) == "Ramírez-Paused"
        # Anyone else's search reads the replica, which has not replayed it: the proof that searches are served there.
        assert family_name(app.test_client(), reader) == "Ramírez"
        # A read by id saves the primary nothing on a replica (bench/replica.py): it reads the primary.
        assert family_name(app.test_client(), reader, by_id=True) == "Ramírez-Paused"
    caught_up(primary, standby, database)
    assert family_name(app.test_client(), reader) == "Ramírez-Paused"
    assert family_name(writer, staff_token) == "Ramírez-Paused"  # the replica has passed the floor


def test_search_and_everything_are_served_by_the_replica(app, primary, database, standby):
    reader = bearer(database, "patient/*.rs", "pat-1")
    client = app.test_client()
    before = family_name(client, reader)
    with replay_paused(standby):
        with store.connect(database).transaction() as db:  # the practice's EHR writes; the reader did not
            store.update_row(db, "patients", 1, {"last_name": "Ramírez-Imported"})
        everything = client.get("/fhir/Patient/pat-1/$everything", headers=reader).get_json()
        assert family_name(client, reader) == before
        patient = next(e["resource"] for e in everything["entry"] if e["resource"]["resourceType"] == "Patient")
        assert patient["name"][0]["family"] == before
    caught_up(primary, standby, database)
    assert family_name(client, reader) == "Ramírez-Imported"


def test_a_revoked_token_is_refused_at_once_though_the_replica_has_not_replayed_it(app, primary, database, standby):
    db = store.connect(database)
    token = issue_access_token(db, demo_clients.CONFIDENTIAL_ID, "patient/Patient.rs", "pat-1")
    caught_up(primary, standby, database)  # the replica knows the token as valid: only the primary knows it revoked
    client = app.test_client()
    with replay_paused(standby):
        assert family_name(client, {"Authorization": f"Bearer {token}"})
        revoked = client.post(
            "/oauth/revoke",
            data={"token": token},
            headers=_basic(demo_clients.CONFIDENTIAL_ID, demo_clients.CONFIDENTIAL_SECRET),
        )
        assert revoked.status_code == 200
        refused = client.get("/fhir/Patient?_id=pat-1", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        assert refused.get_json()["resourceType"] == "OperationOutcome"


def _basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_replica_further_behind_than_the_lag_bound_is_left_alone(make_app, primary, database, standby):
    caught_up(primary, standby, database)
    app = make_app(database, DATABASE_REPLICA_URL=replica_url(standby, database), DATABASE_REPLICA_MAX_LAG=1)
    reader, client = bearer(database, "patient/Patient.rs", "pat-1"), app.test_client()
    first_asked = time.monotonic()  # no sample of the primary's position this app keeps is older
    before = family_name(client, reader)
    with replay_paused(standby):
        with store.connect(database).transaction() as db:
            store.update_row(db, "patients", 1, {"last_name": "Ramírez-Lagging"})
        written = time.monotonic()
        assert family_name(client, reader) == before  # the replica, less than a second behind
        while family_name(client, reader) == before and time.monotonic() - written < 10:
            time.sleep(0.1)
        # Left alone once it is more than a second behind, and noticed within two rounds of asking (the primary's
        # position is sampled when a replica is asked, at most every CHECK_SECONDS).
        assert time.monotonic() - first_asked >= 1
        assert time.monotonic() - written <= 1 + 2 * replicas.CHECK_SECONDS + 0.5
        assert family_name(client, reader) == "Ramírez-Lagging"


def test_a_stopped_replica_fails_no_request(make_app, primary, database, standby, caplog, monkeypatch):
    caught_up(primary, standby, database)
    app = make_app(database, DATABASE_REPLICA_URL=replica_url(standby, database), DATABASE_REPLICA_MAX_LAG=30)
    reader, client = bearer(database, "patient/*.rs", "pat-1"), app.test_client()
    assert family_name(client, reader)  # a search: this process's pool now holds a connection to the replica
    # The pool checks a connection before lending it and waits for a new one when the server is gone: as long as a
    # request waits for a replica's connection (WAIT_SECONDS), which this test keeps at the real value.
    monkeypatch.setattr(replicas, "WAIT_SECONDS", 0.5)
    data = os.path.join(standby.folder, "data")
    standby._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.store.replicas"):
            started = time.monotonic()
            for path in ("/fhir/Patient?_id=pat-1", "/fhir/Condition?patient=pat-1", "/fhir/Patient/pat-1/$everything"):
                assert client.get(path, headers=reader).status_code == 200, path
            assert time.monotonic() - started < 3
        assert any("unusable, reading the primary" in r.getMessage() for r in caplog.records)
    finally:
        standby._run(
            "pg_ctl", "-D", data, "-o", standby.options, "-l", os.path.join(standby.folder, "log"), "-w", "start"
        )
        store.postgres.close_pool(replica_url(standby, database))  # its connections died with the server


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("postgresql://a/db", "needs a PostgreSQL primary"),
        ("/var/replica.db", "needs a PostgreSQL primary"),
    ],
)
def test_a_sqlite_gateway_refuses_a_replica(tmp_path, given, message):
    with pytest.raises(ConfigError, match=message):
        load({"DB": str(tmp_path / "g.db"), "DATABASE_REPLICA_URL": given}, environ={})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("sqlite:///x.db", "must be postgresql:// URLs"),
        ("postgresql://h/db, /tmp/x.db", "must be postgresql:// URLs"),
        ("postgresql://%zz/db", "must be postgresql:// URLs"),
        ("postgresql://p/db", "names the primary itself"),
    ],
)
def test_replica_urls_are_checked(given, message):
    config = {"DATABASE_URL": "postgresql://p/db", "SECRET_KEY": "s", "DATABASE_REPLICA_URL": given}
    with pytest.raises(ConfigError, match=message):
        load(config, environ={})


def test_a_list_of_replicas_keeps_a_multi_host_url_whole_and_the_lag_bound_is_checked():
    config = {"DATABASE_URL": "postgresql://p/db", "SECRET_KEY": "s"}
    given = "postgresql://r1/db, postgresql://r2:5432,r3:5432/db"
    found = load({**config, "DATABASE_REPLICA_URL": given}, environ={})["DATABASE_REPLICAS"]
    assert found == ("postgresql://r1/db", "postgresql://r2:5432,r3:5432/db")
    assert load(config, environ={})["DATABASE_REPLICAS"] == ()
    with pytest.raises(ConfigError, match="MAX_LAG must be a whole number of seconds, at least 1"):
        load({**config, "DATABASE_REPLICA_URL": "postgresql://r1/db", "DATABASE_REPLICA_MAX_LAG": 0}, environ={})


def test_a_served_gateway_reads_the_replica_and_keeps_writes_and_revocations_exact(
    primary, database, standby, monkeypatch
):
    """`fhir-gateway serve` with GATEWAY_DATABASE_REPLICA_URL, driven over HTTP as a person and an app would."""
    caught_up(primary, standby, database)
    monkeypatch.setenv("GATEWAY_DATABASE_REPLICA_URL", replica_url(standby, database))
    db = store.connect(database)
    staff_token = bearer(database, "user/Patient.rs", subject=staff_uid(database))
    app_token = issue_access_token(db, demo_clients.CONFIDENTIAL_ID, "patient/Patient.rs", "pat-1")
    reader = {"Authorization": f"Bearer {app_token}"}
    caught_up(primary, standby, database)
    with host(database) as base:
        staff = requests.Session()
        page = f"{base}/practice/login"
        login = {"email": "desk@example.com", "password": "Desk-Pass1", "csrf_token": _csrf(staff, page)}
        assert staff.post(page, data=login, allow_redirects=False).status_code == 302
        before = _family(base, reader)
        with replay_paused(standby):
            page = f"{base}/practice/patients/pat-1/demographics"
            form = {**_RENAMED, "last_name": "Ramírez-Served", "csrf_token": _csrf(staff, page)}
            assert staff.post(page, data=form, allow_redirects=False).status_code == 302
            assert _family(base, staff_token) == "Ramírez-Served"  # the writer: the primary
            # The app: the replica, replay paused (a first connection slower than WAIT_SECONDS, as on a loaded
            # machine, sends reads to the primary for DOWN_SECONDS: ask again until the replica answers).
            deadline = time.monotonic() + 2 * replicas.DOWN_SECONDS
            while _family(base, reader) != before and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _family(base, reader) == before
            revoked = requests.post(
                f"{base}/oauth/revoke",
                data={"token": app_token},
                auth=(demo_clients.CONFIDENTIAL_ID, demo_clients.CONFIDENTIAL_SECRET),
                timeout=10,
            )
            assert revoked.status_code == 200
            refused = requests.get(f"{base}/fhir/Patient?_id=pat-1", headers=reader, timeout=10)
            assert refused.status_code == 401 and refused.json()["resourceType"] == "OperationOutcome"


_RENAMED = {
    "first_name": "José",
    "birth_date": "1980-05-17",
    "sex": "M",
    "race_code": "2106-3",
    "ethnicity_code": "2135-2",
    "preferred_language": "es",
    "phone": "555-010-0001",
}


def _csrf(session, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=10).text).group(1)


def _family(base, headers):
    response = requests.get(f"{base}/fhir/Patient?_id=pat-1", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["entry"][0]["resource"]["name"][0]["family"]


def test_a_read_floor_is_raised_past_the_write_and_never_lowered(database):
    db = store.connect(database)

    def position():
        return db.execute("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint").fetchone()[0]

    with db.transaction():
        store.update_row(db, "patients", 2, {"city": "Shelbyville"})
    committed = position()  # the insert position once the write's commit record is in
    replicas.note_write(db, "someone")
    (noted,) = db.execute("SELECT lsn FROM read_floors WHERE person = 'someone'").fetchone()
    assert committed <= noted <= position()
    db.execute("UPDATE read_floors SET lsn = ? WHERE person = 'someone'", (noted + 2**40,))  # a later host's note
    replicas.note_write(db, "someone")
    assert db.execute("SELECT lsn FROM read_floors WHERE person = 'someone'").fetchone()[0] == noted + 2**40


def test_the_portal_record_pages_are_read_from_the_replica(app, primary, database, standby):
    client = app.test_client()
    assert portal_login(client, "jose@example.com").status_code == 302
    caught_up(primary, standby, database)  # logging in wrote (the session, the attempt): past José's floor
    with replay_paused(standby):
        with store.connect(database).transaction() as db:  # the practice's EHR writes; the patient did not
            store.update_row(db, "diagnoses", 1, {"description": "Type 2 diabetes, diet-controlled"})
        assert "diet-controlled" not in client.get("/portal/records/diagnoses").get_data(as_text=True)
    caught_up(primary, standby, database)
    assert "diet-controlled" in client.get("/portal/records/diagnoses").get_data(as_text=True)
