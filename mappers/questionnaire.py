"""A ``questionnaires`` row (a screening form the gateway's screenings answer) -> Questionnaire.

A definitions table, not chart rows: one row per form (mappers.questionnaire_forms holds its questions), the same
for every practice and patient. Its ``url`` is LOINC's canonical for the panel, ``http://loinc.org/q/<panel>``
(LOINC's FHIR server publishes its forms under it), which is what each QuestionnaireResponse's ``questionnaire``
names, so a client resolves the canonical with ``Questionnaire?url=``. The items are the gateway's rendition of
LOINC's form, linkId ``/<question LOINC>`` as US Core 6.1.0's example Questionnaires (and LHC-Forms) name them, so
a response's linkIds are found in the form it cites.
"""

from . import codes
from ._common import BASE_PROFILE, ResourceType, Words, base_param, coding, compact
from .questionnaire_forms import ANSWERS, FORMS
from .screening import INSTRUMENTS

COPYRIGHT = (
    "This content from LOINC® is copyright © Regenstrief Institute, Inc. and the LOINC Committee, "
    "and available at no cost under the license at https://loinc.org/license/"
)


def to_fhir(row, ctx):
    """Return the Questionnaire of one ``questionnaires`` row, or None for a form the gateway has no items for."""
    panel = row["instrument_loinc"]
    if panel not in FORMS or panel not in INSTRUMENTS:
        return None
    found = INSTRUMENTS[panel]
    return compact(
        {
            "resourceType": "Questionnaire",
            "id": row["uid"],
            "url": codes.LOINC_QUESTIONNAIRE + panel,
            # A computable name (R4 Questionnaire.name: no spaces or punctuation).
            "name": "".join(ch for ch in found.short if ch.isalnum()),
            "title": found.display,
            "status": "active",
            "subjectType": ["Patient"],
            "code": [coding(codes.LOINC, panel, found.display)],
            "copyright": COPYRIGHT,
            "item": [item(*question) for question in FORMS[panel][1]],
        }
    )


def item(code, kind, text, answers):
    """One question: its LOINC code as linkId and code, its type, and its LOINC answers as answerOptions."""
    return {
        "linkId": "/" + code,
        "code": [coding(codes.LOINC, code, text)],
        "text": text,
        "type": kind,
        "answerOption": [{"valueCoding": coding(codes.LOINC, answer, ANSWERS[answer])} for answer in answers],
    }


RESOURCE = ResourceType(
    name="Questionnaire",
    table="questionnaires",
    to_fhir=to_fhir,
    # No US Core profile (US Core 6.1.0 profiles only the response); the base definition, which meta does not claim.
    profiles=(BASE_PROFILE + "Questionnaire",),
    search_params=(
        base_param("Questionnaire-url", "url", "uri", "url"),
        base_param("Questionnaire-code", "code", "token", "code"),
        base_param("Questionnaire-status", "status", "token", "status"),
    ),
    compartment=False,
    definitional=True,
    words=Words("Questionnaire forms", "the questions of the screening forms you answered"),
)
