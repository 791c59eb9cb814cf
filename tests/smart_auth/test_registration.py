"""Sign-up, email confirmation, password reset and account settings: each rule and each no-enumeration promise."""

import pytest

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, links, registration, verification
from tests.enrollment_helpers import STAFF, build, context, last_link, outbox


@pytest.fixture
def ctx(new_db_path):
    db = store.connect(new_db_path("reg"))
    build(db)
    return context(db)


def test_sign_up_names_each_unmet_password_rule(ctx):
    with pytest.raises(accounts.AccountError) as caught:
        registration.sign_up(ctx, "new@example.com", "short")
    assert caught.value.problems == [
        "The password needs at least 8 characters.",
        "The password needs an uppercase letter.",
        "The password needs a number or symbol.",
    ]


def test_sign_up_sends_confirm_my_account_and_leaves_the_account_unconfirmed(ctx):
    account = registration.sign_up(ctx, "new@example.com", "Secret-Pass1", name="Ana")
    assert account["email_confirmed_at"] is None and account["name"] == "Ana"
    [mail] = outbox(ctx.db)
    assert mail["recipient"] == "new@example.com" and "Confirm my account" in mail["body_html"]
    confirmed = registration.confirm_email(ctx, last_link(ctx.db, "/portal/confirm/"))
    assert confirmed["email_confirmed_at"]


def test_sign_up_with_a_taken_email_looks_the_same_and_mails_the_owner(ctx):
    accounts.create_account(ctx.db, "jose@example.com", "Secret-Pass1", confirmed=True)
    assert registration.sign_up(ctx, "JOSE@example.com", "Other-Pass2") is None
    [mail] = outbox(ctx.db)
    assert mail["kind"] == "already registered" and "/portal/confirm/" not in mail["body_text"]
    assert accounts.authenticate(ctx.db, "jose@example.com", "Secret-Pass1", "1.2.3.4")


def test_sign_up_from_an_invitation_attaches_it_and_records_registered(ctx):
    patient = store.chart_row(ctx.db, "patients", 1)
    [invite] = enrollment.invite_people(ctx, patient, [{"relation": "self", "email": "jose@example.com"}], STAFF)
    account = registration.sign_up(ctx, "my-own@example.com", "Secret-Pass1", invite_token=last_link(ctx.db))
    assert [i["uid"] for i in verification.pending_invites(ctx.db, account)] == [invite["uid"]]
    registration.confirm_email(ctx, last_link(ctx.db, "/portal/confirm/"))
    events = [e["event"] for e in enrollment_store.events_of_patient(ctx.db, 1)]
    assert events[:2] == ["confirmed", "registered"]


def test_a_confirmation_link_from_another_purpose_is_refused(ctx):
    account = registration.sign_up(ctx, "new@example.com", "Secret-Pass1")
    forged = links.make_token(ctx.secret, "reset", {"a": account["uid"], "e": "new@example.com"})
    with pytest.raises(links.LinkInvalid):
        registration.confirm_email(ctx, forged)


def test_password_reset_is_single_use_and_silent_about_unknown_emails(ctx):
    accounts.create_account(ctx.db, "jose@example.com", "Secret-Pass1", confirmed=True)
    assert registration.request_password_reset(ctx, "nobody@example.com") is None
    assert outbox(ctx.db) == []
    registration.request_password_reset(ctx, "jose@example.com")
    token = last_link(ctx.db, "/portal/reset/")
    with pytest.raises(accounts.AccountError, match="uppercase"):
        registration.reset_password(ctx, token, "weakpass1")
    registration.reset_password(ctx, token, "Brand-New-Pass2")
    assert accounts.authenticate(ctx.db, "jose@example.com", "Brand-New-Pass2", "1.2.3.4")
    with pytest.raises(links.LinkInvalid, match="already been used"):
        registration.reset_password(ctx, token, "Another-Pass3")


def test_an_expired_reset_link_is_refused(ctx, monkeypatch):
    accounts.create_account(ctx.db, "jose@example.com", "Secret-Pass1", confirmed=True)
    registration.request_password_reset(ctx, "jose@example.com")
    token = last_link(ctx.db, "/portal/reset/")
    monkeypatch.setitem(links.LIFETIMES, "reset", -1)  # any age is now too old
    with pytest.raises(links.LinkExpired):
        registration.account_for_reset(ctx, token)


def test_settings_change_name_and_phone_and_reconfirm_a_new_email(ctx):
    account = accounts.create_account(ctx.db, "jose@example.com", "Secret-Pass1", confirmed=True)
    assert registration.update_settings(ctx, account, "Pepe", "555-123-4567", "pepe@example.com") is True
    unchanged = account_store.account_by_id(ctx.db, account["id"])
    assert (unchanged["name"], unchanged["phone"], unchanged["email"]) == ("Pepe", "555-123-4567", "jose@example.com")
    [mail] = outbox(ctx.db)
    assert mail["recipient"] == "pepe@example.com"
    changed = registration.confirm_email(ctx, last_link(ctx.db, "/portal/confirm/"))
    assert changed["email"] == "pepe@example.com" and changed["email_confirmed_at"]


def test_chart_edits_never_overwrite_the_accounts_own_fields(ctx):
    account = accounts.create_account(
        ctx.db, "jose@example.com", "Secret-Pass1", name="Pepe", phone="555-1", confirmed=True
    )
    accounts.link_account_to_chart(ctx.db, account["id"], 1)
    store.update_row(ctx.db, "patients", 1, {"first_name": "Josefa", "phone": "555-999-0000", "email": "x@example.com"})
    again = account_store.account_by_id(ctx.db, account["id"])
    assert (again["name"], again["phone"], again["email"]) == ("Pepe", "555-1", "jose@example.com")
