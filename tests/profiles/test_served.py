"""Every resource the gateway serves conforms to every US Core profile in its meta.profile, in both packages.

Served means what the projection holds (every registered type, read and searched) and the Provenance built on
request for each of those records. A profile canonical that both US Core 3.1.1 and 6.1.0 define (us-core-patient,
...) is checked against both snapshots; one only a single version defines against that one; one neither
defines is a failure. New resource types are picked up from the projection, so they are checked as they land.
"""

import collections
import datetime as dt
import json

import pytest

from fixtures import synthetic
from gateway import store
from mappers import REGISTRY, provenance
from tests.profiles.validator import CORE, US_CORE, Package, Validator

VERSIONS = ("3.1.1", "6.1.0")
R4 = "4.0.1"  # FHIR R4's own vital-sign profiles, which vital signs claim beside US Core's
# Claimed, but in no package here, so not checked (the README says so): average blood pressure is US Core 7.0.0's.
PACKAGE_NAMES = {"3.1.1": "US Core", "6.1.0": "US Core", R4: "FHIR"}
NOT_HERE = {"http://hl7.org/fhir/us/core/StructureDefinition/us-core-average-blood-pressure|7.0.0"}


@pytest.fixture(scope="module")
def validators():
    found = {version: Validator(Package.load(US_CORE / version)) for version in VERSIONS}
    return {**found, R4: Validator(Package.r4_vital_signs())}


def served(db):
    """Every live resource of the projection, then the Provenance of each (as GET Provenance/<id> builds it)."""
    rows = db.execute("SELECT pk, type, json FROM resources WHERE deleted = 0 ORDER BY pk").fetchall()
    resources = [json.loads(body) for _, _, body in rows]
    # A definition (a screening form) has no Provenance: gateway.fhir.provenance serves none for it.
    facts = store.provenance_facts(db, [pk for pk, rtype, _ in rows if not REGISTRY[rtype].definitional])
    return resources + [provenance.to_fhir(fact, fact) for fact in facts]


def check(resources, validators):
    """(failure lines, {(type, profile): instances checked}) for every profile every resource claims.

    A claim with a version (``url|6.1.0``) is checked against that version's package only."""
    failures, checked = [], collections.Counter()
    for resource in resources:
        for url in resource.get("meta", {}).get("profile", []):
            wanted = {url.partition("|")[2]} if "|" in url else set(validators)
            checking = {version: v for version, v in validators.items() if version in wanted and v.package.profile(url)}
            checked[resource["resourceType"], url] += 1
            if not checking and url in NOT_HERE:
                continue
            if not checking:
                failures.append(f"{resource['resourceType']}/{resource['id']} {url}: no US Core package defines it")
            for version, checker in checking.items():
                if checker.package.profile(url):
                    where = f"{resource['resourceType']}/{resource['id']} {url} ({PACKAGE_NAMES[version]} {version})"
                    failures += [f"{where} {issue}" for issue in checker.validate(resource, url)]
    return failures, checked


@pytest.fixture(scope="module")
def demo_served(demo_db_path):
    return served(store.connect(demo_db_path))


@pytest.fixture(scope="module")
def synthetic_served(module_db_path):
    db = store.connect(module_db_path("synthetic"))
    synthetic.generate(db, 25, seed=19, today=dt.date(2026, 11, 25))
    return served(db)


@pytest.fixture(scope="module")
def demo_result(demo_served, validators):
    return check(demo_served, validators)


@pytest.fixture(scope="module")
def synthetic_result(synthetic_served, validators):
    return check(synthetic_served, validators)


def test_every_resource_the_demo_serves_conforms_to_every_profile_it_claims(demo_result):
    failures, checked = demo_result
    assert failures == []
    assert sum(checked.values()) > 800


def test_every_served_instance_claims_a_us_core_profile_its_type_declares(demo_served, synthetic_served):
    """So no type escapes the check above by claiming nothing (a base definition is not claimed in meta)."""
    declared = {name: {url for url in rt.profiles if not url.startswith(CORE)} for name, rt in REGISTRY.items()}
    declared[provenance.NAME] = {provenance.PROFILE}
    unclaimed = collections.Counter(
        r["resourceType"]
        for r in demo_served + synthetic_served
        if declared[r["resourceType"]] and not declared[r["resourceType"]] & set(r.get("meta", {}).get("profile", []))
    )
    assert unclaimed == {}


def test_a_sample_of_generated_charts_conforms_too(synthetic_result):
    failures, checked = synthetic_result
    assert failures == []
    assert sum(checked.values()) > 1000


def test_slicing_and_extensions_of_served_profiles_are_all_checked(demo_result, synthetic_result, validators):
    """What the checker can leave unchecked is terminology (VSAC, LOINC filters) and a few base invariants; never
    a slice it cannot tell apart, nor an extension with no definition."""
    unchecked = {line for v in validators.values() for line in v.not_checked}
    assert sorted(line for line in unchecked if line.startswith(("slice", "extension"))) == []


def test_the_capability_statement_lists_only_profiles_every_served_instance_passes(
    client, demo_result, synthetic_result
):
    """A base resource definition (Appointment's) is not claimed in meta and is the fhir.resources models' to check;
    each US Core profile listed must be claimed by served instances, and all of them must pass it."""
    body = client.get("/fhir/metadata").get_json(force=True)
    listed = [(r["type"], url) for r in body["rest"][0]["resource"] for url in r.get("supportedProfile", [])]
    supported = {(kind, url) for kind, url in listed if not url.startswith(CORE)}
    failures = demo_result[0] + synthetic_result[0]
    checked = demo_result[1] + synthetic_result[1]
    failing = {(line.split("/")[0], line.split(" ")[1]) for line in failures}
    assert sorted(supported & failing) == []
    assert sorted(supported - set(checked)) == []


def test_a_failure_names_the_resource_the_profile_the_version_the_path_and_the_rule(demo_served, validators):
    patient = next(r for r in demo_served if r["resourceType"] == "Patient")
    url = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
    broken = {key: value for key, value in patient.items() if key != "gender"}
    broken["meta"] = {"profile": [url]}
    failures, checked = check([broken], validators)
    assert failures == [
        f"Patient/{patient['id']} {url} (US Core {version}) Patient.gender: Patient.gender: minimum required = 1,"
        " but only found 0"
        for version in VERSIONS
    ]
    assert checked == {("Patient", url): 1}
