import pytest

from gateway import store
from smart_auth import accounts
from smart_auth.limits import TooManyAttempts
from tests import chart


@pytest.fixture
def db(new_db_path):
    database = store.connect(new_db_path("accounts"))
    chart.build(database)
    return database


@pytest.mark.parametrize(
    "password, problems",
    [
        ("Short1!", ["at least 8 characters"]),
        ("alllowercase1", ["an uppercase letter"]),
        ("NoDigitsHere", ["a number or symbol"]),
        ("short", ["at least 8 characters", "an uppercase letter", "a number or symbol"]),
        ("", ["at least 8 characters", "an uppercase letter", "a number or symbol"]),
        ("Longenough-", []),
        ("Longenough7", []),
    ],
)
def test_password_policy_names_each_unmet_rule(password, problems):
    assert accounts.password_problems(password) == problems


def test_create_account_hashes_with_argon2id_and_refuses_duplicates(db):
    account = accounts.create_account(db, "Ana@Example.com", "Secret-Pass1", name="Ana")
    assert account["password_hash"].startswith("$argon2id$")
    assert "Secret-Pass1" not in account["password_hash"]
    assert account["email_confirmed_at"] is None
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_account(db, "ana@example.COM", "Secret-Pass1")


@pytest.mark.parametrize("email", ["", "ana", "ana@", "ana@example", "a b@example.com"])
def test_create_account_refuses_bad_emails(db, email):
    with pytest.raises(accounts.AccountError, match="email address"):
        accounts.create_account(db, email, "Secret-Pass1")


def test_weak_password_lists_every_problem(db):
    with pytest.raises(accounts.AccountError) as caught:
        accounts.create_account(db, "ana@example.com", "weak")
    assert len(caught.value.problems) == 3


def test_login_failures_do_not_tell_which_part_was_wrong(db):
    accounts.create_account(db, "ana@example.com", "Secret-Pass1")
    with pytest.raises(accounts.LoginFailed) as wrong_password:
        accounts.authenticate(db, "ana@example.com", "Wrong-Pass1", "10.0.0.1")
    with pytest.raises(accounts.LoginFailed) as unknown:
        accounts.authenticate(db, "nobody@example.com", "Secret-Pass1", "10.0.0.1")
    assert str(wrong_password.value) == str(unknown.value)
    assert accounts.authenticate(db, "ANA@example.com", "Secret-Pass1", "10.0.0.1")["email"] == "ana@example.com"


def test_login_is_limited_per_account_then_says_when_to_retry(db):
    accounts.create_account(db, "ana@example.com", "Secret-Pass1")
    for n in range(accounts.ACCOUNT_LIMIT):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(db, "ana@example.com", "Wrong-Pass1", f"10.0.0.{n}")
    with pytest.raises(TooManyAttempts) as caught:
        accounts.authenticate(db, "ana@example.com", "Secret-Pass1", "10.0.1.1")  # even the right password
    assert caught.value.minutes in range(1, 16)
    assert "Try again in" in str(caught.value)


def test_login_is_limited_per_address(db):
    for n in range(accounts.ADDRESS_LIMIT):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(db, f"user{n}@example.com", "Wrong-Pass1", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(db, "someone@example.com", "Wrong-Pass1", "10.9.9.9")


def test_limits_store_no_email_or_address(db):
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(db, "ana@example.com", "Wrong-Pass1", "10.0.0.1")
    keys = " ".join(k for (k,) in db.execute("SELECT key FROM attempts"))
    assert "ana" not in keys and "10.0.0.1" not in keys


def test_links_list_own_record_first_and_relations(db):
    account = accounts.create_account(db, "ana@example.com", "Secret-Pass1")
    accounts.link_account_to_chart(db, account["id"], 2, "parent")
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    links = accounts.linked_records(db, account["id"])
    assert [(link["patient_uid"], link["relation"]) for link in links] == [("pat-1", "self"), ("pat-2", "parent")]
    with pytest.raises(accounts.AccountError, match="Relation"):
        accounts.link_account_to_chart(db, account["id"], 1, "neighbour")
