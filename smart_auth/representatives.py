"""What the adult patient controls about their representatives: being told when one is linked, and removing one.

Removal ends the representative's link, their open invitations to the record, every token they hold for it
(smart_auth.tokens.revoke_account_access) and their web sessions, and the practice sees it in the enrollment
history as "removed by patient".
"""

import time

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store

from . import audit, messages, proxy_policy
from .enrollment import InviteNotFound, revoke_link


def removable_link(db, record, link_uid):
    """Another account's active link to the record on screen, when the record is the viewer's own; else
    InviteNotFound (no such link, another record's, their own, or a representative asking)."""
    link = enrollment_store.link_by_uid(db, link_uid or "")
    if (
        record["relation"] != "self"
        or link is None
        or link["patient_id"] != record["patient_id"]
        or link["account_id"] == record["account_id"]
        or link["status"] != "active"
    ):
        raise InviteNotFound("No such representative.")
    return link


def remove_representative(ctx, account, record, link_uid):
    """The adult patient ends a representative's access to their record; return the ended link."""
    link = removable_link(ctx.db, record, link_uid)
    ended = revoke_link(ctx, link, audit.account_actor(account), event="removed by patient")
    account_store.end_sessions_of_account(ctx.db, link["account_id"])
    return ended


def tell_patient_of_link(ctx, representative, invite):
    """Email the record's own account holders that ``representative`` was just linked to it."""
    who = f"{representative['name']} ({representative['email']})" if representative["name"] else representative["email"]
    url = f"{ctx.base_url}/portal/people"
    for link in account_store.links_of_patient(ctx.db, invite["patient_id"]):
        if link["relation"] == "self" and link["status"] == "active":
            subject, text, html = messages.representative_linked_email(
                invite["practice_name"], who, invite["relation"], url
            )
            ctx.notifier.email(link["email"], subject, text, html, "representative linked", invite["id"])


def send_ending_notices(ctx, today=None):
    """Tell each representative whose access given during childhood ends within 30 days, and the patient, once;
    return how many links were told. Access ends by itself (the proxy rule); this only warns."""
    today, told = today or proxy_policy.today(), 0
    for link in account_store.representatives_not_yet_told(ctx.db):
        policy = proxy_policy.policy_of(link)
        access = proxy_policy.decide(link["relation"], link["linked_at"], link["birth_date"], policy, today)
        if not access.allowed or not proxy_policy.notice_due(link["birth_date"], policy, today):
            continue
        ends = proxy_policy.ending_on(link["birth_date"], policy)
        if proxy_policy.decide(link["relation"], link["linked_at"], link["birth_date"], policy, ends).allowed:
            continue  # linked after childhood: it does not end
        patient_name = f"{link['first_name']} {link['last_name']}"
        to_rep, to_patient = messages.access_ending_emails(
            patient_name, link["account_name"] or link["account_email"], link["relation"], ends
        )
        ctx.notifier.email(link["account_email"], *to_rep, "access ending")
        for email in _patient_emails(ctx.db, link):
            ctx.notifier.email(email, *to_patient, "access ending")
        with store.transaction(ctx.db):
            account_store.mark_ending_notice(ctx.db, link["id"], time.time())
        told += 1
    return told


def _patient_emails(db, link):
    """The chart's email and the emails of accounts linked to it as the patient, once each."""
    found = [link["chart_email"]] if link["chart_email"] else []
    for other in account_store.links_of_patient(db, link["patient_id"]):
        if other["relation"] == "self" and other["status"] == "active" and other["email"]:
            found.append(other["email"])
    seen = []
    return [e for e in found if e.lower() not in seen and not seen.append(e.lower())]
