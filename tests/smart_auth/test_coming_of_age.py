"""At 18 access given during childhood ends by itself; 30 days before, the representative and the patient are told."""

import datetime as dt

import pytest

from gateway import store
from smart_auth import accounts, representatives
from tests.enrollment_helpers import build, context, outbox

TODAY = dt.date(2026, 11, 25)


def setup(new_db_path, birth_date):
    db = store.connect(new_db_path("age"))
    build(db)
    store.insert_rows(
        db,
        "patients",
        [
            {
                "id": 10,
                "uid": "teen",
                "practice_id": 1,
                "mrn": "T010",
                "first_name": "Linh",
                "last_name": "Nguyen",
                "birth_date": birth_date,
                "sex": "F",
                "email": "linh@example.org",
            }
        ],
    )
    parent = accounts.create_account(db, "hoa@example.com", "Secret-Pass1", name="Hoa Nguyen", confirmed=True)
    accounts.link_account_to_chart(db, parent["id"], 10, "parent")
    with store.transaction(db):
        db.execute("UPDATE account_links SET linked_at = '2015-01-01T00:00:00.000Z'")
    return db


def test_30_days_before_the_18th_birthday_both_are_told_once(new_db_path):
    db = setup(new_db_path, "2008-12-25")
    assert representatives.send_ending_notices(context(db), TODAY) == 1
    sent = [(m["recipient"], m["subject"]) for m in outbox(db)]
    assert sent == [
        ("hoa@example.com", "Your access to Linh Nguyen's record ends on 25 December 2026"),
        ("linh@example.org", "Your parent's access to your record ends on 25 December 2026"),
    ]
    teen = outbox(db)[1]["body_text"]
    assert "On your 18th birthday, 25 December 2026, Hoa Nguyen (your parent) can no longer see your record" in teen
    assert representatives.send_ending_notices(context(db), TODAY) == 0
    assert len(outbox(db)) == 2


def test_31_days_before_no_one_is_told_yet(new_db_path):
    db = setup(new_db_path, "2008-12-26")
    assert representatives.send_ending_notices(context(db), TODAY) == 0
    assert outbox(db) == []


def test_no_notice_once_access_has_ended(new_db_path):
    db = setup(new_db_path, "2008-11-25")
    assert representatives.send_ending_notices(context(db), TODAY) == 0


def test_the_cli_queues_the_notices(new_db_path):
    from click.testing import CliRunner

    from gateway.cli import cli

    birthday = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=20)
    birth = birthday.replace(year=birthday.year - 18, day=min(birthday.day, 28))
    db = setup(new_db_path, birth.isoformat())
    result = CliRunner().invoke(cli, ["access-notices", "--db", db.path])
    assert (result.exit_code, result.output) == (0, "Told 1 representative(s) and their patients.\n")
    assert [m["recipient"] for m in outbox(db)] == ["hoa@example.com", "linh@example.org"]


def test_the_server_queues_due_notices_at_each_pruning_round(new_db_path, make_app):
    birthday = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=20)
    db = setup(new_db_path, birthday.replace(year=birthday.year - 18, day=min(birthday.day, 28)).isoformat())
    make_app(db.path, SECRET_KEY="k" * 32)
    assert [m["recipient"] for m in outbox(db)] == ["hoa@example.com", "linh@example.org"]


def test_on_the_18th_birthday_the_link_ends_and_the_practice_sees_it(new_db_path):
    from gateway.store import enrollment as enrollment_store
    from smart_auth.tokens import InvalidToken, authenticate, issue_access_token

    db = setup(new_db_path, "2008-11-25")
    parent = db.execute("SELECT uid FROM accounts WHERE email = 'hoa@example.com'").fetchone()[0]
    token = issue_access_token(db, "app", "patient/*.rs", "teen", subject=parent)
    assert representatives.end_outgrown_links(context(db), dt.date(2026, 11, 24)) == 0
    assert representatives.end_outgrown_links(context(db), TODAY) == 1
    link = db.execute("SELECT status FROM account_links WHERE patient_id = 10").fetchone()[0]
    assert link == "revoked"
    event = enrollment_store.events_of_patient(db, 10)[0]
    assert (event["event"], event["actor"], event["detail"]) == (
        "access ended",
        "the practice's proxy policy",
        "parent: hoa@example.com",
    )
    assert db.execute("SELECT revoked FROM access_tokens").fetchone()[0]
    with pytest.raises(InvalidToken):
        authenticate(db, token)
    assert representatives.end_outgrown_links(context(db), TODAY) == 0


def test_a_caregivers_link_ends_after_its_last_day(new_db_path):
    db = setup(new_db_path, "1950-01-01")
    with store.transaction(db):
        db.execute("UPDATE account_links SET relation = 'caregiver', access_until = '2026-11-24'")
    assert representatives.end_outgrown_links(context(db), dt.date(2026, 11, 24)) == 0
    assert representatives.end_outgrown_links(context(db), TODAY) == 1
