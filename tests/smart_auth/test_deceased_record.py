"""A deceased patient's record, seen by their guardian: the app picker and the consent page say plainly that the
patient has died, and the representative may still grant an app access (45 CFR 164.502(g)(4))."""

import datetime as dt

from gateway import store
from gateway.store import accounts as account_store
from smart_auth import accounts

from .oauth_helpers import record_id

ROSE = ("rose.begay@example.org", "Portal-Demo-4")  # guardian of Thomas, who died twelve days ago
DIED = '<time datetime="2026-11-13T22:15:00Z">Nov 13, 2026, 2:15'  # Los Angeles time, the default zone


def shown(born):
    """A birth date as the pages show it (the locale format, gateway.web.locale_dates)."""
    day = dt.date.fromisoformat(born)
    return f'<time datetime="{born}">{day:%b} {day.day}, {day.year}</time>'


def test_consent_for_a_deceased_patients_record_says_he_has_died(flow, odb, summary):
    born = store.chart_row(odb, "patients", summary["patient_ids"]["thomas"])["birth_date"]
    flow.login(ROSE)
    page = flow.authorize().get_data(as_text=True)
    assert "Allow Demo patient app to see Thomas&#39;s record?" in page
    assert f"(born {shown(born)}; died {DIED}" in page
    assert "Thomas Begay has died." in page
    assert "As their guardian, you can still see this record and share it with apps." in page


def test_the_picker_marks_the_deceased_record_only(flow, odb, summary):
    rose = account_store.account_by_email(odb, ROSE[0])
    accounts.link_account_to_chart(odb, rose["id"], summary["patient_ids"]["noah"], "other")
    flow.login(ROSE)
    page = flow.authorize().get_data(as_text=True)
    assert "Which record should Demo patient app see?" in page
    assert page.count("; died ") == 1 and f"; died {DIED}" in page
    assert record_id(page, "Thomas") != record_id(page, "Noah")
    consent = flow.pick(page, "Noah").get_data(as_text=True)
    assert "has died" not in consent
