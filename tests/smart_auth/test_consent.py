"""Consent choices in plain words, the granted scope they produce, and the portal's grants API."""
import pytest

from smart_auth import consent

from .oauth_helpers import KEALA, bearer

PROBLEMS = "patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"


@pytest.mark.parametrize("requested, grantable", [
    ("user/*.rs patient/*.read", ["patient/*.rs", "patient/*.read"]),
    ("user/Condition.read patient/Condition.read", ["patient/Condition.read"]),
    ("system/*.rs openid", ["openid"]),
    ("launch/patient openid fhirUser", ["launch/patient", "openid", "fhirUser"]),
])
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
        "Problem list", "Diagnoses made at visits", "Health concerns"]
    assert by_value["patient/Patient.read"].children == ()


def test_a_representative_is_not_offered_fhir_user():
    values = [c.value for c in consent.offered("openid fhirUser patient/*.rs", representative=True)]
    assert "fhirUser" not in values
    assert consent.withheld("openid fhirUser", representative=True)[0][0] == "fhirUser"


@pytest.mark.parametrize("ticked, granted", [
    (["patient/Condition.rs", "patient/Patient.rs"], "openid patient/Condition.rs patient/Patient.rs"),
    ([PROBLEMS, "patient/Patient.rs"], f"openid {PROBLEMS} patient/Patient.rs"),
    (["patient/Condition.rs", PROBLEMS], "openid patient/Condition.rs"),      # the whole type covers its parts
    ([], "openid"),
    (["patient/Observation.rs", "system/*.rs"], "openid"),                  # only what was offered
])
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
