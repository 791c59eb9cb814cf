"""What the adult patient controls about representatives: told when one is linked, removing one, inviting one.

Removal ends the representative's link, their open invitations to the record, every token they hold for it
(smart_auth.tokens.revoke_account_access) and their web sessions, and the practice sees it in the enrollment
history as "removed by patient".
"""

import datetime as dt
import time
import uuid

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store

from . import audit, messages, proxy_policy
from .accounts import RELATIONS, AccountError, normalize_email
from .enrollment import InvalidInvite, InviteNotFound, access_code, cancel_invite, new_invite, revoke_link

POLICY_ACTOR = "the practice's proxy policy"
# Each invitation emails an address the patient types: bound how many wait at once and how many a record makes in
# a day (cancelled ones count), so the form cannot mail strangers in bulk through the practice's sender.
MAX_WAITING, MAX_A_DAY = 5, 10


def controls_representatives(db, record, today=None):
    """Whether the account on ``record`` is its adult patient, who decides who else sees it (a child's
    representatives are the practice's to manage)."""
    if record["relation"] != "self":
        return False
    policy = proxy_policy.policy_of(account_store.proxy_policy(db, record["practice_id"]))
    return proxy_policy.is_adult(record["birth_date"], policy, today or proxy_policy.today())


def removable_link(db, record, link_uid):
    """Another account's active link to the record on screen, when the record is the viewer's own and they are
    an adult; else InviteNotFound (no such link, another record's, their own, a child or a representative)."""
    link = enrollment_store.link_by_uid(db, link_uid or "")
    if (
        not controls_representatives(db, record)
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


def check_caregiver(form, today):
    """Clean a caregiver invitation form (email, relation, sections, until): return (person, problems)."""
    problems, email = [], (form.get("email") or "").strip()
    try:
        email = normalize_email(email)
    except AccountError as exc:
        problems.append(str(exc))
    relation = form.get("relation") or ""
    if relation not in RELATIONS or relation == "self":
        problems.append("Choose how they are related to you.")
    known = {slug for slug, _ in proxy_policy.section_titles()}
    sections = [s for s in dict.fromkeys(form.get("sections") or ()) if s]
    if not sections or not set(sections) <= known:
        problems.append("Choose the parts of your record to share.")
    until = (form.get("until") or "").strip() or None
    if until:
        try:
            if dt.date.fromisoformat(until) < today:
                problems.append("The last day must be today or later.")
        except ValueError:
            problems.append("Write the last day like 2026-12-31.")
    order = [slug for slug, _ in proxy_policy.section_titles() if slug in sections]
    person = {"relation": relation, "email": email, "phone": None, "text_link": False, "by_patient": True}
    return dict(person, sections=" ".join(order), access_until=until), problems


def invite_caregiver(ctx, account, record, form, today=None):
    """The adult patient invites a caregiver to their record: only the sections they chose, until the day they
    chose. Return the invitation with its ``pin``, which the patient reads to the caregiver (never emailed)."""
    if not controls_representatives(ctx.db, record, today):
        raise InvalidInvite("Only the adult patient can invite someone to their record.")
    person, problems = check_caregiver(form, today or proxy_policy.today())
    if problems:
        raise InvalidInvite(problems[0], problems)
    _check_invitation_limits(ctx.db, record)
    patient = store.chart_row(ctx.db, "patients", record["patient_id"])
    return new_invite(ctx, patient, person, audit.account_actor(account), str(uuid.uuid4()), "invited")


def _check_invitation_limits(db, record):
    mine = [i for i in enrollment_store.invites_of_patient(db, record["patient_id"]) if i["by_patient"]]
    if sum(1 for i in mine if i["status"] in ("invited", "locked")) >= MAX_WAITING:
        raise InvalidInvite(
            f"{MAX_WAITING} invitations are waiting for someone to join. Cancel one, or wait until someone joins."
        )
    day_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if sum(1 for i in mine if i["created_at"] >= day_ago) >= MAX_A_DAY:
        raise InvalidInvite(f"You have sent {MAX_A_DAY} invitations today. You can invite someone again tomorrow.")


def waiting_caregivers(db, secret, record):
    """The caregivers the patient invited who have not joined yet, each with the code to read them."""
    waiting = []
    for invite in enrollment_store.invites_of_patient(db, record["patient_id"]):
        code = access_code(secret, invite, reader="patient")
        if code and invite["status"] == "invited":
            waiting.append(dict(invite, code=code))
    return waiting


def cancel_caregiver_invite(ctx, account, record, invite_uid):
    """The adult patient cancels an invitation they made that waits: its link and code stop working at once."""
    invite = enrollment_store.invite_by_uid(ctx.db, invite_uid or "")
    if (
        invite is None
        or not invite["by_patient"]
        or invite["patient_id"] != record["patient_id"]
        or invite["status"] not in ("invited", "locked")
        or not controls_representatives(ctx.db, record)
    ):
        raise InviteNotFound("No such invitation.")
    return cancel_invite(ctx, invite, audit.account_actor(account))


def end_outgrown_links(ctx, today=None):
    """End the links the proxy rule no longer allows (a child turned 18; a caregiver's last day passed): the
    link, its tokens, as the practice would revoke it, so the chart shows it; return how many ended.

    The rule already refuses them on every request; this makes the ending visible and final.
    """
    today, ended = today or proxy_policy.today(), 0
    for link in account_store.active_representatives(ctx.db):
        access = proxy_policy.decide(
            link["relation"],
            link["linked_at"],
            link["birth_date"],
            proxy_policy.policy_of(link),
            today,
            link["sections"],
            link["access_until"],
        )
        if not access.allowed:
            revoke_link(ctx, enrollment_store.link_by_uid(ctx.db, link["uid"]), POLICY_ACTOR, event="access ended")
            ended += 1
    return ended
