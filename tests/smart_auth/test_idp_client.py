"""smart_auth/idp_client.py: the provider the settings describe, and the checks that need no provider to run."""

import pytest

from smart_auth import idp_client

SETTINGS = {
    "BASE_URL": "https://portal.example",
    "ENV": "production",
    "IDP_ISSUER": "https://idp.example",
    "IDP_CLIENT_ID": "gateway",
    "IDP_CLIENT_SECRET": "s",
    "IDP_NAME": "Login.gov",
    "IDP_ACR_VALUES": "urn:a  urn:b",
    "IDP_VOT_VALUES": "",
    "IDP_SCOPE": "openid profile",
}


def test_the_provider_of_the_settings_has_a_fixed_callback_and_public_only_calls_in_production():
    provider = idp_client.configured(SETTINGS)
    assert provider == idp_client.Provider(
        issuer="https://idp.example",
        client_id="gateway",
        client_secret="s",
        name="Login.gov",
        acr_values=("urn:a", "urn:b"),
        vot_values=(),
        scope="openid profile",
        redirect_uri="https://portal.example/portal/verify/digital-id/callback",
        public_only=True,
    )
    assert idp_client.configured({**SETTINGS, "IDP_ISSUER": None}) is None
    assert idp_client.configured({**SETTINGS, "ENV": "development"}).public_only is False


@pytest.mark.parametrize("token", [{}, {"id_token": None}, {"id_token": 42}])
def test_a_token_answer_without_an_id_token_is_refused(token):
    with pytest.raises(idp_client.TokenRejected, match=r"^no ID token$"):
        idp_client.verified_claims(idp_client.configured(SETTINGS), token, "nonce")
