"""Sign-up errors a screen reader can follow: the summary takes focus (no JavaScript needed) and links to
each failed field; each failed field says it is invalid and is described by its own error (WCAG 2.1
3.3.1 Error Identification, 1.3.1 Info and Relationships)."""

import pytest

from smart_auth import accounts, registration
from tests.enrollment_helpers import context
from tests.web_helpers import enrollment_app, post, text


@pytest.fixture
def client(new_db_path):
    app, _ = enrollment_app(new_db_path)
    return app.test_client()


def sign_up(client, email, password):
    return post(client, "/portal/signup", {"email": email, "password": password, "name": "José"})


def test_summary_takes_focus_and_links_each_error_to_its_field(client):
    response = sign_up(client, "not-an-address", "short")
    html = text(response)
    assert response.status_code == 400
    assert '<div class="errors" role="alert" id="form-errors" tabindex="-1" autofocus>' in html
    assert '<li><a href="#email">Enter an email address like name@example.com.</a></li>' in html
    assert '<li><a href="#password">The password needs an uppercase letter.</a></li>' in html


def test_each_failed_field_is_invalid_and_described_by_its_own_error(client):
    html = text(sign_up(client, "not-an-address", "short"))
    assert 'aria-invalid="true" aria-describedby="email-error email-hint"' in html
    assert '<p class="field-error" id="email-error">Enter an email address like name@example.com.</p>' in html
    assert 'aria-invalid="true" aria-describedby="password-error password-rules"' in html
    assert (
        '<p class="field-error" id="password-error">The password needs at least 8 characters. '
        "The password needs an uppercase letter. The password needs a number or symbol.</p>" in html
    )
    assert 'id="name" name="name" autocomplete="name" value="José">' in html  # a good field stays plain


def test_only_the_failed_field_is_marked(client):
    html = text(sign_up(client, "new@example.com", "short"))
    assert 'aria-invalid="true" aria-describedby="password-error password-rules"' in html
    assert 'aria-describedby="email-hint">' in html and 'id="email-error"' not in html


def test_a_fresh_form_has_no_error_marks(client):
    html = text(client.get("/portal/signup"))
    assert "aria-invalid" not in html and "autofocus" not in html and 'id="form-errors"' not in html


def test_sign_up_names_every_failed_field_at_once(new_db_path):
    _, db = enrollment_app(new_db_path)
    with pytest.raises(accounts.AccountError) as caught:
        registration.sign_up(context(db), "nope", "short")
    assert caught.value.fields == {
        "email": ["Enter an email address like name@example.com."],
        "password": [
            "The password needs at least 8 characters.",
            "The password needs an uppercase letter.",
            "The password needs a number or symbol.",
        ],
    }
