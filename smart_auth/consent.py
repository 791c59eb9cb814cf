"""Consent: the scopes an app asks for, in plain words, as choices a person can untick; and the grants
remembered per account, app, record and requested scopes, which the person can revoke.

``user/`` scopes are offered as the chosen record's ``patient/`` scopes: the access check holds user/
scopes to no compartment, and one database serves many practices, so a user/ grant would reach other
people's charts. ``system/`` scopes belong to backend services and are never offered here.
"""
import time
from dataclasses import dataclass

from gateway import store
from gateway.store import oauth as oauth_store
from mappers import codes

from .scopes import InvalidScope, parse_scope

TYPE_WORDS = {
    "*": ("Everything in the record", "all of the kinds of information listed by the practice"),
    "Patient": ("Personal details", "name, date of birth, sex, language, address and phone"),
    "Condition": ("Health problems", "conditions and diagnoses"),
    "Observation": ("Results", "lab results and other measurements"),
    "DiagnosticReport": ("Lab reports", "lab panels and their conclusions"),
    "MedicationRequest": ("Prescriptions", "medicines prescribed"),
    "MedicationStatement": ("Medicines", "medicines taken"),
    "AllergyIntolerance": ("Allergies", "allergies and intolerances"),
    "Immunization": ("Vaccinations", "vaccines given or declined"),
    "Procedure": ("Procedures", "operations and other procedures"),
    "CarePlan": ("Care plans", "plans agreed with the care team"),
    "Appointment": ("Appointments", "past and upcoming visits"),
    "Practitioner": ("Care team", "names and contact details of clinicians"),
    "Organization": ("Practices", "names and addresses of practices"),
}
CATEGORIES = {
    "Condition": [(codes.CONDITION_CATEGORY, "problem-list-item", "Problem list"),
                  (codes.CONDITION_CATEGORY, "encounter-diagnosis", "Diagnoses made at visits"),
                  (codes.US_CORE_CONDITION_CATEGORY, "health-concern", "Health concerns")],
    "Observation": [(codes.OBSERVATION_CATEGORY, "laboratory", "Lab results"),
                    (codes.OBSERVATION_CATEGORY, "vital-signs", "Vital signs"),
                    (codes.OBSERVATION_CATEGORY, "social-history", "Social history, such as smoking"),
                    (codes.OBSERVATION_CATEGORY, "survey", "Questionnaire answers"),
                    ("http://hl7.org/fhir/us/core/CodeSystem/us-core-category", "sdoh", "Social needs")],
}
# Scopes that carry no record data: granted with the rest, listed but not ticked.
FIXED_WORDS = {
    "openid": "Confirm to the app that you signed in here",
    "launch": "Open with the record chosen in the practice console",
    "launch/patient": "Know which record you chose",
    "profile": "See the name on your account",
}
OPTIONAL_WORDS = {
    "fhirUser": ("Know who you are", "a link to your own record"),
    "offline_access": ("Keep access when you are not using the app",
                       "until you take the access back; without this, access ends soon after you leave the app"),
    "online_access": ("Keep access while you use the app", "it ends when you stop using it"),
}
ACTIONS = (("r", "read"), ("s", "search"), ("c", "add"), ("u", "change"), ("d", "delete"))


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


def _actions(letters):
    return " and ".join(word for letter, word in ACTIONS if letter in letters)


def _resource_choice(scope, parsed):
    label, detail = TYPE_WORDS.get(parsed.resource_type, (parsed.resource_type, ""))
    detail = f"{detail} ({_actions(parsed.interactions)})" if detail else _actions(parsed.interactions)
    children = ()
    if parsed.resource_type in CATEGORIES and not parsed.query and parsed.interactions & {"r", "s"}:
        letters = "".join(c for c in "cruds" if c in parsed.interactions)
        children = tuple(Choice(f"patient/{parsed.resource_type}.{letters}?category={system}|{code}", words)
                         for system, code, words in CATEGORIES[parsed.resource_type])
    elif parsed.query:
        detail += ", only: " + ", ".join(_category_words(parsed.resource_type, v) for _, v in parsed.query)
    return Choice(scope, label, detail, children=children)


def _category_words(resource_type, value):
    for system, code, words in CATEGORIES.get(resource_type, ()):
        if value in (f"{system}|{code}", code):
            return words
    return value


def offered(requested, representative=False):
    """The consent page's choices for a requested scope string.

    A representative is not offered ``fhirUser``: this server does not serve RelatedPerson, and naming
    the child's Patient as the user would tell the app the wrong person is signed in.
    """
    choices = []
    for scope in grantable(requested):
        parsed = parse_scope(scope)
        if parsed is not None:
            choices.append(_resource_choice(scope, parsed))
        elif scope in OPTIONAL_WORDS and not (representative and scope == "fhirUser"):
            choices.append(Choice(scope, *OPTIONAL_WORDS[scope]))
        elif scope in FIXED_WORDS:
            choices.append(Choice(scope, FIXED_WORDS[scope], fixed=True))
    return choices


def withheld(requested, representative=False):
    """Requested scopes this server will not grant for a record, with the reason in words."""
    reasons = []
    for scope in (requested or "").split():
        if as_patient_scope(scope) is None:
            reasons.append((scope, "System access is only for practice back-end systems."))
        elif representative and scope == "fhirUser":
            reasons.append((scope, "You are using someone else's record, so the app is not told who you are."))
    return reasons


def granted(choices, ticked):
    """The scope string granted from the choices and the values the person left ticked.

    A ticked resource scope covers its narrower category choices; unticked, only the ticked categories
    are granted (SMART granular scopes, e.g. ``patient/Condition.rs?category=...|problem-list-item``).
    """
    ticked, out = set(ticked), []
    for choice in choices:
        if choice.fixed or choice.value in ticked:
            out.append(choice.value)
        else:
            out += [child.value for child in choice.children if child.value in ticked]
    return " ".join(out)


def everything(choices):
    """Every choice as granted (the EHR launch, where the practice approved the app)."""
    return " ".join(choice.value for choice in choices)


def remembered(db, account_uid, client_id, patient_id, requested):
    """The active grant for the same account, app, record and requested scopes, or None."""
    grant = oauth_store.active_grant(db.conn, account_uid, client_id, patient_id)
    if grant and set(grant["requested_scope"].split()) == set((requested or "").split()):
        return grant
    return None


def remember(db, account_uid, client_id, patient_id, requested, scope):
    """Record (or update) the account's grant to this app for this record; return the grant id."""
    now = int(time.time())
    with store.transaction(db.conn):
        grant = oauth_store.active_grant(db.conn, account_uid, client_id, patient_id)
        if grant:
            oauth_store.update_grant(db.conn, grant["id"], requested, scope, now)
            return grant["id"]
        return oauth_store.insert_grant(db.conn, account_uid, client_id, patient_id, requested, scope, now)


def grants_of(db, account_uid):
    """The account's active grants as plain dicts for the portal."""
    return [{"id": g["id"], "client_id": g["client_id"], "app": g["client_name"], "patient": g["patient_id"],
             "person": f"{g['first_name']} {g['last_name']}", "practice": g["practice_name"],
             "scope": g["scope"], "granted_at": g["created_at"], "updated_at": g["updated_at"]}
            for g in oauth_store.grants_of_account(db.conn, account_uid)]


def revoke(db, account_uid, grant_id):
    """Withdraw one of the account's grants and end every token issued under it; return whether it was theirs."""
    grant = oauth_store.grant_by_id(db.conn, grant_id)
    if grant is None or grant["account_uid"] != account_uid or grant["revoked_at"] is not None:
        return False
    with store.transaction(db.conn):
        oauth_store.revoke_grant(db.conn, grant_id, int(time.time()))
        oauth_store.revoke_grant_tokens(db.conn, grant_id)
    return True
