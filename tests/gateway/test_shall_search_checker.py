"""The SHALL-search test's own parts give exact answers, so its passing means something."""

import pytest

from tests.gateway import shall_searches as spec
from tests.gateway.test_shall_searches import _check, _queries

SEARCHES = spec.shall_searches()
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PULSE = {
    "resourceType": "Observation",
    "id": "o1",
    "subject": {"reference": "Patient/p1"},
    "category": [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
    "effectiveDateTime": "2024-01-15T09:00:00Z",
}


def test_searches_and_paths_come_from_the_package():
    assert SEARCHES["Observation"] == [
        (
            ("patient", "reference", "Observation.subject.where(resolve() is Patient)"),
            ("category", "token", "Observation.category"),
            ("date", "date", "Observation.effective"),
        ),
        (
            ("patient", "reference", "Observation.subject.where(resolve() is Patient)"),
            ("category", "token", "Observation.category"),
        ),
        (
            ("patient", "reference", "Observation.subject.where(resolve() is Patient)"),
            ("code", "token", "Observation.code"),
        ),
    ]
    assert SEARCHES["Patient"][3:] == [
        (("birthdate", "date", "Patient.birthDate"), ("name", "string", "Patient.name")),
        (("gender", "token", "Patient.gender"), ("name", "string", "Patient.name")),
    ]


def test_the_us_core_3_1_1_shall_searches_are_among_the_6_1_0_ones_run():
    """So the 6.1.0 test covers a 3.1.1 client too; only a name's path grew (6.1.0 also searches ``alias``)."""
    newer = {(rtype, tuple(n for n, _, _ in s)): s for rtype, searches in SEARCHES.items() for s in searches}
    differ = {}
    for rtype, searches in spec.shall_searches("3.1.1").items():
        for search in searches:
            assert (rtype, tuple(n for n, _, _ in search)) in newer
            if search != newer[rtype, tuple(n for n, _, _ in search)]:
                differ[rtype] = [expression for _, _, expression in search]
    assert differ == {"Location": ["Location.name"], "Organization": ["Organization.name"]}


def test_values_at_follows_choices_unions_and_casts():
    assert spec.values_at(PULSE, "Observation.effective") == ["2024-01-15T09:00:00Z"]
    assert spec.values_at(PULSE, "Observation.subject.where(resolve() is Patient)") == [{"reference": "Patient/p1"}]
    location = {"resourceType": "Location", "name": "Main", "alias": ["Clinic"]}
    assert spec.values_at(location, "Location.name|Location.alias") == ["Main", "Clinic"]
    assert spec.values_at({"deceasedDateTime": "2020"}, "(Patient.deceased as dateTime)") == ["2020"]


@pytest.mark.parametrize(
    "prefix, query, value, expected",
    [
        ("eq", "2024-01-15", "2024-01-15T09:00:00Z", True),
        ("eq", "2024-01-15T09:00:00Z", "2024-01-15", False),
        ("ge", "2024-01-15", "2024-01-14T23:59:59Z", False),
        ("le", "2024-01-15", "2024-01-16", False),
        ("gt", "2024-01-14T09:00:00Z", "2024-01-15T09:00:00Z", True),
        ("gt", "2024-01-15", "2024-01-15T09:00:00Z", False),
        ("lt", "2024-01-15T04:00:00-05:00", "2024-01-15T08:59:59Z", True),
        ("lt", "2024-01-15T04:00:00-05:00", "2024-01-15T09:00:00Z", False),
        ("ge", "2030", {"start": "2020-01-01"}, True),
        ("le", "2019", {"start": "2020-01-01", "end": "2021"}, False),
    ],
)
def test_date_matching_follows_the_prefix_ranges(prefix, query, value, expected):
    assert spec.date_matches(prefix, query, value) is expected


def test_queries_cover_both_patient_forms_every_comparator_and_the_bare_code():
    system = f"{CATEGORY}|vital-signs"
    assert _queries("p1", PULSE, SEARCHES["Observation"][0]) == [
        [("patient", "p1"), ("category", system), ("date", "eq2024-01-15T09:00:00Z")],
        [("patient", "Patient/p1"), ("category", system), ("date", "eq2024-01-15T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "ge2024-01-15T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "le2024-01-15T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "gt2024-01-14T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "lt2024-01-16T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "ne2024-01-14T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "sa2024-01-14T09:00:00Z")],
        [("patient", "p1"), ("category", system), ("date", "eb2024-01-16T09:00:00Z")],
        [("patient", "p1"), ("category", "vital-signs"), ("date", "eq2024-01-15T09:00:00Z")],
    ]


# The patient's record: the pulse, a second pulse the same day, a laboratory result.
RECORD = [
    PULSE,
    {**PULSE, "id": "o4"},
    {**PULSE, "id": "o5", "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}]},
]


def _answering(*resources, status=200, next_link=False):
    bundle = {"entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}
    if next_link:
        bundle["link"] = [{"relation": "next", "url": "x"}]
    return lambda patient, rtype, pairs, method: (status, bundle)


def test_the_check_reports_a_wrong_match_a_missing_resource_paging_and_an_error():
    search = SEARCHES["Observation"][0]
    pairs = [("patient", "p1"), ("category", "vital-signs"), ("date", "ge2024-01-15")]
    lab = {**PULSE, "id": "o2", "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}]}
    other = {**PULSE, "id": "o3", "subject": {"reference": "Patient/p2"}, "effectiveDateTime": "2023-12-31"}
    where = "GET Observation?patient=p1&category=vital-signs&date=ge2024-01-15"
    both = (PULSE, RECORD[1])
    assert _check(_answering(*both), "p1", search, PULSE, RECORD, pairs, "GET") == []
    assert _check(_answering(lab, other), "p1", search, PULSE, RECORD, pairs, "GET") == [
        f"{where}: Observation/o2 does not match ['category']",
        f"{where}: Observation/o3 does not match ['patient', 'date']",
        f"{where}: Observation/o1 not found",
        f"{where}: also matching but missing ['o4']",
    ]
    assert _check(_answering(PULSE), "p1", search, PULSE, RECORD, pairs, "GET") == [
        f"{where}: also matching but missing ['o4']"
    ]
    assert _check(_answering(*both, next_link=True), "p1", search, PULSE, RECORD, pairs, "GET") == [f"{where}: paged"]
    assert _check(_answering(status=400), "p1", search, PULSE, RECORD, pairs, "GET") == [
        f"{where}: 400 {{'entry': []}}"
    ]
