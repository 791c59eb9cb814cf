"""The screening forms as Questionnaire resources: LOINC's canonical as url (what a QuestionnaireResponse's
``questionnaire`` names), one item per question with its LOINC code as linkId and code, LOINC answer codes as
answerOptions, valid R4B; and every form the screening catalog names has one."""

import pytest

from mappers import REGISTRY
from mappers.questionnaire import to_fhir
from mappers.questionnaire_forms import FORMS
from mappers.screening import INSTRUMENTS

LOINC = "http://loinc.org"


def form_row(uid, instrument):
    """A ``questionnaires`` row as the store reads it (the migration seeds the table, so no fresh row is free)."""
    return {"id": 1, "uid": uid, "instrument_loinc": instrument, "updated_at": None}


def test_the_gad_7_form(validate):
    row = form_row("gad-7", "69737-5")
    resource = validate(to_fhir(row, {}))
    assert {k: v for k, v in resource.items() if k != "item"} == {
        "resourceType": "Questionnaire",
        "id": "gad-7",
        "url": "http://loinc.org/q/69737-5",
        "name": "GAD7",
        "title": "Generalized anxiety disorder 7 item (GAD-7)",
        "status": "active",
        "subjectType": ["Patient"],
        "code": [{"system": LOINC, "code": "69737-5", "display": "Generalized anxiety disorder 7 item (GAD-7)"}],
        "copyright": "This content from LOINC® is copyright © Regenstrief Institute, Inc. and the LOINC Committee, "
        "and available at no cost under the license at https://loinc.org/license/",
    }
    assert resource["item"][0] == {
        "linkId": "/69725-0",
        "code": [{"system": LOINC, "code": "69725-0", "display": "Feeling nervous, anxious or on edge"}],
        "text": "Feeling nervous, anxious or on edge",
        "type": "choice",
        "answerOption": [
            {"valueCoding": {"system": LOINC, "code": "LA6568-5", "display": "Not at all"}},
            {"valueCoding": {"system": LOINC, "code": "LA6569-3", "display": "Several days"}},
            {"valueCoding": {"system": LOINC, "code": "LA6570-1", "display": "More than half the days"}},
            {"valueCoding": {"system": LOINC, "code": "LA6571-9", "display": "Nearly every day"}},
        ],
    }
    assert resource["item"][7] == {
        "linkId": "/70274-6",
        "code": [
            {"system": LOINC, "code": "70274-6", "display": "Generalized anxiety disorder 7 item (GAD-7) total score"}
        ],
        "text": "Generalized anxiety disorder 7 item (GAD-7) total score",
        "type": "integer",
    }
    assert [i["linkId"] for i in resource["item"]] == [
        "/69725-0",
        "/68509-9",
        "/69733-4",
        "/69734-2",
        "/69735-9",
        "/69689-8",
        "/69736-7",
        "/70274-6",
        "/69726-8",
    ]


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
def test_every_instrument_of_the_catalog_has_a_valid_form(validate, instrument):
    form_id, questions = FORMS[instrument]
    row = form_row(form_id, instrument)
    resource = validate(to_fhir(row, {}))
    assert resource["url"] == "http://loinc.org/q/" + instrument
    assert len(resource["item"]) == len(questions)
    # A total score question is the instrument's own score code, asked as an integer (the response answers
    # valueInteger).
    score = INSTRUMENTS[instrument].score_loinc
    if score:
        assert [i["type"] for i in resource["item"] if i["linkId"] == "/" + score] == ["integer"]


def test_a_form_the_gateway_does_not_know_is_not_served():
    row = form_row("x", "99999-9")
    assert to_fhir(row, {}) is None


def test_the_type_is_definitional_and_searched_by_url():
    rt = REGISTRY["Questionnaire"]
    assert (rt.table, rt.compartment, rt.definitional) == ("questionnaires", False, True)
    assert [(p.name, p.type, p.paths) for p in rt.search_params] == [
        ("url", "uri", ("url",)),
        ("code", "token", ("code",)),
        ("status", "token", ("status",)),
    ]
