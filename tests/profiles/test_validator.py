"""The profile checker, rule by rule on tiny synthetic profiles, then on the US Core packages' own examples."""

import copy
import json
import re

import pytest

from tests.profiles.validator import US_CORE, Package, Validator

URL = "http://example.org/StructureDefinition/tiny"


def el(element_id, low=0, high="*", **more):
    return {"id": element_id, "path": re.sub(r":[^.]*", "", element_id), "min": low, "max": high, **more}


def profile(kind, *elements, url=URL):
    root = el(kind)
    return {"resourceType": "StructureDefinition", "url": url, "type": kind, "snapshot": {"element": [root, *elements]}}


def check(resource, *elements, extra=()):
    """The issues of ``resource`` against a tiny profile of ``elements``, as strings, and the validator."""
    checker = Validator(Package([profile(resource["resourceType"], *elements), *extra]))
    return [str(issue) for issue in checker.validate(resource, URL)], checker


def codes_value_set(url, *codes, system="http://example.org/cs"):
    concepts = [{"code": code} for code in codes]
    return {"resourceType": "ValueSet", "url": url, "compose": {"include": [{"system": system, "concept": concepts}]}}


CODING = [{"code": "CodeableConcept"}]


def test_cardinality_is_counted_per_parent_occurrence():
    elements = (el("Patient.name", 1), el("Patient.name.given", 0, "1"))
    assert check({"resourceType": "Patient", "name": [{"given": ["A"]}, {"given": ["B"]}]}, *elements)[0] == []
    issues, _ = check({"resourceType": "Patient", "name": [{"given": ["A", "B"]}]}, *elements)
    assert issues == ["Patient.name[0].given: Patient.name.given: max allowed = 1, but found 2"]
    issues, _ = check({"resourceType": "Patient"}, *elements)
    assert issues == ["Patient.name: Patient.name: minimum required = 1, but only found 0"]


def test_fixed_is_equality_and_pattern_is_containment():
    fixed = el("Observation.status", 1, "1", type=[{"code": "code"}], fixedCode="final")
    assert check({"resourceType": "Observation", "status": "amended"}, fixed)[0] == [
        'Observation.status: value must be exactly "final"'
    ]
    pattern = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}
    code = el("Observation.code", 1, "1", type=CODING, patternCodeableConcept=pattern)
    richer = {"coding": [{"system": "http://x", "code": "y"}, {"system": "http://loinc.org", "code": "8867-4"}]}
    assert check({"resourceType": "Observation", "code": dict(richer, text="Heart rate")}, code)[0] == []
    issues, _ = check({"resourceType": "Observation", "code": {"coding": [{"system": "http://loinc.org"}]}}, code)
    assert issues == [f"Observation.code: value must match pattern {json.dumps(pattern)}"]


def category_slices(rules):
    slicing = {"discriminator": [{"type": "pattern", "path": "$this"}], "rules": rules}
    vital = {"coding": [{"system": "http://example.org/cat", "code": "vital-signs"}]}
    return (
        el("Observation.category", 0, "*", type=CODING, slicing=slicing),
        el("Observation.category:vs", 1, "1", type=CODING, sliceName="vs", patternCodeableConcept=vital),
    )


def test_slices_by_pattern_count_their_own_cardinality_and_closed_slicing_rejects_the_rest():
    vital = {"coding": [{"system": "http://example.org/cat", "code": "vital-signs"}]}
    lab = {"coding": [{"system": "http://example.org/cat", "code": "laboratory"}]}
    assert check({"resourceType": "Observation", "category": [lab, vital]}, *category_slices("open"))[0] == []
    issues, _ = check({"resourceType": "Observation", "category": [lab]}, *category_slices("open"))
    assert issues == ["Observation.category: Observation.category:vs: minimum required = 1, but only found 0"]
    issues, _ = check({"resourceType": "Observation", "category": [lab, vital]}, *category_slices("closed"))
    assert issues == ["Observation.category[0]: matches no slice of Observation.category (slicing is closed)"]


def test_type_slices_of_a_choice_apply_to_that_type_only():
    slicing = {"discriminator": [{"type": "type", "path": "$this"}], "rules": "open"}
    elements = (
        el("Observation.value[x]", 0, "1", type=[{"code": "Quantity"}, {"code": "string"}], slicing=slicing),
        el("Observation.value[x]:valueQuantity", 0, "1", type=[{"code": "Quantity"}], sliceName="valueQuantity"),
        el("Observation.value[x]:valueQuantity.value", 1, "1", type=[{"code": "decimal"}]),
    )
    assert check({"resourceType": "Observation", "valueString": "high"}, *elements)[0] == []
    issues, _ = check({"resourceType": "Observation", "valueQuantity": {"unit": "mmHg"}}, *elements)
    label = "Observation.valueQuantity.value: Observation.value[x]:valueQuantity.value"
    assert issues == [f"{label}: minimum required = 1, but only found 0"]


def test_exists_discriminator_and_value_discriminator_on_a_child():
    slicing = {"discriminator": [{"type": "exists", "path": "period"}], "rules": "closed"}
    elements = (
        el("Patient.name", 0, "*", slicing=slicing),
        el("Patient.name:old", 0, "1", sliceName="old"),
        el("Patient.name:old.period", 1, "1"),
    )
    named = {"resourceType": "Patient", "name": [{"family": "A", "period": {"end": "2000"}}]}
    assert check(named, *elements)[0] == []
    issues, _ = check({"resourceType": "Patient", "name": [{"family": "A"}]}, *elements)
    assert issues == ["Patient.name[0]: matches no slice of Patient.name (slicing is closed)"]


def test_required_binding_to_a_package_value_set_and_to_a_whole_package_code_system():
    vs = codes_value_set("http://example.org/vs/colour", "red", "blue")
    system = {"resourceType": "CodeSystem", "url": "http://example.org/cs2", "content": "complete"}
    system["concept"] = [{"code": "a", "concept": [{"code": "a1"}]}]
    whole = {"resourceType": "ValueSet", "url": "http://example.org/vs/whole"}
    whole["compose"] = {"include": [{"system": "http://example.org/cs2"}]}
    elements = (
        el("Observation.code", 0, "1", type=CODING, binding={"strength": "required", "valueSet": vs["url"]}),
        el(
            "Observation.status",
            0,
            "1",
            type=[{"code": "code"}],
            binding={"strength": "required", "valueSet": whole["url"]},
        ),
    )
    good = {"resourceType": "Observation", "code": {"coding": [{"system": "http://example.org/cs", "code": "red"}]}}
    assert check(dict(good, status="a1"), *elements, extra=(vs, system, whole))[0] == []
    bad = {"resourceType": "Observation", "code": {"coding": [{"system": "http://example.org/cs", "code": "green"}]}}
    issues, _ = check(dict(bad, status="b"), *elements, extra=(vs, system, whole))
    assert issues == [
        "Observation.code: [('http://example.org/cs', 'green')] is not in the required value set http://example.org/vs/colour",
        "Observation.status: b is not in the required value set http://example.org/vs/whole",
    ]
    text_only = {"resourceType": "Observation", "code": {"text": "red"}}
    assert check(text_only, *elements, extra=(vs, system, whole))[0] == [
        "Observation.code: no coding is not in the required value set http://example.org/vs/colour"
    ]


def test_a_value_set_it_cannot_expand_is_reported_not_checked_never_passed_silently():
    loinc = {"resourceType": "ValueSet", "url": "http://example.org/vs/loinc"}
    loinc["compose"] = {
        "include": [{"system": "http://loinc.org", "filter": [{"property": "SCALE_TYP", "op": "=", "value": "DOC"}]}]
    }
    elements = (
        el("Observation.code", 0, "1", type=CODING, binding={"strength": "required", "valueSet": loinc["url"]}),
        el("Observation.status", 0, "1", binding={"strength": "required", "valueSet": "http://vsac.example/vs|1"}),
    )
    issues, checker = check(
        {"resourceType": "Observation", "code": {"text": "x"}, "status": "x"}, *elements, extra=(loinc,)
    )
    assert issues == []
    assert checker.not_checked == {
        "binding http://example.org/vs/loinc: http://loinc.org filter "
        "[{'property': 'SCALE_TYP', 'op': '=', 'value': 'DOC'}] needs a terminology server",
        "binding http://vsac.example/vs: value set http://vsac.example/vs is not in the package",
    }


def test_invariants_are_evaluated_with_fhirpath_in_the_context_of_their_element():
    rule = {
        "key": "t-1",
        "severity": "error",
        "human": "value or reason",
        "expression": "value.exists() or dataAbsentReason.exists()",
    }
    elements = (el("Observation.component", 0, "*", type=[{"code": "BackboneElement"}], constraint=[rule]),)
    ok = {"resourceType": "Observation", "component": [{"valueQuantity": {"value": 1}}]}
    assert check(ok, *elements)[0] == []
    issues, _ = check({"resourceType": "Observation", "component": [{"code": {"text": "x"}}]}, *elements)
    assert issues == ["Observation.component[0]: invariant t-1 failed: value or reason"]


def test_resolve_in_an_invariant_names_the_type_of_a_relative_reference():
    rule = {"key": "t-2", "severity": "error", "human": "about a patient", "expression": "subject.resolve() is Patient"}
    root = {"resourceType": "Observation", "subject": {"reference": "Patient/1"}}
    tiny = profile("Observation")
    tiny["snapshot"]["element"][0]["constraint"] = [rule]
    checker = Validator(Package([tiny]))
    assert checker.validate(root, URL) == []
    issues = [str(i) for i in checker.validate(dict(root, subject={"reference": "Group/1"}), URL)]
    assert issues == ["Observation: invariant t-2 failed: about a patient"]


def test_ele_1_rejects_an_element_with_neither_value_nor_children():
    rule = {"key": "ele-1", "severity": "error", "human": "value or children"}
    rule["expression"] = "hasValue() or (children().count() > id.count())"
    elements = (el("Patient.name", 0, "*", type=[{"code": "HumanName"}], constraint=[rule]),)
    assert check({"resourceType": "Patient", "name": [{"family": "A"}]}, *elements)[0] == []
    issues, _ = check({"resourceType": "Patient", "name": [{"family": "A"}, {"id": "n2"}]}, *elements)
    assert issues == ["Patient.name[1]: invariant ele-1 failed: value or children"]


def test_an_extension_is_validated_against_its_own_definition_when_the_package_has_it():
    ext_url = "http://example.org/StructureDefinition/colour"
    vs = codes_value_set("http://example.org/vs/colour", "red")
    definition = profile(
        "Extension",
        el("Extension.url", 1, "1", fixedUri=ext_url),
        el(
            "Extension.value[x]",
            1,
            "1",
            type=[{"code": "code"}],
            binding={"strength": "required", "valueSet": vs["url"]},
        ),
        url=ext_url,
    )
    slicing = {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}
    elements = (
        el("Patient.extension", 0, "*", type=[{"code": "Extension"}], slicing=slicing),
        el("Patient.extension:colour", 0, "1", sliceName="colour", type=[{"code": "Extension", "profile": [ext_url]}]),
    )
    patient = {"resourceType": "Patient", "extension": [{"url": ext_url, "valueCode": "green"}]}
    issues, _ = check(patient, *elements, extra=(definition, vs))
    assert issues == [
        "Patient.extension[0].valueCode: green is not in the required value set http://example.org/vs/colour"
    ]
    unknown = {"resourceType": "Patient", "extension": [{"url": "http://example.org/other", "valueCode": "x"}]}
    elements = (
        *elements,
        el(
            "Patient.extension:other",
            0,
            "1",
            sliceName="other",
            type=[{"code": "Extension", "profile": ["http://example.org/other"]}],
        ),
    )
    issues, checker = check(unknown, *elements, extra=(definition, vs))
    assert (issues, checker.not_checked) == ([], {"extension http://example.org/other: no definition in the package"})


def test_a_reference_must_name_a_type_its_target_profiles_allow():
    target = [{"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}]
    elements = (el("Observation.subject", 1, "1", type=target),)
    assert check({"resourceType": "Observation", "subject": {"reference": "Patient/1"}}, *elements)[0] == []
    issues, _ = check({"resourceType": "Observation", "subject": {"reference": "Group/1"}}, *elements)
    assert issues == ["Observation.subject: references a Group, not one of ['Patient']"]


# -- the packages' own examples ------------------------------------------------------------------------------
PACKAGES = {version: Package.load(US_CORE / version) for version in ("3.1.1", "6.1.0")}


def examples():
    for version, package in PACKAGES.items():
        for path in sorted((US_CORE / version / "example").glob("*.json")):
            resource = json.loads(path.read_text())
            for url in resource.get("meta", {}).get("profile", []):
                if package.profile(url):
                    yield pytest.param(version, resource, url, id=f"{version}-{path.stem}-{url.rpartition('/')[2]}")


EXAMPLES = list(examples())


@pytest.mark.parametrize(("version", "resource", "url"), EXAMPLES)
def test_every_package_example_passes_its_profiles(version, resource, url):
    assert [str(i) for i in Validator(PACKAGES[version]).validate(resource, url)] == []


def first_required(sd, resource):
    """The first element the profile requires at the root that ``resource`` has, and its JSON key."""
    for element in sd["snapshot"]["element"]:
        name = element["path"].partition(".")[2]
        if "." in name or ":" in element["id"] or element["min"] < 1:
            continue
        for key in resource:
            if key == name or (name.endswith("[x]") and key.startswith(name[:-3]) and key[len(name) - 3].isupper()):
                return element, key
    raise AssertionError("the example has none of its required elements")


@pytest.mark.parametrize(("version", "resource", "url"), EXAMPLES)
def test_every_package_example_without_its_first_required_element_fails(version, resource, url):
    element, key = first_required(PACKAGES[version].profile(url), resource)
    broken = {k: v for k, v in resource.items() if k not in (key, f"_{key}")}
    issues = [str(i) for i in Validator(PACKAGES[version]).validate(broken, url)]
    label = f"{element['path']}: {element['id']}"
    assert f"{label}: minimum required = {element['min']}, but only found 0" in issues


def example(version, name):
    return json.loads((US_CORE / version / "example" / f"{name}.json").read_text())


def test_an_unknown_ethnicity_as_nullflavor_fails_3_1_1_and_text_only_passes():
    patient = example("3.1.1", "Patient-example")
    url = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
    ethnicity = patient["extension"][1]
    unk = {"system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "code": "UNK"}
    ethnicity["extension"] = [{"url": "ombCategory", "valueCoding": unk}, {"url": "text", "valueString": "Unknown"}]
    issues = [str(i) for i in Validator(PACKAGES["3.1.1"]).validate(patient, url)]
    assert issues == [
        "Patient.extension[1].extension[0].valueCoding: ('http://terminology.hl7.org/CodeSystem/v3-NullFlavor', 'UNK')"
        " is not in the required value set http://hl7.org/fhir/us/core/ValueSet/omb-ethnicity-category"
    ]
    ethnicity["extension"] = [{"url": "text", "valueString": "Unknown"}]
    assert Validator(PACKAGES["3.1.1"]).validate(patient, url) == []


def test_a_blood_pressure_without_its_systolic_component_fails_the_slice():
    bp = example("6.1.0", "Observation-blood-pressure")
    bp["component"] = [c for c in bp["component"] if c["code"]["coding"][0]["code"] != "8480-6"]
    url = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure"
    issues = [str(i) for i in Validator(PACKAGES["6.1.0"]).validate(bp, url)]
    assert issues == [
        "Observation.component: Observation.component: minimum required = 2, but only found 1",
        "Observation.component: Observation.component:systolic: minimum required = 1, but only found 0",
    ]


def test_a_component_with_neither_value_nor_reason_fails_vs_3():
    bp = example("6.1.0", "Observation-blood-pressure")
    del bp["component"][0]["valueQuantity"]
    url = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure"
    issues = {str(i) for i in Validator(PACKAGES["6.1.0"]).validate(copy.deepcopy(bp), url)}
    assert issues == {
        "Observation.component[0]: invariant vs-3 failed: If there is no a value a data absent reason must be present"
    }


def test_a_condition_about_a_group_fails_its_subject_target_type():
    condition = example("3.1.1", "Condition-example")
    condition["subject"] = {"reference": "Group/1"}
    url = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition"
    issues = [str(i) for i in Validator(PACKAGES["3.1.1"]).validate(condition, url)]
    assert issues == ["Condition.subject: references a Group, not one of ['Patient']"]
