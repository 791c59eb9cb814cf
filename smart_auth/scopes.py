"""SMART scopes, v1 and v2, parsed into data; and the one question every door asks of them.

SMART App Launch 2.0.0, "Scopes and Launch Context" (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
``(patient|user|system)/(Type|*).(read|write|*)`` in v1, ``.c?r?u?d?s?`` with an optional
``?param=value[&...]`` granular restriction in v2. Servers that speak v2 still accept v1 (permission-v1).
"""

import functools
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_V2_PERMISSION = re.compile(r"c?r?u?d?s?$")
_RESOURCE_SCOPE = re.compile(r"(patient|user|system)/([A-Za-z]+|\*)\.([a-z*]+)(\?.*)?$")
NON_RESOURCE_SCOPES = {
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "launch/patient",
    "launch/encounter",
    "offline_access",
    "online_access",
}
INTERACTIONS = {"read": "r", "search": "s", "create": "c", "update": "u", "delete": "d"}


class InvalidScope(ValueError):
    """A scope string that is not a SMART scope (OAuth ``invalid_scope``)."""


@dataclass(frozen=True)
class ResourceScope:
    """One resource scope: context, resource type (or ``*``), permitted interactions, granular query."""

    context: str
    resource_type: str
    interactions: frozenset
    query: tuple = ()

    def covers(self, interaction, resource_type):
        """Whether this scope allows ``interaction`` (``r``, ``s``...) on ``resource_type``."""
        return interaction in self.interactions and self.resource_type in ("*", resource_type)


@dataclass(frozen=True)
class Decision:
    """A permitted access: the compartment it is held to (if any), its granular filters (if any) and the
    context (``system``, ``user`` or ``patient``) of the scopes that granted it.

    ``filters`` is None for unrestricted access, else alternatives: a resource must match every
    ``(param, value)`` pair of at least one of them.
    """

    patient: str | None
    filters: tuple | None
    context: str


def parse_scope(scope):
    """Parse one resource scope; return None for a known non-resource scope; raise InvalidScope otherwise."""
    if scope in NON_RESOURCE_SCOPES:
        return None
    m = _RESOURCE_SCOPE.match(scope)
    if not m:
        raise InvalidScope(f"'{scope}' is not a SMART scope")
    context, resource_type, permission, query = m.groups()
    if permission in V1_PERMISSIONS:
        if query:
            raise InvalidScope(f"'{scope}': granular scopes need v2 permissions like .rs")
        letters = V1_PERMISSIONS[permission]
    elif permission and _V2_PERMISSION.match(permission):
        letters = permission
    else:
        raise InvalidScope(f"'{scope}': permissions must be read, write, * or an ordered subset of cruds")
    pairs = tuple(parse_qsl(query[1:], keep_blank_values=True)) if query else ()
    if query and (not pairs or any(not k or not v for k, v in pairs)):
        raise InvalidScope(f"'{scope}': a granular scope needs ?param=value")
    return ResourceScope(context, resource_type, frozenset(letters), pairs)


@functools.lru_cache(maxsize=1024)
def parse_scopes(scope_string):
    """Parse a space-separated scope string into its resource scopes (non-resource scopes are dropped)."""
    parsed = (parse_scope(s) for s in (scope_string or "").split())
    return tuple(s for s in parsed if s is not None)


def decide(scopes, interaction, resource_type, patient_id):
    """May a token with ``scopes`` and patient context ``patient_id`` do ``interaction`` on ``resource_type``?

    Returns a Decision, or None when no scope permits it. ``system/`` and ``user/`` scopes are not held to a
    compartment; ``patient/`` scopes are held to the token's patient and permit nothing without one.
    """
    found = _decide(scopes, INTERACTIONS.get(interaction, interaction), resource_type, bool(patient_id))
    if found is None:
        return None
    context, filters = found
    return Decision(None if context != "patient" else patient_id, filters, context)


@functools.lru_cache(maxsize=4096)
def _decide(scopes, letter, resource_type, has_patient):
    """(context that granted it, granular filters or None), or None; cached: every FHIR request asks."""
    matching = [s for s in scopes if s.covers(letter, resource_type)]
    matching = [s for s in matching if s.context != "patient" or has_patient]
    if not matching:
        return None
    chosen = [s for s in matching if s.context != "patient"] or matching
    whole = [s for s in chosen if not s.query]
    if whole:
        return _widest(whole), None
    return _widest(chosen), tuple(s.query for s in chosen)


@functools.lru_cache(maxsize=1024)
def patient_wide(scopes, interaction, resource_types):
    """The types among ``resource_types`` that ``scopes`` let a token with a patient context do ``interaction`` on
    whole: granted by a patient/ scope, with no granular filter (what ``decide`` answers with that context and no
    filters, for each type). Cached: a record read asks it of some thirty types, and every input is immutable."""
    letter = INTERACTIONS.get(interaction, interaction)
    return frozenset(t for t in resource_types if _decide(scopes, letter, t, True) == ("patient", None))


def _widest(scopes):
    """The widest context among ``scopes``: system/ reaches its client's practice (or all), user/ its user's."""
    contexts = {s.context for s in scopes}
    return next(c for c in ("system", "user", "patient") if c in contexts)
