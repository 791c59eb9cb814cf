"""Portal enrollment status of a chart, per person: not invited, invited (date), registered but not verified,
active, locked, revoked. Read from each party's newest invitation and the account link it made; links made
without an invitation (the command line, imports) show as parties of their own."""

from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store

from .enrollment import STATUS_LABELS, access_code


def chart_parties(db, secret, patient_id):
    """Every person with (or once with) portal access to a chart, the patient first."""
    return _parties(
        enrollment_store.invites_of_patient(db, patient_id), account_store.links_of_patient(db, patient_id), secret
    )


def practice_parties(db, practice_id):
    """{patient id: [parties]} for a practice's charts (no access codes: the list page does not show them)."""
    by_patient = {}
    for invite in enrollment_store.invites_of_practice(db, practice_id):
        by_patient.setdefault(invite["patient_id"], ([], []))[0].append(invite)
    for link in enrollment_store.links_of_practice(db, practice_id):
        by_patient.setdefault(link["patient_id"], ([], []))[1].append(link)
    return {pid: _parties(invites, links, None) for pid, (invites, links) in by_patient.items()}


def patient_status(parties):
    """The patient's own status (the 'self' party), as (status, label)."""
    own = next((p for p in parties if p["relation"] == "self"), None)
    return (own["status"], own["label"]) if own else ("not_invited", STATUS_LABELS["not_invited"])


def _parties(invites, links, secret):
    links_by_id = {link["id"]: link for link in links}
    chains = {}
    for invite in invites:
        chains.setdefault(invite["party_uid"], []).append(invite)
    used_links = {i["link_id"] for i in invites if i["link_id"]}
    parties = [_party(chain, links_by_id, secret) for chain in chains.values()]
    parties += [_link_party(link) for link in links if link["id"] not in used_links]
    return sorted(parties, key=lambda p: (p["relation"] != "self", p["since"] or ""))


def _party(chain, links_by_id, secret):
    latest = chain[-1]
    link_id = next((i["link_id"] for i in reversed(chain) if i["link_id"]), None)
    link = links_by_id.get(link_id)
    status, label = _status(latest, link)
    return {
        "party_uid": latest["party_uid"],
        "relation": latest["relation"],
        "email": latest["email"],
        "phone": latest["phone"],
        "account_email": link["email"] if link else latest["account_email"],
        "status": status,
        "label": label,
        "since": chain[0]["created_at"],
        "invite": latest,
        "link": link,
        "access_code": access_code(secret, latest) if secret else None,
        "history": chain,
    }


def _status(latest, link):
    day = (latest["created_at"] or "")[:10]
    state = latest["status"]
    if state == "invited" and latest["finalize"] and link and link["status"] == "active":
        return "active", f"Active; re-invited {day}, waiting to finalize"
    if state == "invited":
        return ("registered", STATUS_LABELS["registered"]) if latest["account_id"] else ("invited", f"Invited {day}")
    if state == "locked":
        return "locked", "Locked (too many wrong codes): re-invite"
    if link and link["status"] == "revoked":
        return "revoked", f"Revoked {(link['revoked_at'] or '')[:10]}"
    if state == "linked" and link:
        return "active", STATUS_LABELS["active"]
    return "not_invited", f"Not invited (invitation {state} {(latest['closed_at'] or '')[:10]})"


def _link_party(link):
    status = "active" if link["status"] == "active" else "revoked"
    return {
        "party_uid": None,
        "relation": link["relation"],
        "email": link["email"],
        "phone": None,
        "account_email": link["email"],
        "status": status,
        "label": STATUS_LABELS[status],
        "since": link["linked_at"],
        "invite": None,
        "link": link,
        "access_code": None,
        "history": [],
    }
