"""One reading of ``Authorization: Bearer``: the scheme in any case (RFC 7235 2.1), the token after spaces."""

import pytest

from smart_auth.tokens import bearer_credentials


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("BeArEr abc", "abc"),
        ("Bearer   abc", "abc"),
        ("  Bearer abc  ", "abc"),
        ("Bearer a.b-c_d~e+f/g=", "a.b-c_d~e+f/g="),
    ],
)
def test_the_token_of_a_bearer_header(header, token):
    assert bearer_credentials(header) == token


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Bearer    ", "Basic YTpi", "Token abc", "abc", "Bearerabc", "Bear abc"]
)
def test_no_token_without_the_bearer_scheme_and_a_token(header):
    assert bearer_credentials(header) is None
