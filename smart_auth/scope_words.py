"""Scopes in plain words: the one source for the consent page and for every page that shows what an app may see.

A resource scope without a granular filter covers every kind of that resource (SMART App Launch 2.0.0, "Scopes
and Launch Context": a ``?category=`` restriction is what narrows it), so it must never read as one kind.
"""

from mappers import REGISTRY, provenance

from .scopes import InvalidScope, parse_scope

# What a scope on every type covers; each type's own words are declared by its mapper (mappers.REGISTRY).
ALL_WORDS = ("Everything in the record", "all of the kinds of information listed by the practice")


def words_of(resource_type):
    """(label, what it covers) for a resource type, ``*`` or one the registry does not know."""
    if resource_type == "*":
        return ALL_WORDS
    if resource_type == provenance.NAME:  # served, though built from its targets rather than registered
        return provenance.WORDS.label, provenance.WORDS.covers
    found = REGISTRY.get(resource_type)
    return (found.words.label, found.words.covers) if found and found.words else (resource_type, "")


def kinds_of(resource_type):
    """The kinds a person may choose instead of a whole type, as (system, code, words)."""
    found = REGISTRY.get(resource_type)
    return [(kind.system, kind.code, kind.words) for kind in found.kinds] if found else []


# Scopes that carry no record data: granted with the rest, listed but not ticked.
FIXED_WORDS = {
    "openid": "Confirm to the app that you signed in here",
    "launch": "Open with the record chosen in the practice console",
    "launch/patient": "Know which record you chose",
    "launch/encounter": "Know which visit the app was opened from",
    # Older (SMART v1) apps ask for it; the id_token has no name claims, so it grants nothing.
    "profile": "Nothing more: older apps ask for this, and it tells the app nothing",
}
# A representative's sign-in is not named to the app (no fhirUser, see consent.offered): the id_token's subject
# is an opaque id, so the page says only what is true of it.
REPRESENTATIVE_WORDS = {"openid": "Confirm to the app that someone signed in here, without telling it who you are"}
OPTIONAL_WORDS = {
    "fhirUser": (
        "Know who you are",
        "a link to you in the practice's records",
    ),
    "offline_access": (
        "Keep access when you are not using the app",
        "until you take the access back; without this, access ends soon after you leave the app",
    ),
    "online_access": ("Keep access while you use the app", "it ends when you stop using it"),
}
ACTIONS = (("r", "read"), ("s", "search"), ("c", "add"), ("u", "change"), ("d", "delete"))
VERBS = (("rs", "see"), ("c", "add to"), ("u", "change"), ("d", "delete"))


def _and(words):
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def actions(letters):
    """The interactions of a scope as words: ``read and search``."""
    return _and(word for letter, word in ACTIONS if letter in letters)


def verb(letters):
    """What a scope lets the app do, as the start of a sentence: ``See``, ``See, add to and change``."""
    found = _and(word for group, word in VERBS if set(group) & set(letters))
    return found[:1].upper() + found[1:]


def category_words(resource_type, value):
    """A category filter value (``system|code`` or ``code``) as the kind's words, or the value itself."""
    for system, code, words in kinds_of(resource_type):
        if value in (f"{system}|{code}", code):
            return words
    return value


def filter_words(resource_type, query):
    """A granular scope's ``?param=value`` pairs as words: the kinds it is narrowed to."""
    return [
        category_words(resource_type, value) if param == "category" else f"{param} {value}" for param, value in query
    ]


def _lower(words):
    return words[:1].lower() + words[1:]


def _kinds(resource_type, only):
    """Which kinds a scope covers, for a type a person may narrow by kind: named ones, or all; else None."""
    if only:
        return "of these kinds only: " + _and(_lower(word) for word in only)
    if kinds_of(resource_type):
        return "of all kinds: " + _and(_lower(words) for _, _, words in kinds_of(resource_type))
    return None


def type_words(resource_type, only=None):
    """(label, what it covers) for a resource type: every kind of it, or ``only`` the kinds named."""
    label, detail = words_of(resource_type)
    return label, _kinds(resource_type, only) or detail


def describe(scope):
    """A granted scope string as the plain-language lines a person reads about it, one per kind of access."""
    lines, kinds = [], {}
    for item in (scope or "").split():
        parsed = _parsed(item)
        if parsed is None:
            words = FIXED_WORDS.get(item) or OPTIONAL_WORDS.get(item, ("",))[0]
            lines += [words] if words else []
            continue
        key = (parsed.resource_type, verb(parsed.interactions))
        lines += [] if key in kinds else [key]
        # An unfiltered scope covers every filtered one beside it: None stands for "every kind".
        before = kinds.get(key, [])
        kinds[key] = None if before is None or not parsed.query else before + filter_words(key[0], parsed.query)
    return list(dict.fromkeys(line if isinstance(line, str) else _line(*line, kinds[line]) for line in lines))


def _parsed(item):
    try:
        return parse_scope(item)
    except InvalidScope:
        return None


def _line(resource_type, what, only):
    label, detail = words_of(resource_type)
    kinds = _kinds(resource_type, only and list(dict.fromkeys(only)))
    if kinds:
        return f"{what} {_lower(label)} {kinds}"
    return f"{what} {_lower(label)}" + (f": {detail}" if detail else "")
