"""schemathesis against /openapi.json: generated requests, valid and invalid, with and without credentials,
never get a 5xx and always get an answer the description allows (status, content type, headers, body schema).

Runs in-process through the WSGI app (no socket), on its own database, with bounded, derandomized examples.
"""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway import store
from gateway.health_links import sharing
from gateway.health_links.link import parse_link
from gateway.oauth.openapi import document
from gateway.records import portal_token
from gateway.web.sessions import COOKIE
from smart_auth import accounts, clients
from smart_auth.tokens import issue_access_token
from tests.enrollment_helpers import BASE, SECRET, build
from tests.web_helpers import portal_login

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CHECKS_WITHOUT_CREDENTIALS = [check for check in CHECKS if check is not negative_data_rejection]
MAX_EXAMPLES = 25
BODY_EXAMPLES = 50  # a body has more to get wrong: 25 missed the invite-row 500 that 50 finds
PHASES = [Phase.explicit, Phase.generate]  # no shrinking: a failure is reported as found, within the time box


class Credentials:
    """Valid credentials of each kind the description names, on a fresh database."""

    def __init__(self, app, db):
        self.practice = {
            "Authorization": f"Bearer {issue_access_token(db, 'ehr', 'system/Patient.cruds', None, practice_reach='*')}"
        }
        client, secret = clients.register_client(db, "Fuzz app", ["https://app.example/cb"], "confidential")
        self.basic = (client.client_id, secret)
        account = accounts.create_account(db, "fuzz@example.com", "Secret-Pass1", confirmed=True)
        accounts.link_account_to_chart(db, account["id"], 1)
        self.known_ids = self._known_ids(app.test_client())
        self.known_ids["manifest_id"] = health_link(db, account)
        browser = app.test_client()
        assert portal_login(browser, "fuzz@example.com").status_code == 302
        with browser.session_transaction() as session:
            session["csrf"] = session.get("csrf") or "fuzz-csrf-token"
            self.csrf = session["csrf"]
        self.cookies = {COOKIE: browser.get_cookie(COOKIE).value}

    def _known_ids(self, api):
        """Ids that exist, so that generated requests also reach the handlers' success paths."""
        made = api.post(
            "/practice/api/patients/pat-1/invites",
            headers=self.practice,
            json={"people": [{"relation": "parent", "email": "parent@example.com"}]},
        )
        people = api.get("/practice/api/patients/pat-1/enrollment", headers=self.practice).json["people"]
        return {
            "patient_uid": "pat-1",
            "invite_uid": made.json["invites"][0]["id"],
            "link_uid": next(p["link"] for p in people if p["link"]),
        }

    def for_operation(self, path):
        """(headers, cookies, transport kwargs) that reach the handler of ``path``."""
        if path.startswith("/practice/api/"):
            return self.practice, {}, {}
        if path.startswith("/portal/api/"):
            return {"X-CSRF-Token": self.csrf}, self.cookies, {}
        return {}, {}, {"auth": self.basic}


def health_link(db, account):
    """The manifest id of a SMART Health Link to the account's record (no passcode, so it never locks)."""
    record = accounts.linked_records(db, account["id"])[0]
    choices = {"label": "Fuzz", "content": "summary", "expiry": "week"}
    token = portal_token(account, record, db)
    shared = sharing.create_link(db, SECRET, account, token, record["patient_uid"], BASE, choices, int(time.time()))
    return parse_link(shared.text).url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def fuzz_app(make_app, module_db_path):
    path = module_db_path("fuzz")
    db = store.connect(path)
    build(db)
    app = make_app(path, SECRET_KEY=SECRET, TESTING=True, SHL_LIMIT=100_000)  # reach the handlers, not the limit
    return app, Credentials(app, db)


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app[0])


DOCUMENT = document({"BASE_URL": BASE})
# The operations, listed from the document itself (schemathesis leaves out the one that serves it).
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method != "parameters" and path != "/openapi.json"
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("label", OPERATIONS)
def test_answers_match_the_description_with_and_without_credentials(api_schema, fuzz_app, label, mode):
    operation = api_schema.find_operation_by_label(label)
    if mode is GenerationMode.NEGATIVE and not can_be_invalid(operation.path, operation.method):
        return  # any value is valid (a path id of any text, or no input): the valid run covered it
    headers, cookies, transport = fuzz_app[1].for_operation(operation.path)
    seen = []

    @given(case=strategy(operation, mode, fuzz_app[1].known_ids, headers=headers or None, cookies=cookies or None))
    @settings(
        max_examples=BODY_EXAMPLES if operation.body else MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=PHASES,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def call(case):
        seen.append(case.call_and_validate(checks=CHECKS, **transport).status_code)
        for name in headers:
            case.headers.pop(name, None)
        case.cookies = {}
        case.call_and_validate(checks=CHECKS_WITHOUT_CREDENTIALS)

    call()
    # The credentials work: generated requests got past authentication to the handlers.
    assert any(status != 401 for status in seen), seen


def strategy(operation, mode, known_ids, **credentials):
    """Generated cases with the credentials fixed (so invalid data never means "credentials left out"), at
    generated ids and at ids that exist, plus the description's own examples."""
    known = {name: value for name, value in known_ids.items() if "{" + name + "}" in operation.path}
    cases = operation.as_strategy(mode, **credentials)
    if known:
        cases |= operation.as_strategy(mode, path_parameters=known, **credentials)
    if known and mode is GenerationMode.POSITIVE:
        cases |= operation.as_strategy(mode, path_parameters=known, phase=TestPhase.EXAMPLES, **credentials)
    return cases


def can_be_invalid(path, method):
    """Whether the operation takes a body or a parameter constrained beyond "any string"."""
    item = DOCUMENT["paths"][path]
    parameters = item.get("parameters", []) + item[method.lower()].get("parameters", [])
    return "requestBody" in item[method.lower()] or any(p["schema"] != {"type": "string"} for p in parameters)
