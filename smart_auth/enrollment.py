"""Practice side of portal enrollment: invite a patient and representatives, resend, cancel, re-invite, revoke.

An invitation belongs to a *party*: one person's access to one chart (the patient, or a representative
with a relation). Re-inviting a party closes its open invitations and issues a new PIN; the party's
status is read from its newest invitation and the account link that invitation made.
"""

import secrets
import uuid
from dataclasses import dataclass

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from gateway.store.chart import utc_now

from . import audit, links, messages, pins
from .accounts import RELATIONS, AccountError, normalize_email
from .notify import Notifier
from .tokens import revoke_account_access

STATUS_LABELS = {
    "not_invited": "Not invited",
    "invited": "Invited",
    "registered": "Registered, not verified",
    "active": "Active",
    "locked": "Locked",
    "revoked": "Revoked",
}


class EnrollmentError(Exception):
    """A refused enrollment action; ``problems`` lists each reason for a form."""

    status = 409

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems) or [message]


class InvalidInvite(EnrollmentError):
    """Invite rows that do not pass the checks (a message per problem)."""

    status = 400


class InviteNotFound(EnrollmentError):
    """No such invitation or link for this caller ("not there" and "not yours" alike)."""

    status = 404


@dataclass(frozen=True)
class Context:
    """What enrollment rules need besides their arguments: the store, the signing secret, links and senders."""

    db: object
    secret: str
    base_url: str
    notifier: Notifier


def check_invitees(people):
    """Clean the rows of an invite form: return (people, problems), one problem per bad row."""
    cleaned, problems = [], []
    for number, person in enumerate(people, start=1):
        relation = (person.get("relation") or "").strip()
        email, phone = (person.get("email") or "").strip(), (person.get("phone") or "").strip()
        who = "The patient" if relation == "self" else f"Person {number}"
        if relation not in RELATIONS:
            problems.append(f"{who}: choose the relation to the patient.")
        if not email and not phone:
            problems.append(f"{who}: enter an email address or a phone number.")
        if email:
            try:
                email = normalize_email(email)
            except AccountError as exc:
                problems.append(f"{who}: {exc}")
        if phone and len(pins.phone_digits(phone)) < 10:
            problems.append(f"{who}: enter a phone number with its area code.")
        cleaned.append(
            {
                "relation": relation,
                "email": email,
                "phone": phone,
                "text_link": bool(person.get("text_link")) or (bool(phone) and not email),
            }
        )
    if sum(p["relation"] == "self" for p in cleaned) > 1:
        problems.append("Only one row can be the patient.")
    if not cleaned:
        problems.append("Add at least one person to invite.")
    return cleaned, problems


def invite_people(ctx, patient, people, actor):
    """Invite each person to a chart; return the new invitations, each with its ``pin``."""
    people, problems = check_invitees(people)
    if problems:
        raise InvalidInvite(problems[0], problems)
    return [new_invite(ctx, patient, person, actor, str(uuid.uuid4()), "invited") for person in people]


def new_invite(ctx, patient, person, actor, party_uid, event, account_id=None, link_id=None):
    """Store, audit and send one invitation of ``person`` to the chart; return it with its ``pin``."""
    pin, now = pins.new_pin(), utc_now()
    row = {
        "uid": str(uuid.uuid4()),
        "party_uid": party_uid,
        "practice_id": patient["practice_id"],
        "patient_id": patient["id"],
        "relation": person["relation"],
        "email": person["email"] or None,
        "phone": person["phone"] or None,
        "text_link": int(person["text_link"]),
        "pin_sealed": pins.seal_pin(ctx.secret, pin),
        "status": "invited",
        "finalize": int(bool(link_id)),
        "account_id": account_id,
        "link_nonce": secrets.token_urlsafe(12),
        "link_id": link_id,
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
        "sections": person.get("sections"),
        "access_until": person.get("access_until"),
        "by_patient": int(bool(person.get("by_patient"))),
    }
    with store.transaction(ctx.db):
        invite_id = enrollment_store.insert_invite(ctx.db, row)
    invite = enrollment_store.invite_by_id(ctx.db, invite_id)
    audit.record(ctx.db, event, actor, invite, detail=f"{invite['relation']}: {invite['email'] or invite['phone']}")
    _deliver(ctx, invite)
    return dict(enrollment_store.invite_by_id(ctx.db, invite_id), pin=pin)


def _deliver(ctx, invite):
    """Send the 'Access your records' link by email and/or SMS (never the PIN)."""
    url = links.url(
        ctx.base_url, "invite", links.make_token(ctx.secret, "invite", {"i": invite["uid"], "n": invite["link_nonce"]})
    )
    # A re-invitation of a linked patient asks them to confirm a changed record, not to make an account.
    email, sms = (
        (messages.finalize_email, messages.finalize_sms)
        if invite["finalize"]
        else (messages.invite_email, messages.invite_sms)
    )
    if invite["email"]:
        if invite["finalize"]:
            subject, text, html = email(invite["practice_name"], url)
        else:
            subject, text, html = messages.invite_email(invite["practice_name"], url, bool(invite["by_patient"]))
        ctx.notifier.email(invite["email"], subject, text, html, "invite", invite["id"])
    if invite["phone"] and invite["text_link"]:
        ctx.notifier.sms(invite["phone"], sms(invite["practice_name"], url), "invite", invite["id"])
    with store.transaction(ctx.db):
        enrollment_store.update_invite(ctx.db, invite["id"], {"sent_at": utc_now()}, utc_now())


def _of_practice(row, practice_id, missing):
    """``row`` when it exists and belongs to ``practice_id`` (None means any practice), else InviteNotFound."""
    if row is None or (practice_id is not None and row["practice_id"] != practice_id):
        raise InviteNotFound(missing)
    return row


def invite_in_practice(db, practice_id, invite_uid):
    """The invitation ``invite_uid`` of ``practice_id``'s charts, else InviteNotFound."""
    return _of_practice(enrollment_store.invite_by_uid(db, invite_uid or ""), practice_id, "No such invitation.")


def resend_invite(ctx, invite, actor):
    """Send the invitation again with a fresh link (the old link stops working); the PIN stays the same."""
    if invite["status"] != "invited":
        raise EnrollmentError(f"Only open invitations can be resent; this one is {invite['status']}.")
    with store.transaction(ctx.db):
        enrollment_store.update_invite(ctx.db, invite["id"], {"link_nonce": secrets.token_urlsafe(12)}, utc_now())
    invite = enrollment_store.invite_by_id(ctx.db, invite["id"])
    audit.record(ctx.db, "resent", actor, invite)
    _deliver(ctx, invite)
    return invite


def cancel_invite(ctx, invite, actor):
    """Close an open invitation: its PIN, link and SMS codes stop working at once."""
    if invite["status"] not in ("invited", "locked"):
        raise EnrollmentError(f"Only open invitations can be cancelled; this one is {invite['status']}.")
    _close(ctx.db, invite, "cancelled")
    audit.record(ctx.db, "cancelled", actor, invite)
    return enrollment_store.invite_by_id(ctx.db, invite["id"])


def _close(db, invite, status):
    now = utc_now()
    with store.transaction(db):
        enrollment_store.update_invite(
            db, invite["id"], {"status": status, "closed_at": now, "sms_code_hash": None, "link_nonce": "closed"}, now
        )


def reinvite(ctx, invite, actor):
    """Issue the party a new invitation and PIN; every older open invitation of the party stops working.

    When the party's account is still linked to the chart, the new invitation is attached to that account
    and asks it to "Finalize access to your records" (date of birth and the new PIN).
    """
    for old in enrollment_store.open_invites_of_party(ctx.db, invite["party_uid"]):
        _close(ctx.db, old, "superseded")
    patient = store.chart_row(ctx.db, "patients", invite["patient_id"])
    link = _active_link_of_party(ctx.db, invite)
    person = {
        "relation": invite["relation"],
        "email": invite["email"],
        "phone": invite["phone"],
        "text_link": bool(invite["text_link"]),
        "sections": invite["sections"],
        "access_until": invite["access_until"],
    }
    return new_invite(
        ctx,
        patient,
        person,
        actor,
        invite["party_uid"],
        "reinvited",
        account_id=link["account_id"] if link else None,
        link_id=link["id"] if link else None,
    )


def _active_link_of_party(db, invite):
    if not invite["link_id"]:
        return None
    link = account_store.links_of_patient(db, invite["patient_id"])
    return next((x for x in link if x["id"] == invite["link_id"] and x["status"] == "active"), None)


def link_in_practice(db, practice_id, link_uid):
    """The account link ``link_uid`` to one of ``practice_id``'s charts, else InviteNotFound."""
    return _of_practice(enrollment_store.link_by_uid(db, link_uid or ""), practice_id, "No such portal access.")


def revoke_link(ctx, link, actor, event="revoked"):
    """End an account's access to a chart: the link, its open invitations, and every token it was issued."""
    if link["status"] != "active":
        raise EnrollmentError("This portal access is already revoked.")
    now = utc_now()
    with store.transaction(ctx.db):
        account_store.revoke_link(ctx.db, link["id"], now)
    for invite in enrollment_store.invites_of_patient(ctx.db, link["patient_id"]):
        if invite["account_id"] == link["account_id"] and invite["status"] in ("invited", "locked"):
            _close(ctx.db, invite, "cancelled")
    revoke_account_access(ctx.db, link["patient_uid"], link["account_uid"])
    audit.record(
        ctx.db,
        event,
        actor,
        account_id=link["account_id"],
        patient_id=link["patient_id"],
        practice_id=link["practice_id"],
        detail=f"{link['relation']}: {link['email']}",
    )
    return enrollment_store.link_by_uid(ctx.db, link["uid"])


def access_code(secret, invite, reader="practice"):
    """The invitation's PIN as ``reader`` (the practice, or the patient) reads it while it can be used; else None.

    A code the patient gave a caregiver is theirs to read out, never the practice's.
    """
    if invite["status"] not in ("invited", "locked") or bool(invite.get("by_patient")) != (reader == "patient"):
        return None
    pin = pins.open_pin(secret, invite["pin_sealed"])
    return pins.display_pin(pin) if pin else None
