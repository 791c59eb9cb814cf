"""Check-in reconciliation: what a link brings beside the chart, matched by code, then by words; the new marked."""

from gateway.practice.reconcile import compare, person
from mappers.codes import CVX, ICD10CM, RXNORM, SNOMED


def concept(text, system=None, code=None):
    return {"text": text, "coding": [{"system": system, "code": code}] if system else []}


CHART = [
    {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "medicationCodeableConcept": concept("Lisinopril 10 MG Oral Tablet", RXNORM, "314076"),
    },
    {"resourceType": "Condition", "id": "c1", "code": concept("Type 2 diabetes", ICD10CM, "E11.9")},
    {"resourceType": "AllergyIntolerance", "id": "a1", "code": concept("Penicillin")},
    {
        "resourceType": "Immunization",
        "id": "i1",
        "occurrenceDateTime": "2023-10-01",
        "vaccineCode": concept("Influenza", CVX, "141"),
    },
]


def names(items):
    return [(i.name, i.new, i.matched_by) for i in items]


def test_items_match_by_code_then_by_words_and_the_rest_are_new():
    brought = [
        {
            "resourceType": "MedicationStatement",
            "id": "x1",
            "status": "active",
            "medicationCodeableConcept": concept("lisinopril 10mg tab", RXNORM, "314076"),
        },
        {
            "resourceType": "MedicationStatement",
            "id": "x2",
            "status": "active",
            "medicationReference": {"reference": "Medication/med9"},
        },
        {"resourceType": "Medication", "id": "med9", "code": concept("Atorvastatin 20 MG", RXNORM, "617310")},
        {"resourceType": "Condition", "id": "x3", "code": concept("Diabetes mellitus type 2", ICD10CM, "E11.9")},
        {"resourceType": "Condition", "id": "x4", "code": concept("Asthma", SNOMED, "195967001")},
        {"resourceType": "AllergyIntolerance", "id": "x5", "code": concept("PENICILLIN", SNOMED, "91936005")},
        {
            "resourceType": "Immunization",
            "id": "x6",
            "occurrenceDateTime": "2023-10-01",
            "vaccineCode": concept("Flu", CVX, "141"),
        },
        {
            "resourceType": "Immunization",
            "id": "x7",
            "occurrenceDateTime": "2024-10-03",
            "vaccineCode": concept("Flu", CVX, "141"),
        },
    ]
    compared = {kind.slug: (ours, theirs) for kind, ours, theirs in compare(CHART, brought)}
    assert names(compared["medications"][1]) == [
        ("lisinopril 10mg tab", False, "code"),
        ("Atorvastatin 20 MG", True, ""),
    ]
    assert names(compared["problems"][1]) == [("Diabetes mellitus type 2", False, "code"), ("Asthma", True, "")]
    assert names(compared["allergies"][1]) == [("PENICILLIN", False, "words")]
    assert names(compared["immunizations"][1]) == [("Flu", False, "code"), ("Flu", True, "")]
    assert [i.detail for i in compared["immunizations"][1]] == ["given 2023-10-01", "given 2024-10-03"]
    assert names(compared["medications"][0]) == [("Lisinopril 10 MG Oral Tablet", False, "")]


def test_the_chart_lists_a_medication_once_though_it_is_an_order_and_a_statement():
    statement = dict(CHART[0], resourceType="MedicationStatement", id="m1s")
    compared = compare([*CHART, statement], [])
    assert names(compared[0][1]) == [("Lisinopril 10 MG Oral Tablet", False, "")]


def test_nothing_brought_compares_to_empty_lists():
    assert [(k.slug, len(o), t) for k, o, t in compare(CHART, [])] == [
        ("medications", 1, []),
        ("allergies", 1, []),
        ("problems", 1, []),
        ("immunizations", 1, []),
    ]


def test_whom_the_link_is_about_and_whether_the_birth_date_matches_the_chart():
    patient = {
        "resourceType": "Patient",
        "name": [{"given": ["Maria", "L"], "family": "Garcia"}],
        "birthDate": "1968-03-14",
    }
    assert person([patient], "1968-03-14") == ("Maria L Garcia", "1968-03-14", True)
    assert person([patient], "1970-01-01") == ("Maria L Garcia", "1968-03-14", False)
    assert person(CHART, "1968-03-14") is None
