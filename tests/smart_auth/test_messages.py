"""Every email's HTML part reads on a 320 px phone and shows its links by their words, never a bare URL."""

import re

import pytest

from smart_auth import messages

URL = "http://gateway.test/portal/x/" + "t" * 150
HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
)


@pytest.mark.parametrize(
    "made, button",
    [
        (messages.invite_email("Test Practice", URL), "Access your records"),
        (messages.confirm_email(URL), "Confirm my account"),
        (messages.confirm_new_email(URL), "Confirm my email"),
        (messages.already_registered(URL, URL + "f"), "Log in"),
        (messages.reset_email(URL, 60), "Reset my password"),
    ],
)
def test_html_part_has_the_button_its_text_promises_and_no_bare_url(made, button):
    _, text, html = made
    assert f"{button}: {URL}" in text
    assert html.startswith(HEAD)
    assert re.search(rf'<a href="{re.escape(URL)}" style="[^"]+">{button}</a>', html)
    assert "overflow-wrap:anywhere" in html and "max-width:36rem" in html
    assert re.findall(r">[^<]*https?://", html) == []  # every URL is inside an href, none shown as words


def test_already_registered_links_the_reset_page_by_its_words():
    _, _, html = messages.already_registered("http://g/login", "http://g/forgot")
    assert '<p>Forgot your password? <a href="http://g/forgot">Reset your password</a></p>' in html
