"""The console's Proxy access policy page: shown to and changed by the practice's administrators only, through a
confirmation page that says what changes today for whom, each change in the page's history (and CSRF-checked)."""

import html
import re

import orjson
import pytest

from fixtures.demo_practice import uid
from gateway import store
from gateway.store import accounts as account_store
from smart_auth import accounts
from tests.portal_helpers import bearer, csrf, portal_client

ADMIN = ("frontdesk@sunrisefamily.example.org", "Practice-Demo-1")  # the demo's first staff user: an administrator
SUNRISE = uid("practices", "sunrise")
PAGE = f"/practice/practices/{SUNRISE}/proxy-policy"
DEFAULT = (
    "Under 12: the whole record. From 12 to 17: the limited record, without reproductive health (pregnancy,"
    " contraception), mental health, sexual health (sexually transmitted infections, HIV), substance use (and notes"
    " marked confidential). At 18: access given in childhood ends."
)
WITHOUT_MENTAL_HEALTH = ["reproductive-health", "sexual-health", "substance-use"]


def staff_client(path, email, password):
    client = portal_client(path)
    token = csrf(client, "/practice/login")
    response = client.post("/practice/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return client, token


def text(response):
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def form(token, limited_from="12", ends_at="18", withheld=WITHOUT_MENTAL_HEALTH, **extra):
    return {"csrf_token": token, "limited_from": limited_from, "ends_at": ends_at, "withheld": withheld, **extra}


def test_an_administrator_sees_the_policy_and_a_link_to_it(fresh_demo_db_path):
    client, _ = staff_client(fresh_demo_db_path, *ADMIN)
    assert f'href="{PAGE}">Proxy access policy</a>' in client.get("/practice/").get_data(as_text=True)
    page = text(client.get(PAGE))
    assert f'<p id="policy-now">{DEFAULT}</p>' in page
    assert "The policy has not been changed here: the defaults apply." in page


def test_a_change_is_confirmed_with_what_changes_for_whom_then_saved_and_logged(fresh_demo_db_path):
    client, token = staff_client(fresh_demo_db_path, *ADMIN)
    review = text(client.post(PAGE, data=form(token)))
    assert "<h1>Change the proxy access policy?</h1>" in review
    assert '<ul id="changes"><li>1 parent will start seeing mental health items of 1 teenager.</li></ul>' in review
    db = store.connect(fresh_demo_db_path)
    assert account_store.proxy_policy(db, 1) is None  # nothing saved before the confirmation
    done = client.post(PAGE, data=form(token, confirm="yes"))
    assert (done.status_code, done.headers["Location"]) == (302, PAGE)
    page = text(client.get(PAGE))
    now = DEFAULT.replace("mental health, ", "")
    assert f'<p id="policy-now">{now}</p>' in page
    assert "The proxy access policy is changed. 1 parent will start seeing mental health items of 1 teenager." in page
    assert (
        f"<td>staff {ADMIN[0]}</td><td>Was: {DEFAULT} Now: {now} 1 parent will start seeing mental health items of 1"
        " teenager.</td>"
    ) in page
    # Camila's mother's app now sees the anxiety diagnosis; the pill is still left out.
    ana = account_store.account_by_email(db, "ana.reyes@example.com")
    teen = uid("patients", "camila")
    found = orjson.loads(
        portal_client(fresh_demo_db_path)
        .get(f"/fhir/Patient/{teen}/$everything?_count=500", headers=bearer(db, teen, subject=ana["uid"]))
        .data
    )
    words = {
        (e["resource"].get("code") or e["resource"].get("medicationCodeableConcept") or {}).get("text")
        for e in found["entry"]
    }
    assert ("Generalized anxiety disorder" in words, "norethindrone 0.35 MG Oral Tablet" in words) == (True, False)


def test_no_change_for_anyone_today_is_said(fresh_demo_db_path):
    client, token = staff_client(fresh_demo_db_path, *ADMIN)
    review = text(client.post(PAGE, data=form(token, ends_at="19", withheld=[*WITHOUT_MENTAL_HEALTH, "mental-health"])))
    assert (
        '<p id="changes">Nobody\'s access changes today; the new policy applies to each child as they reach its'
        " ages.</p>"
    ) in review


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"limited_from": "twelve"}, "The limited record's first age must be a whole number from 0 to 21."),
        ({"ends_at": "40"}, "The age access ends must be a whole number from 0 to 21."),
        ({"limited_from": "16", "ends_at": "14"}, "The limited record must begin before access ends."),
        ({"withheld": ["politics"]}, "Choose categories from the list."),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(fresh_demo_db_path, fields, error):
    client, token = staff_client(fresh_demo_db_path, *ADMIN)
    response = client.post(PAGE, data={**form(token, confirm="yes"), **fields})
    assert (response.status_code, f"<li>{error}</li>" in text(response)) == (400, True)
    assert account_store.proxy_policy(store.connect(fresh_demo_db_path), 1) is None


def test_attackers_cannot_see_or_change_the_policy(fresh_demo_db_path):
    db = store.connect(fresh_demo_db_path)
    accounts.create_staff(db, "nurse@sunrisefamily.example.org", "Nurse-Pass-1", "Nurse", 1)
    accounts.create_staff(db, "admin@lakesideclinic.example.org", "Lakeside-Admin-1", "Admin", 2, is_admin=True)
    nurse, nurse_token = staff_client(fresh_demo_db_path, "nurse@sunrisefamily.example.org", "Nurse-Pass-1")
    other, other_token = staff_client(fresh_demo_db_path, "admin@lakesideclinic.example.org", "Lakeside-Admin-1")
    assert nurse.get(PAGE).status_code == 403
    assert nurse.post(PAGE, data=form(nurse_token, confirm="yes")).status_code == 403
    assert "Proxy access policy" not in nurse.get("/practice/").get_data(as_text=True)
    assert other.get(PAGE).status_code == 404
    assert other.post(PAGE, data=form(other_token, confirm="yes")).status_code == 404
    admin, _ = staff_client(fresh_demo_db_path, *ADMIN)
    forged = admin.post(PAGE, data={k: v for k, v in form("", confirm="yes").items() if k != "csrf_token"})
    assert forged.status_code == 400
    assert account_store.proxy_policy(db, 1) is None


def test_staff_add_admin_makes_a_practice_administrator(runner, fresh_demo_db_path):
    from gateway.cli import cli

    args = ["staff", "add", "--db", fresh_demo_db_path, "--practice", SUNRISE, "--name", "Office manager"]
    made = runner.invoke(
        cli, [*args, "--email", "manager@sunrisefamily.example.org", "--password", "Manager-Pass-1", "--admin"]
    )
    plain = runner.invoke(cli, [*args, "--email", "clerk@sunrisefamily.example.org", "--password", "Clerk-Pass-12"])
    assert (made.output, plain.output) == (
        "Staff user manager@sunrisefamily.example.org added to Sunrise Family Medicine as a practice administrator\n",
        "Staff user clerk@sunrisefamily.example.org added to Sunrise Family Medicine\n",
    )
    db = store.connect(fresh_demo_db_path)
    everyone = db.execute("SELECT email, is_admin FROM staff_users ORDER BY id").fetchall()
    admins = [(email, is_admin) for email, is_admin in everyone if "sunrise" in email]
    assert [tuple(r) for r in admins] == [
        ("frontdesk@sunrisefamily.example.org", 1),
        ("manager@sunrisefamily.example.org", 1),
        ("clerk@sunrisefamily.example.org", 0),
    ]
