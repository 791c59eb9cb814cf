"""Practice side of enrollment: inviting, resending, cancelling, re-inviting, revoking, and each party's status."""

import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, pins, verification
from smart_auth.enrollment_status import chart_parties, patient_status, practice_parties
from smart_auth.tokens import InvalidToken, authenticate, issue_access_token
from tests.enrollment_helpers import SECRET, STAFF, build, context, last_link, outbox


@pytest.fixture
def ctx(new_db_path):
    db = store.connect(new_db_path("enroll"))
    build(db)
    return context(db)


def patient(ctx, pid=1):
    return store.chart_row(ctx.db, "patients", pid)


def invite_one(ctx, pid=1, **person):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001", **person}
    return enrollment.invite_people(ctx, patient(ctx, pid), [person], STAFF)[0]


def linked_account(ctx, invite, email="jose@example.com"):
    account = accounts.create_account(ctx.db, email, "Secret-Pass1", confirmed=True)
    verification.claim_invite(ctx, last_link(ctx.db), account)
    verification.verify_access_code(ctx, account, invite["uid"], invite["pin"])
    return account


def test_invite_makes_a_pin_without_look_alikes_and_emails_a_link_without_it(ctx):
    invite = invite_one(ctx)
    assert len(invite["pin"]) >= 8 and set(invite["pin"]) <= set(pins.PIN_ALPHABET)
    assert not set(invite["pin"]) & set("0O1IL2Z5S8B")
    assert invite["pin"] not in invite["pin_sealed"]
    [email] = outbox(ctx.db)
    assert email["recipient"] == "jose@example.com" and email["kind"] == "invite"
    assert invite["pin"] not in email["body_text"] + email["body_html"]
    assert "José" not in email["body_text"] and "1980" not in email["body_text"]
    assert "Access your records" in email["body_text"] and "Access your records" in email["body_html"]
    assert enrollment.access_code(SECRET, invite) == pins.display_pin(invite["pin"])


def test_invite_texts_the_link_when_asked_or_when_there_is_no_email(ctx):
    invite_one(ctx, text_link=True)
    invite_one(ctx, pid=2, relation="parent", email="", phone="(555) 010-0009")
    sms = outbox(ctx.db, "sms")
    assert [m["recipient"] for m in sms] == ["555-010-0001", "(555) 010-0009"]
    assert all("/portal/invite/" in m["body_text"] for m in sms)


@pytest.mark.parametrize(
    "person, problem",
    [
        ({"relation": "self", "email": "", "phone": ""}, "email address or a phone number"),
        ({"relation": "cousin", "email": "a@example.com"}, "choose the relation"),
        ({"relation": "parent", "email": "not-an-email"}, "email address like"),
        ({"relation": "parent", "phone": "555-0100"}, "area code"),
    ],
)
def test_invite_form_rows_are_checked(ctx, person, problem):
    with pytest.raises(enrollment.EnrollmentError) as caught:
        enrollment.invite_people(ctx, patient(ctx), [person], STAFF)
    assert any(problem in p for p in caught.value.problems)


def test_two_patient_rows_are_refused(ctx):
    rows = [{"relation": "self", "email": "a@example.com"}, {"relation": "self", "email": "b@example.com"}]
    with pytest.raises(enrollment.EnrollmentError, match="Only one row"):
        enrollment.invite_people(ctx, patient(ctx), rows, STAFF)


def test_resend_keeps_the_pin_and_replaces_the_link(ctx):
    invite = invite_one(ctx)
    first = last_link(ctx.db)
    again = enrollment.resend_invite(ctx, invite, STAFF)
    assert again["pin_sealed"] == invite["pin_sealed"]
    assert last_link(ctx.db) != first
    with pytest.raises(Exception, match="A newer invitation was sent after this one"):
        verification.open_invite_link(ctx, first)
    assert verification.open_invite_link(ctx, last_link(ctx.db))["uid"] == invite["uid"]


def test_cancel_closes_the_invitation_and_hides_its_code(ctx):
    invite = invite_one(ctx)
    cancelled = enrollment.cancel_invite(ctx, invite, STAFF)
    assert cancelled["status"] == "cancelled" and enrollment.access_code(SECRET, cancelled) is None
    with pytest.raises(enrollment.EnrollmentError):
        enrollment.cancel_invite(ctx, cancelled, STAFF)
    with pytest.raises(enrollment.EnrollmentError):
        enrollment.resend_invite(ctx, cancelled, STAFF)


def test_reinvite_issues_a_new_pin_and_supersedes_the_old(ctx):
    old = invite_one(ctx)
    new = enrollment.reinvite(ctx, old, STAFF)
    assert new["pin"] != old["pin"] and new["party_uid"] == old["party_uid"]
    assert enrollment_store.invite_by_uid(ctx.db, old["uid"])["status"] == "superseded"
    assert not new["finalize"]


def test_statuses_follow_a_party_from_invited_to_revoked(ctx):
    def status():
        return patient_status(chart_parties(ctx.db, SECRET, 1))[0]

    assert status() == "not_invited"
    invite = invite_one(ctx)
    assert status() == "invited"
    account = accounts.create_account(ctx.db, "jose@example.com", "Secret-Pass1")
    verification.claim_invite(ctx, last_link(ctx.db), account)
    assert status() == "registered"
    ctx.db.execute("UPDATE accounts SET email_confirmed_at = 'x'")
    account = dict(account, email_confirmed_at="x")
    verification.verify_access_code(ctx, account, invite["uid"], invite["pin"])
    assert status() == "active"
    [party] = chart_parties(ctx.db, SECRET, 1)
    enrollment.revoke_link(ctx, enrollment_store.link_by_uid(ctx.db, party["link"]["uid"]), STAFF)
    assert status() == "revoked"


def test_locked_and_cancelled_statuses(ctx):
    invite = invite_one(ctx)
    account = accounts.create_account(ctx.db, "jose@example.com", "Secret-Pass1", confirmed=True)
    verification.claim_invite(ctx, last_link(ctx.db), account)
    for _ in range(verification.MAX_FAILURES):
        with pytest.raises(enrollment.EnrollmentError):
            verification.verify_access_code(ctx, account, invite["uid"], "WRONGPIN")
    assert patient_status(chart_parties(ctx.db, SECRET, 1))[0] == "locked"
    enrollment.cancel_invite(ctx, enrollment_store.invite_by_uid(ctx.db, invite["uid"]), STAFF)
    assert patient_status(chart_parties(ctx.db, SECRET, 1))[0] == "not_invited"


def test_representatives_have_their_own_status_and_the_list_shows_them(ctx):
    invite_one(ctx, pid=2, relation="parent", email="mom@example.com")
    invite_one(ctx, pid=2, relation="guardian", email="aunt@example.com")
    parties = practice_parties(ctx.db, 1)[2]
    assert sorted((p["relation"], p["status"]) for p in parties) == [("guardian", "invited"), ("parent", "invited")]
    assert patient_status(parties)[0] == "not_invited"
    assert all(p["access_code"] is None for p in parties)  # the list page never carries PINs


def test_links_made_without_invitations_show_as_active(ctx):
    account = accounts.create_account(ctx.db, "cli@example.com", "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(ctx.db, account["id"], 1, "self")
    [party] = chart_parties(ctx.db, SECRET, 1)
    assert party["status"] == "active" and party["email"] == "cli@example.com" and party["link"]["uid"]


def test_revoke_ends_the_link_and_every_token_the_account_holds_for_the_chart(ctx):
    invite = invite_one(ctx)
    account = linked_account(ctx, invite)
    accounts.link_account_to_chart(ctx.db, account["id"], 2, "self")  # a token needs a link to its chart
    token = issue_access_token(ctx.db, "app", "patient/*.rs", "pat-1", subject=account["uid"])
    other = issue_access_token(ctx.db, "app", "patient/*.rs", "pat-2", subject=account["uid"])
    link = enrollment_store.link_by_uid(ctx.db, chart_parties(ctx.db, SECRET, 1)[0]["link"]["uid"])
    enrollment.revoke_link(ctx, link, STAFF)
    assert [r["patient_uid"] for r in accounts.linked_records(ctx.db, account["id"])] == ["pat-2"]
    with pytest.raises(InvalidToken):
        authenticate(ctx.db, token)
    assert authenticate(ctx.db, other).patient_id == "pat-2"
    with pytest.raises(enrollment.EnrollmentError, match="already revoked"):
        enrollment.revoke_link(ctx, enrollment_store.link_by_uid(ctx.db, link["uid"]), STAFF)


def test_reinvite_of_a_linked_party_asks_the_same_account_to_finalize(ctx):
    invite = invite_one(ctx)
    account = linked_account(ctx, invite)
    linked = enrollment_store.invite_by_uid(ctx.db, invite["uid"])
    new = enrollment.reinvite(ctx, linked, STAFF)
    assert new["finalize"] and new["account_id"] == account["id"]
    [party] = chart_parties(ctx.db, SECRET, 1)
    assert party["status"] == "active" and "finalize" in party["label"]
    assert [i["uid"] for i in verification.pending_invites(ctx.db, account)] == [new["uid"]]


def test_staff_reach_only_their_own_practice(ctx):
    invite = invite_one(ctx)
    assert enrollment.invite_in_practice(ctx.db, 1, invite["uid"])["id"] == invite["id"]
    for practice, uid in ((2, invite["uid"]), (1, "no-such-invite")):
        with pytest.raises(enrollment.InviteNotFound):
            enrollment.invite_in_practice(ctx.db, practice, uid)


def test_the_audit_log_has_who_when_and_which_chart_and_never_the_pin(ctx):
    invite = invite_one(ctx)
    enrollment.resend_invite(ctx, invite, STAFF)
    enrollment.cancel_invite(ctx, enrollment_store.invite_by_uid(ctx.db, invite["uid"]), STAFF)
    events = enrollment_store.events_of_patient(ctx.db, 1)
    assert [e["event"] for e in events] == ["cancelled", "resent", "invited"]
    assert all(e["actor"] == STAFF and e["at"] and e["patient_id"] == 1 and e["practice_id"] == 1 for e in events)
    dump = repr(enrollment_store.events(ctx.db))
    assert invite["pin"] not in dump and pins.display_pin(invite["pin"]) not in dump
