"""Proxy access that ages with the child: the one rule of what a representative sees of a patient's record.

Every door asks it: a bearer token on the FHIR API (``tokens.authenticate``), the portal's pages and its
downloads (``gateway.records.portal_token``) and the record switcher (``accounts.linked_records``). A practice
sets the ages and which sensitive categories a parent does not see; the defaults follow common US portal
practice (many states let minors consent alone to some care, whose records a parent then may not see): under
12 the whole record, from 12 to 17 a limited record, and at 18 access that was given during childhood ends.
"""

import datetime as dt
import functools
import os
import zoneinfo
from dataclasses import dataclass

from flask import current_app, has_app_context

from gateway import config
from gateway.store import accounts as account_store
from mappers import REGISTRY, sensitivity

# The categories a practice may withhold, by name, with their words; which resource is in which is the one table
# of mappers.sensitivity (every code system the charts use). "confidential" (a clinician's marking) is not the
# practice's choice: the limited record always leaves it out.
CATEGORIES = {name: words for name, words in sensitivity.CATEGORIES.items() if name != "confidential"}
ALWAYS_WITHHELD = ("confidential",)


@dataclass(frozen=True)
class Policy:
    """A practice's proxy policy: the age the limited record begins, the age access given for a child ends,
    and the categories the limited record leaves out."""

    limited_from: int
    ends_at: int
    withheld: tuple

    def __post_init__(self):
        for name in self.withheld:
            if name not in CATEGORIES:
                raise ValueError(f"unknown sensitive category {name!r}")
        if not 0 <= self.limited_from <= self.ends_at:
            raise ValueError("the limited record must begin before access ends")


DEFAULT_POLICY = Policy(limited_from=12, ends_at=18, withheld=tuple(CATEGORIES))


@dataclass(frozen=True)
class ProxyAccess:
    """What one person may see of one record: ``stage`` is whole, limited, shared or ended; ``withheld``
    the sensitive categories left out (mappers.sensitivity); ``shared`` None (every type) or the kinds a
    caregiver the patient invited may see, as (resource type, search parameter or None, value) triples."""

    stage: str
    withheld: tuple = ()
    shared: tuple | None = None

    @property
    def allowed(self):
        return self.stage != "ended"


WHOLE = ProxyAccess("whole")


def withheld_categories(categories):
    """The categories a limited record leaves out: the practice's ``categories`` and the clinician's marking."""
    return tuple(dict.fromkeys((*categories, *ALWAYS_WITHHELD)))


def _birthday(birth, age):
    """The date of the ``age``-th birthday; 29 February counts as 1 March in a common year."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def _date(value):
    try:
        return dt.date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def ending_on(birth_date, policy):
    """The day a representative's access given during childhood ends (the ``ends_at`` birthday), or None."""
    birth = _date(birth_date)
    return _birthday(birth, policy.ends_at) if birth else None


def is_adult(birth_date, policy, today):
    """Whether the patient has reached the age that ends access given during childhood (unknown: not)."""
    ends = ending_on(birth_date, policy)
    return bool(ends) and today >= ends


def notice_due(birth_date, policy, today):
    """Whether ``today`` is within the 30 days before access given during childhood ends."""
    ends = ending_on(birth_date, policy)
    return bool(ends) and ends - dt.timedelta(days=30) <= today < ends


def decide(relation, linked_at, birth_date, policy, today, sections=None, until=None):
    """What a person linked to a record with ``relation`` (since ``linked_at``) may see of it ``today``; a
    caregiver the patient invited sees only ``sections`` (space-separated slugs) through the day ``until``."""
    if relation == "self":
        return WHOLE
    last = _date(until) if until else None
    if until and (last is None or today > last):
        return ProxyAccess("ended")
    by_age = _by_age(relation, linked_at, birth_date, policy, today)
    if not sections or not by_age.allowed:
        return by_age
    return ProxyAccess("shared", by_age.withheld, shared_kinds(tuple(sections.split())))


def _by_age(relation, linked_at, birth_date, policy, today):
    birth = _date(birth_date)
    if birth is None:
        return _limited(policy)  # age unknown: never the whole record, never cut off
    ends = _birthday(birth, policy.ends_at)
    if today >= ends:
        linked = _date(linked_at)
        # A representative the adult patient (or the practice, for the adult) linked after childhood stays.
        return WHOLE if linked and linked >= ends else ProxyAccess("ended")
    return WHOLE if today < _birthday(birth, policy.limited_from) else _limited(policy)


def _limited(policy):
    return ProxyAccess("limited", withheld_categories(policy.withheld))


def policy_of(row):
    """A Policy from a practice's stored policy row (None: the defaults)."""
    if not row or row.get("limited_from") is None:
        return DEFAULT_POLICY
    return _policy(row["limited_from"], row["ends_at"], row["withheld"] or "")


@functools.lru_cache(maxsize=256)
def _policy(limited_from, ends_at, withheld):
    return Policy(limited_from, ends_at, tuple(withheld.split()))


def practice_zone():
    """The practice's time zone: the app's ``TIMEZONE`` (GATEWAY_TIMEZONE), from the environment outside a
    request (the CLI), else the default; UTC when the name is unknown here."""
    name = current_app.config.get("TIMEZONE") if has_app_context() else os.environ.get("GATEWAY_TIMEZONE")
    try:
        return zoneinfo.ZoneInfo(name or config.DEFAULTS["TIMEZONE"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def today(now=None, zone=None):
    """The date the rule is judged on: the practice's local date at ``now`` (default: this instant), so a
    birthday is a birthday from midnight there, not from midnight UTC (at 23:30 Pacific it is already the next
    day in UTC)."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    return moment.astimezone(zone or practice_zone()).date()


def access_of(db, account_uid, patient_uid, on=None):
    """What the portal account ``account_uid`` may see of the record ``patient_uid``; None when the uid is no
    portal account (a staff user in an EHR launch, a test token), whose access the scopes alone decide.

    An account with no active link to the record sees nothing: its tokens end with the link.
    """
    row = account_store.proxy_link(db, account_uid or "", patient_uid or "")
    if row is None:
        return None
    if row["status"] != "active":
        return ProxyAccess("ended")
    return decide(
        row["relation"],
        row["linked_at"],
        row["birth_date"],
        policy_of(row),
        on or today(),
        row["sections"],
        row["access_until"],
    )


def section_titles():
    """Every record section's (slug, title), in the record's order: what a patient may share with a caregiver."""
    declared = [rt.section for rt in REGISTRY.values() if rt.section]
    declared += [src.section for rt in REGISTRY.values() for src in rt.sources if src.section]
    return tuple((s.slug, s.title) for s in sorted(declared, key=lambda s: s.order))


@functools.lru_cache(maxsize=256)
def shared_kinds(slugs):
    """The (resource type, search parameter or None, value) kinds the record sections ``slugs`` show.

    A section narrowed to a category shows that category (``category``); a section showing the same type
    unnarrowed leaves out the categories other sections show (``category:not``), as the portal's sections do.
    """
    declared = [(rt.name, rt.section) for rt in REGISTRY.values() if rt.section]
    declared += [(rt.name, src.section) for rt in REGISTRY.values() for src in rt.sources if src.section]
    narrowed = {}
    for name, section in declared:
        if section.category:
            for rtype in (name, *section.also):
                narrowed.setdefault(rtype, []).append(section.category)
    kinds = []
    for name, section in declared:
        if section.slug not in slugs:
            continue
        for rtype in (name, *section.also):
            if section.category:
                kinds.append((rtype, "category", section.category))
            elif rtype in narrowed:
                kinds.append((rtype, "category:not", ",".join(narrowed[rtype])))
            else:
                kinds.append((rtype, None, None))
    return tuple(dict.fromkeys(kinds))


def _plural(count, one, many):
    return f"{count} {one if count == 1 else many}"


def _people(links):
    """Who the links' people are, in words: parents, guardians or (mixed) representatives."""
    relations = {link["relation"] for link in links}
    one = relations.pop() if len(relations) == 1 and relations <= {"parent", "guardian"} else "representative"
    return _plural(len({link["account_id"] for link in links}), one, one + "s")


def _children(links, today):
    """The records' patients, in words: teenagers when every one is 13 or older today, else children."""
    births = {link["patient_id"]: _date(link["birth_date"]) for link in links}
    teens = all(b and _birthday(b, 13) <= today for b in births.values())
    return _plural(len(births), "teenager", "teenagers") if teens else _plural(len(births), "child", "children")


def withheld_words(access):
    """What a limited record leaves out, in words for the person reading it ("mental health", "notes marked
    confidential by a clinician"); empty when ``access`` (access_of's answer, or None) withholds nothing."""
    if access is None or not access.withheld:
        return []
    return [
        "notes marked confidential by a clinician" if name == "confidential" else category_words(name)
        for name in access.withheld
    ]


def category_words(name):
    words = sensitivity.CATEGORIES[name]
    return words[0].lower() + words[1:]


def policy_changes(links, before, after, today):
    """What changing a practice's policy from ``before`` to ``after`` changes ``today`` for the people linked to
    its charts (``links``: rows of gateway.store.accounts.representative_links), one sentence per change, e.g.
    "3 parents will stop seeing mental health items of 2 teenagers."; [] when nobody's access changes today."""
    found = {}
    for link in links:
        args = (link["relation"], link["linked_at"], link["birth_date"])
        extra = (link["sections"], link["access_until"])
        old, new = decide(*args, before, today, *extra), decide(*args, after, today, *extra)
        if old.allowed != new.allowed:
            found.setdefault(("lose" if old.allowed else "regain", None), []).append(link)
        elif not old.allowed:
            continue
        elif bool(old.withheld) != bool(new.withheld):
            found.setdefault(("limited" if new.withheld else "whole", None), []).append(link)
        else:
            for name in new.withheld:
                if name not in old.withheld:
                    found.setdefault(("stop", name), []).append(link)
            for name in old.withheld:
                if name not in new.withheld:
                    found.setdefault(("start", name), []).append(link)
    order = ["lose", "regain", "whole", "limited", "stop", "start"]
    names = list(sensitivity.CATEGORIES)
    sentences = []
    for (kind, name), affected in sorted(
        found.items(), key=lambda i: (order.index(i[0][0]), names.index(i[0][1] or "confidential"))
    ):
        people, children = _people(affected), _children(affected, today)
        records = "record" if children.startswith("1 ") else "records"
        sentences.append(
            {
                "lose": f"{people} will lose access to the {records} of {children}.",
                "regain": f"{people} will regain access to the {records} of {children}.",
                "whole": f"{people} will start seeing every item of {children} (the whole record).",
                "limited": f"{people} will stop seeing the sensitive items of {children} (the limited record).",
                "stop": f"{people} will stop seeing {category_words(name or 'confidential')} items of {children}.",
                "start": f"{people} will start seeing {category_words(name or 'confidential')} items of {children}.",
            }[kind]
        )
    return sentences
