"""The lean front answers hot GETs exactly as the Flask routes would, and hands everything else to them."""

import pytest
from werkzeug.test import Client

from gateway.fhir.front import FhirFront
from gateway.oauth.token_front import TokenFront

FHIR = "/fhir"
HOT = [
    "/Patient/pat-1",
    "/Condition?patient=pat-1",
    "/Condition?patient=Patient/pat-1&clinical-status=active&_count=1",
    "/Observation?patient=pat-1&category=laboratory&_elements=code",
    "/Observation?patient=pat-1&bogus=1",
    "/MedicationRequest?patient=pat-1&_include=MedicationRequest:requester",
    "/Patient/pat-1/$everything",
    "/Patient/pat-1/$everything?_type=Condition,Observation&start=2020",
    "/Practitioner/prac-1",
    "/Patient?name=Garc%C3%ADa",
]
FALLBACK = [  # answered by Flask after the front declines or its handler raises
    "/Patient?name=%ZZ&gender=",
    "/Patient/pat-2",
    "/Patient/nobody",
    "/Nonsense/1",
    "/Condition?onset-date=notadate",
    "/Patient/pat-1?_format=xml",
    "/Patient/pat-1/$summary",
    "/Patient/pat-1/_history",
    "/metadata",
]
SAME = HOT + FALLBACK


@pytest.fixture
def both(make_app, chart_db_path):
    app = make_app(chart_db_path)
    assert isinstance(app.wsgi_app, TokenFront) and isinstance(app.wsgi_app.app, FhirFront)  # token's, then FHIR's
    flask_only = make_app(chart_db_path)
    flask_only.wsgi_app = flask_only.wsgi_app.app.app
    return Client(app), Client(flask_only)


@pytest.mark.parametrize("path", SAME)
def test_front_and_flask_answer_alike(both, chart_auth, path):
    front, flask_only = both
    headers = chart_auth("patient/*.rs", "pat-1")
    a, b = front.get(FHIR + path, headers=headers), flask_only.get(FHIR + path, headers=headers)
    assert a.status_code == b.status_code
    assert sorted(a.headers.items()) == sorted(b.headers.items())
    if "$summary" not in path:  # the IPS document is stamped with the time it was made
        assert a.data == b.data


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}])
def test_bad_tokens_get_flasks_401(both, headers):
    front, _ = both
    response = front.get(f"{FHIR}/Patient/pat-1", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json(force=True)["resourceType"] == "OperationOutcome"


def test_conditional_read_and_post_search_go_to_flask(both, chart_auth):
    front, _ = both
    headers = chart_auth("patient/*.rs", "pat-1")
    etag = front.get(f"{FHIR}/Patient/pat-1", headers=headers).headers["ETag"]
    assert front.get(f"{FHIR}/Patient/pat-1", headers={**headers, "If-None-Match": etag}).status_code == 304
    posted = front.post(f"{FHIR}/Condition/_search", data={"patient": "pat-1"}, headers=headers)
    assert posted.status_code == 200 and posted.get_json(force=True)["total"] >= 1


def test_each_answer_is_logged_once(both, chart_auth, chart_db_path):
    from gateway import store

    front, _ = both
    headers = chart_auth("patient/*.rs", "pat-1")
    conn = store.connect(chart_db_path)
    before = conn.execute("SELECT count(*) FROM disclosures").fetchone()[0]
    assert front.get(f"{FHIR}/Condition?patient=pat-1", headers=headers).status_code == 200
    assert front.get(f"{FHIR}/Patient/nobody", headers=headers).status_code == 404
    assert conn.execute("SELECT count(*) FROM disclosures").fetchone()[0] == before + 1
    assert conn.execute("SELECT kind, what FROM disclosures ORDER BY id DESC").fetchone() == ("read", "Condition")


@pytest.mark.parametrize("path", HOT)
def test_hot_gets_never_reach_flask(make_app, chart_db_path, chart_auth, path):
    app = make_app(chart_db_path)

    def flask_must_not_run(environ, start_response):
        raise AssertionError(f"Flask answered {environ['PATH_INFO']}")

    front = Client(FhirFront(flask_must_not_run, app.config))
    response = front.get(FHIR + path, headers=chart_auth("patient/*.rs", "pat-1"))
    assert response.status_code == 200
