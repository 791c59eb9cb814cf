"""Invitee side: the invitation link, identity by PIN or SMS code, locking, finalizing, several practices."""

import time

import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, links, verification
from smart_auth.limits import TooManyAttempts
from tests.enrollment_helpers import STAFF, build, context, last_link, last_sms_code, outbox


@pytest.fixture
def ctx(new_db_path):
    db = store.connect(new_db_path("verify"))
    build(db)
    return context(db)


def invite(ctx, pid=1, **person):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001", **person}
    return enrollment.invite_people(ctx, store.chart_row(ctx.db, "patients", pid), [person], STAFF)[0]


def account(ctx, email="jose@example.com", confirmed=True):
    return accounts.create_account(ctx.db, email, "Secret-Pass1", confirmed=confirmed)


def claimed(ctx, pid=1, confirmed=True, **person):
    inv = invite(ctx, pid, **person)
    holder = account(ctx, confirmed=confirmed) if pid == 1 or not person.get("email") else account(ctx, person["email"])
    verification.claim_invite(ctx, last_link(ctx.db), holder)
    return inv, holder


def test_the_link_is_single_use(ctx):
    invite(ctx)
    token = last_link(ctx.db)
    verification.claim_invite(ctx, token, account(ctx))
    with pytest.raises(links.LinkInvalid):
        verification.claim_invite(ctx, token, account(ctx, "other@example.com"))


def test_an_expired_link_is_refused(ctx, monkeypatch):
    invite(ctx)
    token = last_link(ctx.db)
    monkeypatch.setitem(links.LIFETIMES, "invite", -1)  # any age is now too old
    with pytest.raises(links.LinkExpired):
        verification.open_invite_link(ctx, token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        links.make_token("other-secret", "invite", {"i": "x", "n": "y"}),
        links.make_token("test-secret", "reset", {"i": "x", "n": "y"}),
    ],
)
def test_forged_or_foreign_links_are_refused(ctx, token):
    with pytest.raises(links.LinkInvalid):
        verification.open_invite_link(ctx, token)


def test_the_pin_links_the_account_with_the_invitations_relation(ctx):
    inv, holder = claimed(ctx, pid=2, relation="parent", email="mom@example.com")
    verification.verify_access_code(ctx, holder, inv["uid"], inv["pin"].lower()[:4] + " - " + inv["pin"][4:])
    [link] = accounts.linked_records(ctx.db, holder["id"])
    assert (link["patient_uid"], link["relation"]) == ("pat-2", "parent")
    events = [e["event"] for e in enrollment_store.events_of_patient(ctx.db, 2)]
    assert events[:3] == ["linked", "verified", "attached"]


def test_verify_before_confirming_the_email_is_refused(ctx):
    inv, holder = claimed(ctx, confirmed=False)
    with pytest.raises(verification.EmailNotConfirmed):
        verification.verify_access_code(ctx, holder, inv["uid"], inv["pin"])
    with pytest.raises(verification.EmailNotConfirmed):
        verification.send_sms_code(ctx, holder, inv["uid"], "555-010-0001")
    assert accounts.linked_records(ctx.db, holder["id"]) == []


def test_a_cancelled_pin_no_longer_works(ctx):
    inv, holder = claimed(ctx)
    enrollment.cancel_invite(ctx, enrollment_store.invite_by_uid(ctx.db, inv["uid"]), STAFF)
    with pytest.raises(enrollment.EnrollmentError, match="no longer open"):
        verification.verify_access_code(ctx, holder, inv["uid"], inv["pin"])


def test_an_old_pin_stops_working_after_reinvite(ctx):
    inv, holder = claimed(ctx)
    new = enrollment.reinvite(ctx, enrollment_store.invite_by_uid(ctx.db, inv["uid"]), STAFF)
    with pytest.raises(enrollment.EnrollmentError):
        verification.verify_access_code(ctx, holder, inv["uid"], inv["pin"])
    verification.claim_invite(ctx, last_link(ctx.db), holder)
    with pytest.raises(verification.VerificationFailed):
        verification.verify_access_code(ctx, holder, new["uid"], inv["pin"])
    verification.verify_access_code(ctx, holder, new["uid"], new["pin"])


def test_five_wrong_pins_lock_and_the_sixth_is_refused_even_when_right(ctx):
    inv, holder = claimed(ctx)
    for left in (4, 3, 2, 1):
        with pytest.raises(verification.VerificationFailed) as caught:
            verification.verify_access_code(ctx, holder, inv["uid"], "WRONG123")
        assert caught.value.remaining == left
    with pytest.raises(verification.InviteLocked):
        verification.verify_access_code(ctx, holder, inv["uid"], "WRONG123")
    with pytest.raises(verification.InviteLocked):
        verification.verify_access_code(ctx, holder, inv["uid"], inv["pin"])
    events = [e["event"] for e in enrollment_store.events_of_patient(ctx.db, 1)]
    assert events.count("failed attempt") == 5 and "locked" in events
    new = enrollment.reinvite(ctx, enrollment_store.invite_by_uid(ctx.db, inv["uid"]), STAFF)
    verification.claim_invite(ctx, last_link(ctx.db), holder)
    verification.verify_access_code(ctx, holder, new["uid"], new["pin"])


def test_a_pin_from_another_practices_invitation_does_not_link(ctx):
    first = invite(ctx, pid=1)
    holder = account(ctx)
    verification.claim_invite(ctx, last_link(ctx.db), holder)
    second = invite(ctx, pid=3)
    verification.claim_invite(ctx, last_link(ctx.db), holder)
    with pytest.raises(verification.VerificationFailed):
        verification.verify_access_code(ctx, holder, second["uid"], first["pin"])
    verification.verify_access_code(ctx, holder, first["uid"], first["pin"])
    verification.verify_access_code(ctx, holder, second["uid"], second["pin"])
    records = accounts.linked_records(ctx.db, holder["id"])
    assert sorted(r["practice_name"] for r in records) == ["Second Clinic", "Test Practice"]


def test_someone_elses_invitation_is_not_found(ctx):
    inv, _ = claimed(ctx)
    stranger = account(ctx, "stranger@example.com")
    with pytest.raises(enrollment.InviteNotFound):
        verification.verify_access_code(ctx, stranger, inv["uid"], inv["pin"])


def test_sms_code_to_the_phone_on_file_links(ctx):
    inv, holder = claimed(ctx)
    assert verification.send_sms_code(ctx, holder, inv["uid"], "+1 (555) 010-0001")
    [sms] = [m for m in outbox(ctx.db, "sms") if m["kind"] == "security code"]
    assert sms["recipient"] == "555-010-0001"
    code = last_sms_code(ctx.db)
    assert len(code) == 6
    verification.verify_sms_code(ctx, holder, inv["uid"], code)
    assert accounts.linked_records(ctx.db, holder["id"])[0]["patient_uid"] == "pat-1"


def test_sms_to_a_phone_that_does_not_match_sends_nothing(ctx):
    inv, holder = claimed(ctx)
    assert verification.send_sms_code(ctx, holder, inv["uid"], "555-010-9999") is False
    assert [m for m in outbox(ctx.db, "sms") if m["kind"] == "security code"] == []
    events = enrollment_store.events_of_patient(ctx.db, 1)
    assert events[0]["event"] == "failed attempt" and "phone" in events[0]["detail"]


def test_sms_sends_are_rate_limited(ctx):
    inv, holder = claimed(ctx)
    for _ in range(verification.SMS_LIMIT):
        verification.send_sms_code(ctx, holder, inv["uid"], "555-010-0001")
    with pytest.raises(TooManyAttempts):
        verification.send_sms_code(ctx, holder, inv["uid"], "555-010-0001")


def test_an_expired_sms_code_is_refused(ctx, monkeypatch):
    inv, holder = claimed(ctx)
    verification.send_sms_code(ctx, holder, inv["uid"], "555-010-0001")
    code = last_sms_code(ctx.db)
    later = time.time() + verification.CODE_MINUTES * 60 + 1
    monkeypatch.setattr(verification, "now", lambda: later)
    with pytest.raises(verification.VerificationFailed):
        verification.verify_sms_code(ctx, holder, inv["uid"], code)


def test_wrong_sms_codes_count_toward_the_lock(ctx):
    inv, holder = claimed(ctx)
    verification.send_sms_code(ctx, holder, inv["uid"], "555-010-0001")
    for _ in range(4):
        with pytest.raises(verification.VerificationFailed):
            verification.verify_sms_code(ctx, holder, inv["uid"], "000000")
    with pytest.raises(verification.InviteLocked):
        verification.verify_access_code(ctx, holder, inv["uid"], "WRONG123")


def test_finalize_after_reinvite_needs_the_date_of_birth_and_the_new_pin(ctx):
    inv, holder = claimed(ctx)
    verification.verify_access_code(ctx, holder, inv["uid"], inv["pin"])
    new = enrollment.reinvite(ctx, enrollment_store.invite_by_uid(ctx.db, inv["uid"]), STAFF)
    with pytest.raises(verification.VerificationFailed, match="date of birth or access code"):
        verification.verify_access_code(ctx, holder, new["uid"], new["pin"], birth_date="1980-05-18")
    with pytest.raises(verification.VerificationFailed):
        verification.verify_access_code(ctx, holder, new["uid"], inv["pin"], birth_date="1980-05-17")
    verification.verify_access_code(ctx, holder, new["uid"], new["pin"], birth_date="1980-05-17")
    assert verification.pending_invites(ctx.db, holder) == []
    assert len(accounts.linked_records(ctx.db, holder["id"])) == 1
