"""The SHALL searches of US Core 6.1.0's server CapabilityStatement, and how a result matches one, from the spec.

Independent of the gateway's own search definitions on purpose: the searches and their combinations come from
the official CapabilityStatement (capabilitystatement-expectation = SHALL on ``rest.resource.searchParam`` and on
the capabilitystatement-search-parameter-combination extensions), each parameter's path from the official
SearchParameter's ``expression``, and matching follows FHIR R4 search (https://hl7.org/fhir/R4/search.html).
"""

import datetime as dt
import json
import re
import unicodedata

from tests.profiles.validator import US_CORE

EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
COMBINATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination"


def _shall(extensions):
    return any(e["url"] == EXPECTATION and e["valueCode"] == "SHALL" for e in extensions)


def _expression(package, definition):
    """The SearchParameter's FHIRPath expression, from the package."""
    name = definition.rsplit("/", 1)[1]
    return json.loads((package / f"SearchParameter-{name}.json").read_text())["expression"]


def shall_searches(version="6.1.0"):
    """{resource type: [search, ...]}, each search a tuple of (name, type, expression), single and combined."""
    package = US_CORE / version
    statement = json.loads((package / "CapabilityStatement-us-core-server.json").read_text())
    found = {}
    for resource in statement["rest"][0]["resource"]:
        params = {
            p["name"]: (p["name"], p["type"], _expression(package, p["definition"]))
            for p in resource.get("searchParam", [])
        }
        searches = [(params[p["name"]],) for p in resource.get("searchParam", []) if _shall(p.get("extension", []))]
        for ext in resource.get("extension", []):
            if ext["url"] == COMBINATION and _shall(ext["extension"]):
                names = [e["valueString"] for e in ext["extension"] if e["url"] == "required"]
                searches.append(tuple(params[n] for n in names))
        found[resource["type"]] = searches
    return found


def values_at(resource, expression):
    """The values an official expression selects: unions, ``.where(resolve() is X)``, ``(x as T)``, choices."""
    values = []
    for path in expression.split("|"):
        path = re.sub(r"\.where\(resolve\(\) is \w+\)", "", path.strip())
        path = re.sub(r"^\((.*) as \w+\)$", r"\1", path)
        items = [resource]
        for step in path.split(".")[1:]:
            items = [v for item in items if isinstance(item, dict) for v in _step(item, step)]
        values += items
    return values


def _step(item, name):
    if name in item:
        value = item[name]
    else:  # a choice element (effective[x], performed[x]): the one key that starts with the name
        keys = [k for k in item if k.startswith(name) and k[len(name) : len(name) + 1].isupper()]
        value = item[keys[0]] if keys else None
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def tokens(value):
    """The (system, code) pairs of one token value: a code, Coding, CodeableConcept or Identifier."""
    if isinstance(value, str):
        return [(None, value)]
    if "coding" in value:
        return [(c.get("system"), c.get("code")) for c in value["coding"]]
    if "code" in value:
        return [(value.get("system"), value["code"])]
    if "value" in value:
        return [(value.get("system"), value["value"])]
    return []


def normalized(text):
    """Case- and accent-insensitive form, as FHIR string search compares (search.html#string)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def string_parts(value):
    """The strings a string parameter searches in: a string, or a HumanName's or Address's parts."""
    if isinstance(value, str):
        return [value]
    parts = [value.get(k) for k in ("family", "text", "city", "district", "state", "postalCode", "country")]
    parts += [*value.get("given", []), *value.get("prefix", []), *value.get("suffix", []), *value.get("line", [])]
    return [p for p in parts if p]


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
_FAR = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def date_range(text):
    """The [low, high) instants a FHIR date/dateTime/instant covers: its precision is its range."""
    m = _DATE.match(text)
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    tz = dt.UTC if zone in (None, "Z") else dt.datetime.strptime(zone.replace(":", ""), "%z").tzinfo
    low = dt.datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0))
    low = low.replace(tzinfo=tz).astimezone(dt.UTC)
    if fraction:
        return low, low + dt.timedelta(milliseconds=1)
    if second:
        return low, low + dt.timedelta(seconds=1)
    if minute:
        return low, low + dt.timedelta(minutes=1)
    if day:
        return low, low + dt.timedelta(days=1)
    if month:
        return low, (low.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return low, low.replace(year=low.year + 1)


def value_range(value):
    """The range of a date value in a resource: a date/dateTime/instant string or a Period."""
    if isinstance(value, str):
        return date_range(value)
    low = date_range(value["start"])[0] if "start" in value else dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    high = date_range(value["end"])[1] if "end" in value else _FAR
    return low, high


def date_matches(prefix, query, value):
    """Whether a resource's date value matches ``prefix`` + ``query`` (search.html#prefix, ranges [low, high))."""
    low, high = date_range(query)
    r_low, r_high = value_range(value)
    within = low <= r_low and r_high <= high
    return {
        "eq": within,
        "ne": not within,
        "ge": within or r_high > high,
        "le": within or r_low < low,
        "gt": r_high > high,
        "lt": r_low < low,
        # sa / eb: the resource's range starts after / ends before the search range, not overlapping it.
        "sa": r_low >= high,
        "eb": r_high <= low,
    }[prefix]


def shifted(text, days):
    """A date query ``days`` from ``text`` at the same precision (None when coarser than a day)."""
    if len(text) < 10:
        return None
    day = dt.date.fromisoformat(text[:10]) + dt.timedelta(days=days)
    return day.isoformat() + text[10:]
