"""The whole standalone launch as an app developer would run it: the real ``fhirclient`` SMART library
against a live server on loopback, a person logging in, picking a record and consenting in between."""

import pytest
import requests
from fhirclient import client
from fhirclient.models.condition import Condition
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient

from tests.browser.conftest import LiveServer

from .oauth_helpers import MARIA, PUBLIC, REDIRECT, csrf_of, form, record_id


@pytest.fixture(scope="module")
def live(oauth_db):
    with LiveServer(oauth_db[0]) as server:
        yield server


def _act_as_person(session, authorize_url, live):
    """What the person does in the browser: log in, pick Maria's own record, allow. Return the callback URL."""
    response = session.get(authorize_url, allow_redirects=False)
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
    login = session.get(live.url + response.headers["Location"])
    next_url = dict(form(login.text, "/portal/login")[0])["next"]
    response = session.post(
        f"{live.url}/portal/login",
        allow_redirects=False,
        data={"csrf_token": csrf_of(login.text), "email": MARIA[0], "password": MARIA[1], "next": next_url},
    )
    picker = session.get(live.url + response.headers["Location"])
    assert "Which record should Demo patient app see?" in picker.text
    hidden, _ = form(picker.text, "/oauth/authorize")
    maria = record_id(picker.text, "Maria")
    consent = session.get(f"{live.url}/oauth/authorize", params=hidden + [("record", maria)])
    assert "Allow Demo patient app to see your record?" in consent.text
    hidden, boxes = form(consent.text, "/oauth/authorize/decide")
    ticked = [(name, value) for name, value, checked in boxes if checked]
    response = session.post(
        f"{live.url}/oauth/authorize/decide", allow_redirects=False, data=hidden + ticked + [("decision", "allow")]
    )
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT)
    return response.headers["Location"]


def test_fhirclient_standalone_launch_reads_patient_conditions_and_observations(live, summary):
    smart = client.FHIRClient(
        settings={
            "app_id": PUBLIC,
            "api_base": live.url + "/fhir",
            "redirect_uri": REDIRECT,
            "scope": "openid fhirUser offline_access patient/*.rs",
        }
    )
    authorize_url = smart.authorize_url
    assert authorize_url.startswith(live.url + "/oauth/authorize?")
    callback = _act_as_person(requests.Session(), authorize_url, live)
    smart.handle_callback(callback)
    assert smart.ready and smart.patient_id == summary["patients"]["maria"]
    assert smart.server.auth.refresh_token

    patient = Patient.read(smart.patient_id, smart.server)
    assert patient.name[0].family == "Garcia"
    conditions = list(Condition.where(struct={"patient": smart.patient_id}).perform_resources_iter(smart.server))
    assert conditions and all(c.subject.reference == f"Patient/{smart.patient_id}" for c in conditions)
    labs = list(
        Observation.where(struct={"patient": smart.patient_id, "category": "laboratory"}).perform_resources_iter(
            smart.server
        )
    )
    assert labs and all(o.subject.reference == f"Patient/{smart.patient_id}" for o in labs)

    sofia = summary["patients"]["sofia"]
    with pytest.raises(Exception):
        Patient.read(sofia, smart.server)  # another linked record is not this token's
    smart.reauthorize()  # refresh with the rotated refresh token
    assert Patient.read(smart.patient_id, smart.server).id == smart.patient_id
