"""FHIR search: parse request parameters into a :class:`SearchQuery` that the store turns into SQL.

Semantics follow FHIR R4 3.1.1 (https://hl7.org/fhir/R4/search.html): a comma inside one value is OR,
a repeated parameter is AND; token ``system|code``; date prefixes with the value taken as a range.
"""

import re
from dataclasses import dataclass, field

from gateway.errors import InvalidSearch, SearchTooCostly
from gateway.store.values import date_range, normalize
from mappers import REGISTRY, provenance
from mappers._common import SearchParam

ID_PARAM = SearchParam("_id", "token", (), "http://hl7.org/fhir/SearchParameter/Resource-id")
LAST_UPDATED = SearchParam("_lastUpdated", "date", (), "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated")
COMMON_PARAMS = (ID_PARAM, LAST_UPDATED)
# Provenance is built from its target, not stored (gateway.fhir.provenance); it is asked for by
# _revinclude=Provenance:target on the patient's own records, as US Core 6.1.0's CapabilityStatement lists it.
PROVENANCE_TARGET = provenance.target_param(name for name, rt in REGISTRY.items() if rt.compartment)

DEFAULT_COUNT = 50
MAX_COUNT = 1000
# Limits on one request, checked before any SQL is built: SQLite refuses an expression deeper than 1,000, a LIKE
# pattern over 50,000 bytes and integers beyond 64 bits, and a 500 is no way to say so.
MAX_PARAMS = 100  # parameters in one request, repeats counted
MAX_NAME = 64  # characters in a parameter name with its modifier
MAX_VALUE_CHARS = 2048  # characters in one parameter's whole value
MAX_TEXT = 256  # characters in one of its comma-separated values
MAX_VALUES = 200  # values in one search, comma-separated or repeated
MAX_ELEMENTS = 50  # names in _elements
MAX_INCLUDES = 10  # distinct _include and _revinclude values
MAX_INCLUDED = 1000  # included resources on one page; beyond, they are cut with a warning
MAX_INCLUDED_BYTES = 8 * 1024 * 1024  # and their JSON in bytes
MAX_INTEGER = 2**63 - 1  # SQLite's largest integer
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
MODIFIERS = {
    "token": {"not", "missing"},
    "date": {"missing"},
    "string": {"exact", "contains", "missing"},
    "reference": {"missing"},
    "uri": {"missing"},
}
SUMMARY_VALUES = {"count", "false", "data"}
# Parameters that shape the result rather than select it, or that the web layer handles.
RESULT_PARAMS = {
    "_count",
    "_summary",
    "_elements",
    "_include",
    "_revinclude",
    "_format",
    "_pretty",
    "_total",
    "_cursor",
    "_snapshot",
}
_ELEMENT_RE = re.compile(r"[a-z][A-Za-z0-9]*$")


@dataclass
class Clause:
    """One search parameter occurrence: values inside are OR'ed; clauses in a query are AND'ed."""

    param: SearchParam
    modifier: str | None
    values: list


@dataclass
class SearchQuery:
    """A parsed search: what to match, which page, and what to return."""

    type: str
    clauses: list[Clause] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    cursor: int = 0
    snapshot: int | None = None
    summary: str | None = None
    elements: list[str] | None = None
    includes: list[tuple[str, str]] = field(default_factory=list)
    revincludes: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def split_values(value):
    """Split a parameter value on unescaped commas and unescape ``\\,`` ``\\|`` ``\\$`` ``\\\\``."""
    parts, current, chars = [], [], iter(value)
    for c in chars:
        if c == "\\":
            current.append(next(chars, ""))
        elif c == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    return parts


def _split_token(value):
    """Split ``system|code`` on its first unescaped bar, returning (system or None, code or None)."""
    m = re.search(r"(?<!\\)\|", value)
    if not m:
        return None, value.replace("\\|", "|") or None
    system, code = value[: m.start()], value[m.end() :]
    return system.replace("\\|", "|"), code.replace("\\|", "|") or None


def parse_value(param, modifier, raw, base_url=""):
    """Parse one comma-separated part of a parameter value for the parameter's type."""
    if len(raw) > MAX_TEXT:
        raise SearchTooCostly(f"{param.name}: one value has at most {MAX_TEXT} characters")
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise InvalidSearch(f"{param.name}:missing takes true or false, not '{raw}'")
        return raw == "true"
    if param.type == "token":
        if raw == "" or raw == "|":
            raise InvalidSearch(f"{param.name} needs a code or system|code")
        return _split_token(raw)
    if param.type == "date":
        prefix = raw[:2] if raw[:2] in DATE_PREFIXES and raw[2:3].isdigit() else "eq"
        text = raw[2:] if raw[:2] == prefix else raw
        try:
            return (prefix, *date_range(text))
        except ValueError:
            raise InvalidSearch(f"{param.name}: '{raw}' is not a valid date (use e.g. ge2023-01-15)")
    if param.type == "string":
        if not raw:
            raise InvalidSearch(f"{param.name} needs a value")
        if modifier == "exact":
            return raw
        text = normalize(raw)
        if len(text) > MAX_TEXT:  # NFKD turns one character into as many as 18
            raise SearchTooCostly(f"{param.name}: one value has at most {MAX_TEXT} characters once normalized")
        return text
    if param.type == "reference":
        return _parse_reference(param, modifier, raw, base_url)
    if param.type == "uri":
        # R4 search.html#uri: the whole URI, matched exactly; a canonical's |version is not kept, so any version
        # matches (as for canonical references).
        if "://" not in raw and not raw.startswith("urn:"):
            raise InvalidSearch(f"{param.name}: '{raw}' is not an absolute URI (use e.g. http://loinc.org/q/44249-1)")
        return raw.partition("|")[0]
    raise InvalidSearch(f"{param.name}: parameters of type {param.type} are not supported")


def _parse_reference(param, type_modifier, raw, base_url):
    """Turn ``Type/id``, ``id`` or an absolute URL on this server into the list of ``Type/id`` it may mean."""
    if base_url and raw.startswith(base_url.rstrip("/") + "/"):
        raw = raw[len(base_url.rstrip("/")) + 1 :]
    if param.canonical and "://" in raw:
        return [raw.partition("|")[0]]  # a canonical's |version is not kept, so any version matches
    parts = raw.split("/")
    if len(parts) == 2 and (parts[0] in REGISTRY or parts[0] in param.targets) and parts[1]:
        return [raw]
    targets = [type_modifier] if type_modifier else list(param.targets)
    if len(parts) == 1 and parts[0] and targets:
        return [f"{t}/{raw}" for t in targets]
    example = (targets or ["Patient"])[0]
    raise InvalidSearch(f"{param.name}: '{raw}' is not a reference (use {example}/123 or 123)")


def find_param(resource_type, name):
    """Return the search parameter ``name`` of ``resource_type`` (or a common one), or None."""
    for param in COMMON_PARAMS:
        if param.name == name:
            return param
    registered = REGISTRY.get(resource_type)  # None for Provenance, which is built rather than searched
    for param in registered.search_params if registered else ():
        if param.name == name:
            return param
    return None


def parse_clause(resource_type, key, value, base_url=""):
    """Parse ``key=value`` (``key`` may carry a ``:modifier``) into a Clause; None if the key is unknown."""
    name, _, modifier = key.partition(":")
    param = find_param(resource_type, name)
    if param is None or "." in name:
        return None
    if modifier and modifier not in MODIFIERS.get(param.type, ()):
        if not (param.type == "reference" and modifier in param.targets):
            raise InvalidSearch(f"modifier ':{modifier}' is not supported on {name}")
    parts = split_values(value)
    if len(parts) > MAX_VALUES:
        raise _too_many_values(len(parts))
    values = [parse_value(param, modifier or None, v, base_url) for v in parts]
    if param.type == "reference" and modifier != "missing":
        values = [target for group in values for target in group]
    return Clause(param, modifier or None, values)


def parse_search(resource_type, pairs, base_url="", strict=False):
    """Parse a search's ``(name, value)`` pairs into a SearchQuery, raising InvalidSearch on bad values.

    Unknown parameters are ignored and listed in ``ignored`` unless ``strict`` (``Prefer: handling=strict``).
    Past a limit (MAX_PARAMS, MAX_VALUES, ...) it raises SearchTooCostly, which names the limit.
    """
    check_bounds(pairs)
    query, values = SearchQuery(resource_type), 0
    for key, value in pairs:
        if key in RESULT_PARAMS:
            _apply_result_param(query, key, value)
            continue
        clause = parse_clause(resource_type, key, value, base_url)
        if clause is None:
            if strict:
                raise InvalidSearch(f"unknown search parameter '{key}' for {resource_type}")
            query.ignored.append(key)
            continue
        values += len(clause.values)
        if values > MAX_VALUES:
            raise _too_many_values(values)
        query.clauses.append(clause)
    if len(query.includes) + len(query.revincludes) > MAX_INCLUDES:
        raise SearchTooCostly(f"A search takes at most {MAX_INCLUDES} different _include and _revinclude values")
    return query


def check_bounds(pairs):
    """Refuse a request with too many parameters, or a name or value too long, before parsing any of it."""
    if len(pairs) > MAX_PARAMS:
        raise SearchTooCostly(f"A request takes at most {MAX_PARAMS} parameters; this one has {len(pairs)}")
    for key, value in pairs:
        if len(key) > MAX_NAME:
            raise SearchTooCostly(f"A parameter name has at most {MAX_NAME} characters")
        if len(value) > MAX_VALUE_CHARS:
            raise SearchTooCostly(f"{key}: a parameter value has at most {MAX_VALUE_CHARS} characters")


def _too_many_values(found):
    return SearchTooCostly(
        f"A search takes at most {MAX_VALUES} values (comma-separated or repeated); this one has {found}"
    )


def _apply_result_param(query, key, value):
    if key == "_count":
        query.count = min(_whole_number(key, value), MAX_COUNT)
    elif key in ("_cursor", "_snapshot"):
        number = _whole_number(key, value)
        if number > MAX_INTEGER:
            raise InvalidSearch(f"{key} must be at most {MAX_INTEGER}")
        setattr(query, key[1:], number)
    elif key == "_summary":
        if value not in SUMMARY_VALUES:
            raise InvalidSearch(f"_summary={value} is not supported (use count, data or false)")
        query.summary = None if value == "false" else value
    elif key == "_elements":
        names = [v.strip() for v in value.split(",") if v.strip()]
        if len(names) > MAX_ELEMENTS:
            raise SearchTooCostly(f"_elements takes at most {MAX_ELEMENTS} element names")
        if not names or not all(_ELEMENT_RE.match(n) for n in names):
            raise InvalidSearch("_elements takes a comma-separated list of element names")
        query.elements = names
    elif key in ("_include", "_revinclude"):
        _add_include(query, key, value)


def _whole_number(key, value):
    # ASCII digits only: str.isdigit and int() also take '²' and Arabic-Indic digits.
    if not (value.isascii() and value.isdigit()):
        raise InvalidSearch(f"{key} must be a whole number, not '{value}'")
    return int(value)


def _add_include(query, key, value):
    """Accept ``Type:param[:Target]`` where ``param`` is a reference parameter of ``Type``."""
    parts = value.split(":")
    source = parts[0]
    if key == "_revinclude" and parts[:2] == [provenance.NAME, provenance.TARGET] and len(parts) < 4:
        param = PROVENANCE_TARGET
    elif len(parts) not in (2, 3) or source not in REGISTRY:
        raise InvalidSearch(f"{key}={value}: use ResourceType:parameter")
    else:
        param = find_param(source, parts[1])
    if param is None or param.type != "reference":
        raise InvalidSearch(f"{key}={value}: {parts[1]} is not a reference parameter of {source}")
    if key == "_include":
        if source != query.type:
            raise InvalidSearch(f"_include={value} must start with {query.type}")
        found = query.includes
    else:
        if query.type not in param.targets:
            raise InvalidSearch(f"_revinclude={value} does not point at {query.type}")
        found = query.revincludes
    if (source, parts[1]) not in found:  # a repeat asks for nothing more (it once multiplied the answer)
        found.append((source, parts[1]))


@dataclass
class Visibility:
    """What one caller may see of one resource type: the patient compartment it is held to (if any)
    and, for granular scopes, alternative sets of clauses a resource must match (OR of ANDs)."""

    patient: str | None = None
    filters: list[list[Clause]] | None = None
    # Whether the patient's practice directory (mappers' practice_directory types) is visible beyond what the
    # patient's records reference: yes for reads and searches, no for $everything and the record pages, which
    # are the compartment plus what it references.
    directory: bool = True
    # The practice (Organization id) a system/ token is held to: resources of any other practice are not there.
    practice: str | None = None
    # Sensitive categories a representative may not see (smart_auth.proxy_policy): a resource in one of them
    # (mappers.sensitivity, gateway.store.search.withheld_sql) is not there.
    withheld: tuple = ()
