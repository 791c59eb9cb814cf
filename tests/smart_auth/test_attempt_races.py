"""Attempt limits under real concurrency: N parallel attempts against one database (either engine) check at most
the limit."""

import threading

import pytest

from gateway import store
from smart_auth import accounts, pins, verification
from smart_auth.limits import TooManyAttempts
from tests.enrollment_helpers import build, context, last_link

PARALLEL = 30


def in_parallel(path, attempt, n=PARALLEL):
    """Run ``attempt(db)`` in ``n`` threads released together, each on its own connection; return outcomes."""
    barrier, outcomes, lock = threading.Barrier(n), [], threading.Lock()

    def run():
        db = store.current(path)
        barrier.wait()
        try:
            attempt(db)
            outcome = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome's class is what the test counts
            outcome = type(exc).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def counting(monkeypatch, module, name):
    """Replace ``module.name`` by a slower wrapper that counts its calls (a wider window for races)."""
    original, calls, lock = getattr(module, name), [], threading.Lock()

    def wrapper(*args, **kwargs):
        with lock:
            calls.append(1)
        threading.Event().wait(0.02)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.fixture
def path(new_db_path):
    path = new_db_path("races")
    db = store.connect(path)
    build(db)
    accounts.create_account(db, "ana@example.com", "Secret-Pass1", confirmed=True)
    return path


def test_parallel_wrong_passwords_check_at_most_the_account_limit(path, monkeypatch):
    checked = counting(monkeypatch, accounts, "verify_password")
    outcomes = in_parallel(
        path,
        lambda db: accounts.authenticate(db, "ana@example.com", "Wrong-Pass1", f"10.0.{threading.get_ident() % 250}.1"),
    )
    assert len(checked) == accounts.ACCOUNT_LIMIT
    assert outcomes.count("LoginFailed") == accounts.ACCOUNT_LIMIT
    assert outcomes.count("TooManyAttempts") == PARALLEL - accounts.ACCOUNT_LIMIT


def test_parallel_wrong_passwords_from_one_address_check_at_most_the_address_limit(path, monkeypatch):
    checked = counting(monkeypatch, accounts, "verify_password")
    emails = iter(f"user{n}@example.com" for n in range(PARALLEL))
    lock = threading.Lock()

    def attempt(db):
        with lock:
            email = next(emails)
        accounts.authenticate(db, email, "Wrong-Pass1", "10.9.9.9")

    outcomes = in_parallel(path, attempt)
    assert len(checked) == accounts.ADDRESS_LIMIT
    assert outcomes.count("TooManyAttempts") == PARALLEL - accounts.ADDRESS_LIMIT


@pytest.fixture
def claimed(path):
    """José's claimed invitation at practice 1 and his account (confirmed)."""
    from smart_auth import enrollment
    from tests.enrollment_helpers import STAFF

    db = store.connect(path)
    ctx = context(db)
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"}
    invite = enrollment.invite_people(ctx, store.chart_row(db, "patients", 1), [person], STAFF)[0]
    holder = accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    verification.claim_invite(ctx, last_link(db), holder)
    return invite, holder


def test_parallel_wrong_access_codes_check_at_most_five(path, claimed, monkeypatch):
    invite, holder = claimed
    checked = counting(monkeypatch, pins, "pin_matches")
    outcomes = in_parallel(
        path, lambda db: verification.verify_access_code(context(db), holder, invite["uid"], "WRONG123")
    )
    assert len(checked) == verification.MAX_FAILURES
    assert outcomes.count("VerificationFailed") == verification.MAX_FAILURES - 1
    assert outcomes.count("InviteLocked") == PARALLEL - verification.MAX_FAILURES + 1
    status = store.connect(path).execute("SELECT status, failed_attempts FROM invites").fetchone()
    assert status == ("locked", verification.MAX_FAILURES)


def test_parallel_wrong_sms_codes_check_at_most_five(path, claimed, monkeypatch):
    invite, holder = claimed
    verification.send_sms_code(context(store.connect(path)), holder, invite["uid"], "555-010-0001")
    checked = counting(monkeypatch, pins, "code_matches")
    outcomes = in_parallel(path, lambda db: verification.verify_sms_code(context(db), holder, invite["uid"], "000000"))
    assert len(checked) == verification.MAX_FAILURES
    assert outcomes.count("InviteLocked") == PARALLEL - verification.MAX_FAILURES + 1


def test_parallel_sms_sends_text_at_most_the_limit(path, claimed):
    invite, holder = claimed
    outcomes = in_parallel(
        path, lambda db: verification.send_sms_code(context(db), holder, invite["uid"], "555-010-0001")
    )
    sent = store.connect(path).execute("SELECT count(*) FROM outbox WHERE kind = 'security code'").fetchone()
    assert sent == (verification.SMS_LIMIT,)
    assert outcomes.count("TooManyAttempts") == PARALLEL - verification.SMS_LIMIT


def test_a_refused_attempt_is_not_counted_so_the_lock_ends_on_time(path):
    db = store.connect(path)
    for n in range(accounts.ACCOUNT_LIMIT):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(db, "ana@example.com", "Wrong-Pass1", "10.0.0.1")
    for _ in range(3):
        with pytest.raises(TooManyAttempts):
            accounts.authenticate(db, "ana@example.com", "Secret-Pass1", "10.0.0.1")
    assert db.execute("SELECT count(*) FROM attempts").fetchone() == (2 * accounts.ACCOUNT_LIMIT,)
