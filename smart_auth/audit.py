"""The enrollment audit log: who did what to which chart's portal access, and when. Never a PIN or password."""

from gateway import store
from gateway.store import enrollment as enrollment_store
from gateway.store.chart import utc_now

EVENTS = (
    "invited",
    "resent",
    "cancelled",
    "reinvited",
    "registered",
    "attached",
    "confirmed",
    "code sent",
    "verified",
    "failed attempt",
    "digital ID refused",
    "digital ID not matched",
    "locked",
    "linked",
    "revoked",
    "removed by patient",
    "access ended",
    "health link read",
    "health link failed",
    "proxy policy changed",  # the practice's, by an administrator (gateway.practice.policy)
    "after-visit summary shared",  # a visit as a link the portal keeps (gateway.health_links.visit_summary)
)


def record(db, event, actor, invite=None, account_id=None, patient_id=None, practice_id=None, detail=None):
    """Append one event; the invitation (if any) supplies the chart, practice and account."""
    if event not in EVENTS:
        raise ValueError(f"unknown enrollment event {event!r}")
    invite = invite or {}
    row = {
        "at": utc_now(),
        "event": event,
        "actor": actor,
        "detail": detail,
        "invite_id": invite.get("id"),
        "patient_id": patient_id or invite.get("patient_id"),
        "practice_id": practice_id or invite.get("practice_id"),
        "account_id": account_id or invite.get("account_id"),
    }
    with store.transaction(db):
        enrollment_store.record_event(db, row)


def account_actor(account):
    return f"account {account['email']}"


def staff_actor(staff):
    return f"staff {staff['email']}"
