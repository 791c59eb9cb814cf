"""Results people can read in the portal: units in words, flags in words with an icon, and for a test or a
vital sign the patient has more than once a trend chart (inline SVG, drawn on the server) on the result's page
and as a sparkline in the list."""

import re

import pytest

from smart_auth import accounts
from tests.portal_helpers import EVERYONE, build_portal_db, login, portal_client, show_record


@pytest.fixture(scope="module")
def everyone(module_db_path):
    """A client logged in as the account linked to every demo chart, and a function showing one record."""
    path = module_db_path("results")
    db, summary = build_portal_db(path)
    client = portal_client(path)
    token = login(client, *EVERYONE)
    account = db.execute("SELECT id FROM accounts WHERE email = ?", (EVERYONE[0],)).fetchone()[0]
    by_patient = {link["patient_id"]: link for link in accounts.linked_records(db, account)}

    def page(handle, path):
        show_record(client, token, by_patient[summary["patient_ids"][handle]]["id"])
        response = client.get(path)
        assert response.status_code == 200, path
        return response.get_data(as_text=True)

    return page


def row_of(html, name):
    """The first table row whose heading cell links ``name``."""
    start = html.index(f">{name}</a></th>")
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def test_units_are_words_a_person_knows(everyone):
    labs = everyone("linh", "/portal/records/lab-results")
    assert "mIU/L" in row_of(labs, "Thyroid-stimulating hormone (TSH)") and "m[IU]/L" not in labs
    vitals = everyone("wei", "/portal/records/vitals")  # charted in pounds, inches and degrees Fahrenheit
    assert "[lb_av]" not in vitals and "mm[Hg]" not in vitals and "[degF]" not in vitals and "[in_i]" not in vitals
    for unit in ("lb", "inches", "°F", "mmHg", "per minute"):
        assert re.search(
            rf'<td class="value" data-label="Value">[0-9./]+</td><td data-label="Unit">{unit}</td>', vitals
        )


def test_a_flag_is_a_word_with_an_icon_not_a_colour(everyone):
    row = row_of(everyone("maria", "/portal/records/lab-results"), "Glucose (blood sugar)")
    assert '<td data-label="Flag"><span class="flag flag-high"><span aria-hidden="true">▲</span> High' in row


A1C_WORDS = (
    "Hemoglobin A1c (average blood sugar): 7.6 % on Apr 19, 2026, 8.1 % on Oct 16, 2026. Normal range: up to 5.6 %."
)


def test_a_repeated_test_has_a_sparkline_in_the_list_that_says_its_values(everyone):
    labs = everyone("maria", "/portal/records/lab-results")
    assert labs.count(f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" aria-label="{A1C_WORDS}"') == 2
    assert 'width="96" height="28"' in row_of(labs, "Hemoglobin A1c (average blood sugar)")
    assert "<svg" not in row_of(labs, "Glucose (blood sugar)")  # once only: no trend


def test_a_repeated_tests_page_has_the_chart_and_its_history(everyone):
    labs = everyone("maria", "/portal/records/lab-results")
    rid = re.search(
        r'<th scope="row"><a href="/portal/records/lab-results/([^"]+)">Hemoglobin A1c \(average blood sugar\)<', labs
    ).group(1)
    page = everyone("maria", f"/portal/records/lab-results/{rid}")
    assert f'role="img" aria-label="{A1C_WORDS}" width="480" height="160"' in page
    assert "Shaded: the normal range, up to 5.6 %." in page
    history = re.search(r'<table class="list trend-history stack">(.*?)</table>', page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", history)
    assert [re.sub(r"<[^>]+>", "", c) for c in cells] == ["Oct 16, 2026", "8.1 %", "Apr 19, 2026", "7.6 %"]


def test_vitals_taken_more_than_once_are_charted_above_the_table(everyone):
    vitals = everyone("maria", "/portal/records/vitals")
    trends = re.search(r'<ul class="trends">(.*?)</ul>', vitals, re.S).group(1)
    names = re.findall(r'<span class="trend-name">([^<]+)</span>', trends)
    assert "Blood pressure panel with all children optional" in names and "Body weight" in names
    pressure = re.search(r'aria-label="Blood pressure panel with all children optional: ([^"]+)"', trends).group(1)
    assert re.fullmatch(r"(\d+/\d+ mmHg on \w{3} \d+, \d{4}, )+\d+/\d+ mmHg on \w{3} \d+, \d{4}\.", pressure)
