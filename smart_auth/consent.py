"""Consent: the scopes an app asks for, in plain words, as choices a person can untick; and the grants
remembered per account, app, record and requested scopes, which the person can revoke.

``user/`` scopes are offered as the chosen record's ``patient/`` scopes: the access check holds user/
scopes to no compartment, and one database serves many practices, so a user/ grant would reach other
people's charts. ``system/`` scopes belong to backend services and are never offered here. The words come
from ``scope_words``, which Connected apps also uses, so a grant reads as what the person agreed to.
"""

import time
from dataclasses import dataclass

from gateway import store
from gateway.store import oauth as oauth_store

from .scope_words import FIXED_WORDS, OPTIONAL_WORDS, REPRESENTATIVE_WORDS, actions, filter_words, kinds_of, type_words
from .scopes import InvalidScope, parse_scope


@dataclass(frozen=True)
class Choice:
    """One line of the consent page: the scope granted when ticked, in words, and narrower alternatives."""

    value: str
    label: str
    detail: str = ""
    fixed: bool = False
    children: tuple = ()


def as_patient_scope(scope):
    """The scope as it may be granted to a person for one record (see the module docstring), or None."""
    try:
        parsed = parse_scope(scope)
    except InvalidScope:
        return None
    if parsed is None:
        return scope
    if parsed.context == "system":
        return None
    return "patient/" + scope.split("/", 1)[1] if parsed.context == "user" else scope


def grantable(requested):
    """The requested scopes that can be granted for a record, in order, without duplicates."""
    seen = []
    for scope in (requested or "").split():
        granted = as_patient_scope(scope)
        if granted and granted not in seen:
            seen.append(granted)
    return seen


def _resource_choice(scope, parsed):
    label, covers = type_words(parsed.resource_type, filter_words(parsed.resource_type, parsed.query))
    detail = f"{covers} ({actions(parsed.interactions)})" if covers else actions(parsed.interactions)
    children = ()
    kinds = kinds_of(parsed.resource_type)
    if kinds and not parsed.query and parsed.interactions & {"r", "s"}:
        letters = "".join(c for c in "cruds" if c in parsed.interactions)
        children = tuple(
            Choice(f"patient/{parsed.resource_type}.{letters}?category={system}|{code}", words)
            for system, code, words in kinds
        )
    return Choice(scope, label, detail, children=children)


def offered(requested, representative=False, ehr=False):
    """The consent page's choices for a requested scope string.

    A representative the chart does not keep as a contact is not offered ``fhirUser``: naming the child's
    Patient as the user would tell the app the wrong person is signed in (see accounts.fhir_user).
    ``launch/encounter`` is offered only in an EHR launch (``ehr``), where staff may launch from a visit: a
    standalone launch has no encounter picker, so it is not granted there (see ``withheld``).
    """
    choices = []
    for scope in grantable(requested):
        parsed = parse_scope(scope)
        if scope == "launch/encounter" and not ehr:
            continue
        if parsed is not None:
            choices.append(_resource_choice(scope, parsed))
        elif scope in OPTIONAL_WORDS and not (representative and scope == "fhirUser"):
            choices.append(Choice(scope, *OPTIONAL_WORDS[scope]))
        elif scope in FIXED_WORDS:
            words = REPRESENTATIVE_WORDS.get(scope) if representative else None
            choices.append(Choice(scope, words or FIXED_WORDS[scope], fixed=True))
    return choices


def withheld(requested, representative=False):
    """Requested scopes this server will not grant for a record, with the reason in words."""
    reasons = []
    for scope in (requested or "").split():
        if as_patient_scope(scope) is None:
            reasons.append((scope, "System access is only for practice back-end systems."))
        elif scope == "launch/encounter":
            reasons.append((scope, "The app is not told of a visit when you open it yourself."))
        elif representative and scope == "fhirUser":
            reasons.append((scope, "You are using someone else's record, so the app is not told who you are."))
    return reasons


def granted(choices, ticked):
    """The scope string granted from the choices and the values the person left ticked.

    The page offers a type's kinds "instead of all" of it, so a ticked kind narrows the grant to the kinds
    ticked even when the whole type stays ticked (SMART granular scopes, e.g.
    ``patient/Observation.rs?category=...|laboratory``). Only offered values count: never more than the app asked.
    """
    ticked, out = set(ticked), []
    for choice in choices:
        kinds = [child.value for child in choice.children if child.value in ticked]
        if choice.fixed or (choice.value in ticked and not kinds):
            out.append(choice.value)
        else:
            out += kinds
    return " ".join(out)


def everything(choices):
    """Every choice as granted (the EHR launch, where the practice approved the app)."""
    return " ".join(choice.value for choice in choices)


def remembered(db, account_uid, client_id, patient_id, requested):
    """The active grant for the same account, app, record and requested scopes, or None."""
    grant = oauth_store.active_grant(db, account_uid, client_id, patient_id)
    if grant and set(grant["requested_scope"].split()) == set((requested or "").split()):
        return grant
    return None


def remember(db, account_uid, client_id, patient_id, requested, scope):
    """Record (or update) the account's grant to this app for this record; return the grant id."""
    now = int(time.time())
    with store.transaction(db):
        grant = oauth_store.active_grant(db, account_uid, client_id, patient_id)
        if grant:
            oauth_store.update_grant(db, grant["id"], requested, scope, now)
            return grant["id"]
        return oauth_store.insert_grant(db, account_uid, client_id, patient_id, requested, scope, now)


def grants_of(db, account_uid):
    """The account's active grants as plain dicts for the portal."""
    return [
        {
            "id": g["id"],
            "client_id": g["client_id"],
            "app": g["client_name"],
            "patient": g["patient_id"],
            "person": f"{g['first_name']} {g['last_name']}",
            "practice": g["practice_name"],
            "scope": g["scope"],
            "granted_at": g["created_at"],
            "updated_at": g["updated_at"],
        }
        for g in oauth_store.grants_of_account(db, account_uid)
    ]


def revoke(db, account_uid, grant_id):
    """Withdraw one of the account's grants and end every token issued under it; return whether it was theirs."""
    grant = oauth_store.grant_by_id(db, grant_id)
    if grant is None or grant["account_uid"] != account_uid or grant["revoked_at"] is not None:
        return False
    with store.transaction(db):
        oauth_store.revoke_grant(db, grant_id, int(time.time()))
        oauth_store.revoke_grant_tokens(db, grant_id)
    return True
