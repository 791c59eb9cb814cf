"""Consent choices in plain words, the granted scope they produce, and the portal's grants API."""

import pytest

from smart_auth import consent, scope_words
from smart_auth.scope_words import describe

from .oauth_helpers import KEALA, bearer, query
from .observation_kinds import add_observations

PROBLEMS = "patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
CONCERNS = "patient/Condition.rs?category=http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern"
LAB = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
VITALS = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"


@pytest.mark.parametrize(
    "requested, grantable",
    [
        ("user/*.rs patient/*.read", ["patient/*.rs", "patient/*.read"]),
        ("user/Condition.read patient/Condition.read", ["patient/Condition.read"]),
        ("system/*.rs openid", ["openid"]),
        ("launch/patient openid fhirUser", ["launch/patient", "openid", "fhirUser"]),
    ],
)
def test_user_scopes_become_the_records_patient_scopes_and_system_scopes_are_dropped(requested, grantable):
    assert consent.grantable(requested) == grantable


def test_offered_choices_in_words():
    choices = consent.offered("launch/patient openid fhirUser offline_access patient/Condition.rs patient/Patient.read")
    by_value = {c.value: c for c in choices}
    assert by_value["launch/patient"].fixed and by_value["openid"].fixed
    assert by_value["offline_access"].label.startswith("Keep access when you are not using the app")
    assert by_value["patient/Condition.rs"].label == "Health problems"
    assert "read and search" in by_value["patient/Condition.rs"].detail
    assert [c.label for c in by_value["patient/Condition.rs"].children] == [
        "Problem list",
        "Diagnoses made at visits",
        "Health concerns",
    ]
    assert by_value["patient/Patient.read"].children == ()


def test_the_profile_scope_says_the_app_learns_nothing_from_it():
    """The id_token carries no name claims (smart_auth.endpoints: sub and fhirUser only), so ``profile``, which
    SMART v1 apps still ask for, must not promise the app a name."""
    (choice,) = consent.offered("profile")
    assert choice.fixed and choice.label == "Nothing more: older apps ask for this, and it tells the app nothing"


def test_a_representative_is_not_offered_fhir_user():
    values = [c.value for c in consent.offered("openid fhirUser patient/*.rs", representative=True)]
    assert "fhirUser" not in values
    assert consent.withheld("openid fhirUser", representative=True)[0][0] == "fhirUser"


@pytest.mark.parametrize(
    "ticked, granted",
    [
        (["patient/Condition.rs", "patient/Patient.rs"], "openid patient/Condition.rs patient/Patient.rs"),
        ([PROBLEMS, "patient/Patient.rs"], f"openid {PROBLEMS} patient/Patient.rs"),
        (["patient/Condition.rs", PROBLEMS], f"openid {PROBLEMS}"),  # a kind ticked narrows the type
        (["patient/Condition.rs", PROBLEMS, CONCERNS], f"openid {PROBLEMS} {CONCERNS}"),
        ([], "openid"),
        (["patient/Observation.rs", "system/*.rs"], "openid"),  # only what was offered
    ],
)
def test_granted_from_ticks(ticked, granted):
    choices = consent.offered("openid patient/Condition.rs patient/Patient.rs")
    assert consent.granted(choices, ticked) == granted


def test_v1_read_offers_v2_granular_alternatives():
    [choice] = consent.offered("patient/Observation.read")
    assert choice.children[0].value.startswith("patient/Observation.rs?category=")


def test_grants_api_lists_and_revokes(flow):
    body = flow.tokens(who=KEALA, patient="Keala")
    grants = flow.client.get("/portal/api/grants").get_json()["grants"]
    [grant] = [g for g in grants if g["patient"] == body["patient"]]
    assert grant["app"] == "Demo patient app" and grant["scope"] == body["scope"]
    assert grant["person"] == "Keala Kahale"
    with flow.client.session_transaction() as session:
        token = session["csrf"]
    assert flow.client.delete(f"/portal/api/grants/{grant['id']}").status_code == 400  # CSRF token needed
    response = flow.client.delete(f"/portal/api/grants/{grant['id']}", headers={"X-CSRF-Token": token})
    assert response.status_code == 204
    assert flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 401
    again = flow.client.delete(f"/portal/api/grants/{grant['id']}", headers={"X-CSRF-Token": token})
    assert again.status_code == 404


def test_grants_api_needs_a_login(web):
    assert web.get("/portal/api/grants").status_code == 401


@pytest.mark.parametrize(
    "ticked, granted",
    [
        (["patient/Observation.rs", LAB], LAB),  # the finding: "Results" left ticked, "Lab results" ticked
        ([LAB], LAB),
        (["patient/Observation.rs", LAB, VITALS], f"{LAB} {VITALS}"),
        (["patient/Observation.rs"], "patient/Observation.rs"),  # nothing narrower ticked: every kind, as the page says
        ([], ""),
    ],
)
def test_ticking_a_kind_of_result_grants_only_the_kinds_ticked(ticked, granted):
    choices = consent.offered("patient/Observation.rs")
    assert consent.granted(choices, ticked) == granted


@pytest.mark.parametrize(
    "requested, ticked, granted",
    [
        # The app asked for lab results only: a form that also sends the whole type or another kind gets lab only.
        (LAB, ["patient/Observation.rs", LAB, VITALS], LAB),
        (LAB, ["patient/Observation.rs", VITALS], ""),
        # The app asked to read (not search): the kinds offered read only, so a forged search kind is dropped.
        ("patient/Observation.r", [LAB], ""),
        ("patient/Observation.r", ["patient/Observation.r", LAB.replace(".rs?", ".r?")], LAB.replace(".rs?", ".r?")),
    ],
)
def test_never_more_than_the_app_asked_nor_the_person_ticked(requested, ticked, granted):
    assert consent.granted(consent.offered(requested), ticked) == granted


def test_a_narrow_request_is_offered_as_only_that_kind():
    [choice] = consent.offered(LAB)
    assert (choice.label, choice.detail, choice.children) == (
        "Results",
        "of these kinds only: lab results (read and search)",
        (),
    )


def test_ticking_lab_results_with_results_still_ticked_gives_a_token_for_lab_results_only(flow, oauth_db):
    flow.login(KEALA)
    page = flow.authorize(scope="launch/patient openid patient/Observation.rs").get_data(as_text=True)
    response = flow.decide(page, tick=[LAB])
    body = flow.exchange(query(response.headers["Location"])["code"]).get_json()
    assert body["scope"] == f"launch/patient openid {LAB}"
    add_observations(oauth_db[0], body["patient"])
    headers = bearer(body["access_token"])
    vitals = flow.client.get(f"/fhir/Observation?patient={body['patient']}&category=vital-signs", headers=headers)
    assert vitals.status_code == 200 and vitals.get_json().get("entry", []) == []
    every = flow.client.get(f"/fhir/Observation?patient={body['patient']}", headers=headers).get_json()
    kinds = {c["code"] for e in every["entry"] for cat in e["resource"]["category"] for c in cat["coding"]}
    assert kinds == {"laboratory"}


@pytest.mark.parametrize("requested", ["patient/Observation.rs", "patient/Condition.rs"])
def test_the_consent_page_and_connected_apps_use_the_same_words(requested):
    [choice] = consent.offered(requested)
    kind = choice.label.lower()
    assert choice.detail.startswith("of all kinds: ")
    assert describe(requested) == [f"See {kind} {choice.detail.removesuffix(' (read and search)')}"]
    for child in choice.children:
        assert describe(child.value) == [f"See {kind} of these kinds only: {child.label.lower()}"]


def test_type_words_and_kinds_come_from_the_registry():
    assert scope_words.words_of("Condition") == ("Health problems", "conditions and diagnoses")
    assert scope_words.words_of("*")[0] == "Everything in the record"
    assert scope_words.words_of("Encounter") == ("Visits", "your visits to the practice: when, with whom and why")
    assert scope_words.words_of("Provenance") == (
        "Record history",
        "who wrote each record and which practice sent it",
    )
    assert scope_words.words_of("ServiceRequest") == (
        "Orders and referrals",
        "tests, procedures and referrals your providers ordered",
    )
    assert scope_words.words_of("Specimen") == ("Specimens", "the samples your lab tests were run on")
    assert scope_words.words_of("NutritionOrder") == ("NutritionOrder", "")  # a type the gateway does not serve
    assert [words for _, _, words in scope_words.kinds_of("Condition")] == [
        "Problem list",
        "Diagnoses made at visits",
        "Health concerns",
    ]
    assert scope_words.kinds_of("Patient") == scope_words.kinds_of("Encounter") == []
