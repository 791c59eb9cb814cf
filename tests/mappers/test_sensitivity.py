"""The one table of sensitive categories: every code system the charts use says which category an item is in."""

import pytest

from mappers import sensitivity
from mappers.sensitivity import ICD10CM, LOINC, RXNORM, SNOMED, categories_of


def condition(*codings):
    return {"resourceType": "Condition", "code": {"coding": [{"system": s, "code": c} for s, c in codings]}}


def drug(name, code=None):
    coding = [{"system": RXNORM, "code": code, "display": name}] if code else []
    return {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"coding": coding, "text": name}}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (condition((ICD10CM, "F32.A")), ("mental-health",)),
        (condition((ICD10CM, "F11.20")), ("substance-use",)),  # opioid dependence: F10-F19, not F1 "mental"
        (condition((ICD10CM, "Z30.011")), ("reproductive-health",)),
        (condition((ICD10CM, "A56.01")), ("sexual-health",)),
        (condition((ICD10CM, "J45.909")), ()),
        # SNOMED CT only: no ICD-10-CM code beside it.
        (condition((SNOMED, "35489007")), ("mental-health",)),  # depressive disorder
        (condition((SNOMED, "21897009")), ("mental-health",)),  # generalized anxiety disorder
        (condition((SNOMED, "86406008")), ("sexual-health",)),  # HIV infection
        (condition((SNOMED, "66214007")), ("substance-use",)),  # substance abuse
        (condition((SNOMED, "77386006")), ("reproductive-health",)),  # pregnancy
        (condition((SNOMED, "195967001")), ()),  # asthma
        (condition((SNOMED, "3548900")), ()),  # a prefix of a listed concept is another concept
        # RxNorm by ingredient: any strength and form, by the RXCUI or the normalized name.
        (drug("sertraline 100 MG Oral Tablet", "312938"), ("mental-health",)),
        (drug("norethindrone 0.35 MG Oral Tablet"), ("reproductive-health",)),
        (drug("Ethinyl Estradiol / Levonorgestrel", "214558"), ("reproductive-health",)),
        (drug("buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet"), ("substance-use",)),
        (drug("emtricitabine 200 MG / tenofovir disoproxil fumarate 300 MG Oral Tablet"), ("sexual-health",)),
        (drug("quetiapine 25 MG Oral Tablet"), ("mental-health",)),
        (drug("ingredient x", "4493"), ("mental-health",)),  # fluoxetine's RXCUI
        (drug("lisinopril 10 MG Oral Tablet", "314076"), ()),
        (drug("methylphenidate hydrochloride 20 MG Oral Tablet", "1091392"), ()),  # a stimulant: not listed
    ],
)
def test_each_code_system_names_the_category(resource, expected):
    assert categories_of(resource) == expected


def test_phq9_gad7_screenings_and_their_questions_are_mental_health():
    panel = {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": "44249-1"}]}}
    question = {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": "44260-8"}]}}
    gad7 = {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": "70274-6"}]}}
    answers = {"resourceType": "QuestionnaireResponse", "questionnaire": "http://loinc.org/q/69737-5|2.0"}
    hrsn = {"resourceType": "QuestionnaireResponse", "questionnaire": "http://loinc.org/q/96777-8"}
    assert [categories_of(r) for r in (panel, question, gad7, answers, hrsn)] == [
        ("mental-health",),
        ("mental-health",),
        ("mental-health",),
        ("mental-health",),
        (),
    ]


def test_a_clinicians_confidential_marking_is_its_own_category():
    note = {
        "resourceType": "DocumentReference",
        "meta": {"security": [{"system": sensitivity.CONFIDENTIALITY, "code": "R"}]},
        "type": {"coding": [{"system": LOINC, "code": "11506-3"}]},
    }
    assert categories_of(note) == ("confidential",)
    normal = {**note, "meta": {"security": [{"system": sensitivity.CONFIDENTIALITY, "code": "N"}]}}
    assert categories_of(normal) == ()


def test_codes_anywhere_count_but_only_in_their_own_system():
    visit = {"resourceType": "Encounter", "reasonCode": [{"coding": [{"system": ICD10CM, "code": "F41.1"}]}]}
    assert categories_of(visit) == ("mental-health",)
    # 2106-3 is a pregnancy test in LOINC and "White" in the CDC race code system.
    race = {
        "resourceType": "Observation",
        "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3"},
    }
    assert categories_of(race) == ()
    both = condition((ICD10CM, "F11.20"), (SNOMED, "35489007"))
    assert categories_of(both) == ("mental-health", "substance-use")


def test_who_the_patient_is_and_who_cares_for_them_is_never_withheld():
    patient = {"resourceType": "Patient", "extension": [{"valueCoding": {"system": SNOMED, "code": "35489007"}}]}
    assert categories_of(patient) == ()


def test_every_category_has_words_and_an_act_code():
    assert {name: row[1] for name, row in sensitivity.TABLE.items()} == {
        "reproductive-health": "SEX",
        "mental-health": "PSY",
        "sexual-health": "STD",
        "substance-use": "ETH",
        "confidential": "R",
    }
    assert all(words for words in sensitivity.CATEGORIES.values())
