"""Extract the values a resource is searched by, at write time, from its FHIR JSON.

The registry declares each search parameter's element paths; the value's FHIR datatype decides what
is indexed (R4 3.1.1.4: a CodeableConcept gives one token per coding, a HumanName one string per part,
a Period one date range).
"""

import re

from mappers import REGISTRY, sensitivity

from .values import END_OF_TIME, date_range, normalize

# Pseudo-parameter: what a resource references outside the patient compartment (Practitioners,
# Organizations), which a patient may read because their own records point at it.
ANY_REFERENCE = "_ref"
_REFERENCE = re.compile(rb'"reference":"([A-Za-z]+)/([A-Za-z0-9.-]+)"')
OUTSIDE_COMPARTMENT = {name for name, rt in REGISTRY.items() if not rt.compartment}
# Pseudo-parameter: what a resource's sensitivity depends on besides its own codes (gateway.store.search's
# withheld clause): a note's visit, whose diagnoses decide it; an Encounter's reason Conditions.
CONTEXT = "_context"
_CONTEXT_PATHS = {
    "DocumentReference": ("context.encounter",),
    "DiagnosticReport": ("encounter",),
    "Encounter": ("reasonReference",),
}


def values_at(resource, path):
    """Yield the values at a dotted element path, walking into lists along the way."""
    current = [resource]
    for step in path.split("."):
        found = []
        for item in current:
            value = item.get(step) if isinstance(item, dict) else None
            if isinstance(value, list):
                found.extend(value)
            elif value is not None:
                found.append(value)
        current = found
    return current


def tokens_of(value):
    """Return the (system, code) pairs a coded value is searched by."""
    if isinstance(value, bool):
        return [("", "true" if value else "false")]
    if isinstance(value, str):
        return [("", value)]
    if "coding" in value:
        return [(c.get("system", ""), c["code"]) for c in value["coding"] if "code" in c]
    if "code" in value:
        return [(value.get("system", ""), value["code"])]
    if "value" in value:
        return [(value.get("system", ""), str(value["value"]))]
    return []


def date_ranges_of(value):
    """Return the (low, high) millisecond ranges a date, dateTime, instant or Period covers."""
    if isinstance(value, str):
        return [date_range(value)]
    if "start" in value or "end" in value:
        low = date_range(value["start"])[0] if "start" in value else -END_OF_TIME
        high = date_range(value["end"])[1] if "end" in value else END_OF_TIME
        return [(low, high)]
    return []


_STRING_PARTS = (
    "text",
    "family",
    "given",
    "prefix",
    "suffix",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
)


def strings_of(value):
    """Return the strings a string, HumanName or Address is searched by."""
    if isinstance(value, str):
        return [value]
    found = []
    for part in _STRING_PARTS:
        item = value.get(part)
        if isinstance(item, list):
            found.extend(item)
        elif isinstance(item, str):
            found.append(item)
    return found


def privacy_entries(resource):
    """(tokens, refs): the rows a representative's limited record is judged by (gateway.store.search's withheld
    clause): the resource's sensitive categories, and what its sensitivity depends on (``_context``). The
    projection writes them with the rest; the migration that indexes older resources calls this too."""
    tokens = [(sensitivity.PARAM, "", name) for name in sensitivity.categories_of(resource)]
    refs = [
        (CONTEXT, v["reference"])
        for path in _CONTEXT_PATHS.get(resource.get("resourceType"), ())
        for v in values_at(resource, path)
        if "reference" in v
    ]
    return tokens, refs


def index_entries(rt, resource, body):
    """Return (tokens, dates, strings, refs): rows of (param, ...) for a resource (``body`` is its JSON)."""
    tokens, dates, strings, refs = [], [], [], []
    for param in rt.search_params:
        # A compartment parameter names the compartment's patient, which the resources table already
        # holds (resources.patient_id): it is answered from there, not indexed.
        if rt.compartment and param.compartment:
            continue
        for path in param.paths:
            for value in values_at(resource, path):
                if param.type == "token":
                    tokens.extend((param.name, s, c) for s, c in tokens_of(value))
                elif param.type == "date":
                    dates.extend((param.name, lo, hi) for lo, hi in date_ranges_of(value))
                elif param.type == "string":
                    strings.extend((param.name, normalize(s), s) for s in strings_of(value))
                elif (param.canonical or param.type == "uri") and isinstance(value, str):
                    refs.append((param.name, value))
                elif param.type == "reference" and isinstance(value, dict) and "reference" in value:
                    target = value["reference"]
                    if not param.targets or target.split("/", 1)[0] in param.targets:
                        refs.append((param.name, target))
    labels, context = privacy_entries(resource)
    tokens.extend(labels)
    refs.extend(context)
    targets = {(t.decode(), i.decode()) for t, i in _REFERENCE.findall(body)}
    refs.extend((ANY_REFERENCE, f"{t}/{i}") for t, i in sorted(targets) if t in OUTSIDE_COMPARTMENT)
    return tokens, dates, strings, refs
