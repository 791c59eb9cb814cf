"""The access check for every FHIR door: bearer token -> scopes -> what of a resource type is visible."""

import time
from typing import NamedTuple

from gateway import store
from gateway.errors import Forbidden, InvalidSearch, Unauthorized
from gateway.fhir.search import Visibility, parse_clause
from gateway.store import accounts as account_store
from mappers import REGISTRY
from smart_auth import scopes as smart_scopes
from smart_auth import tokens
from smart_auth.tokens import AccessToken, InvalidToken, MissingToken, authenticate_header

CONSOLE_CLIENT = "practice-console"
# The console reads one chart at a time, held to it as an EHR launch holds an app (smart_auth.consent narrows
# user/ scopes to patient/ ones for the launched chart), so no console view can read past that chart.
CONSOLE_SCOPE = "patient/*.rs"


def bearer_token(conn, header):
    """Return the AccessToken an ``Authorization`` header carries, or raise Unauthorized."""
    try:
        return authenticate_header(conn, header)
    except MissingToken:
        raise Unauthorized("This request needs an OAuth 2.0 bearer token (Authorization: Bearer ...)")
    except InvalidToken as exc:
        raise Unauthorized(str(exc), error="invalid_token")


def visibility(token, interaction, resource_type):
    """Ask the scope rules whether ``token`` may do ``interaction`` on ``resource_type``; Forbidden if not."""
    decision = smart_scopes.decide(token.scopes, interaction, resource_type, token.patient_id)
    if decision is None:
        raise Forbidden(f"The token's scopes do not allow {interaction} on {resource_type}")
    if decision.context == "system":
        practice = practice_reach(token)
    elif decision.context == "user":
        practice = staff_practice(token)
    else:
        practice = None  # patient/ scopes are held to the token's patient, which is of one practice
    seen = to_visibility(resource_type, decision, practice)
    seen.withheld = token.withheld
    if token.shared is not None:
        seen.filters = shared_filters(resource_type, token.shared, seen.filters)
    return seen


def shared_filters(resource_type, shared, filters):
    """Narrow ``filters`` to the record sections a caregiver the patient invited may see (Forbidden outside them).

    The patient and what the record only references (practitioners, the practice) stay visible.
    """
    if resource_type == "Patient" or not REGISTRY[resource_type].compartment:
        return filters
    kinds = [(param, value) for rtype, param, value in shared if rtype == resource_type]
    if not kinds:
        raise Forbidden(f"The patient has not shared their {resource_type} resources with you")
    if any(param is None for param, _ in kinds):
        return filters
    groups = [[parse_clause(resource_type, param, value)] for param, value in kinds]
    return groups if filters is None else [a + b for a in filters for b in groups]


def practice_reach(token):
    """The practice (Organization id) whose charts and directory a system/ token sees, or None for every practice.

    A backend client is registered for one practice, or for all by the operator (issue 14); a token from before
    that, in a database of several practices, is bound to none and sees nothing (Forbidden).
    """
    try:
        return tokens.practice_reach(token)
    except tokens.NoPractice as exc:
        raise Forbidden(str(exc)) from None


def staff_practice(token):
    """The practice (Organization id) a user/ token's staff user works for: a user/ scope reaches that practice's
    charts only, as on the practice API. A user/ token whose subject is no staff user reaches nothing (Forbidden)."""
    practice = account_store.practice_uid_of_staff(store.current(), token.subject or "")
    if practice is None:
        raise Forbidden("A user/ token must be issued to a practice staff user")
    return practice


def to_visibility(resource_type, decision, practice=None):
    """Turn a scope Decision into a store Visibility (granular queries become search clauses)."""
    if decision.filters is None:
        return Visibility(decision.patient, None, practice=practice)
    groups = []
    for query in decision.filters:
        # A granular scope this server cannot evaluate grants nothing, rather than everything.
        try:
            clauses = [parse_clause(resource_type, k, v) for k, v in query]
        except InvalidSearch:
            continue
        if all(c is not None for c in clauses):
            groups.append(clauses)
    return Visibility(decision.patient, groups, practice=practice)


class StaffChart(NamedTuple):
    """A chart of the staff user's practice (its patients row) and the token the console reads it with."""

    patient: dict
    token: AccessToken


def staff_chart(db, staff, patient_uid):
    """The StaffChart of ``patient_uid`` when it belongs to ``staff``'s practice, else None.

    Another practice's chart and no chart at all answer alike, so ids cannot be probed (DESIGN.md).
    """
    rows = store.chart_rows(db, "patients", uid=patient_uid)
    if not rows or staff is None or rows[0]["practice_id"] != staff["practice_id"]:
        return None
    token = AccessToken(
        CONSOLE_CLIENT,
        CONSOLE_SCOPE,
        smart_scopes.parse_scopes(CONSOLE_SCOPE),
        patient_uid,
        staff["uid"],
        int(time.time()) + 60,
    )
    return StaffChart(rows[0], token)
