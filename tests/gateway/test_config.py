"""gateway/config.py: defaults, then GATEWAY_* variables, then the caller's dict; refusals name the setting."""

import pytest

from gateway.config import DEFAULTS, DEMO_SECRET, ConfigError, load, secret_path


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "gateway.db")


def test_defaults_then_environment_then_the_callers_dict(db):
    environ = {"GATEWAY_TIMEZONE": "UTC", "GATEWAY_BASE_URL": "https://env.example/", "GATEWAY_SECRET_KEY": "k" * 32}
    assert load({"DB": db}, environ={"GATEWAY_SECRET_KEY": "k" * 32})["TIMEZONE"] == DEFAULTS["TIMEZONE"]
    config = load({"DB": db}, environ=environ)
    assert (config["TIMEZONE"], config["BASE_URL"], config["FHIR_BASE"]) == (
        "UTC",
        "https://env.example",
        "https://env.example/fhir",
    )
    config = load({"DB": db, "TIMEZONE": "Europe/Paris", "BASE_URL": "https://dict.example"}, environ=environ)
    assert (config["TIMEZONE"], config["FHIR_BASE"]) == ("Europe/Paris", "https://dict.example/fhir")


def test_only_known_variables_are_read(db):
    """GATEWAY_DEMO is not a variable: the demo secret comes only from ``fhir-gateway demo``, never the environment."""
    config = load({"DB": db}, environ={"GATEWAY_DEMO": "1", "GATEWAY_ENV": "production", "GATEWAY_COLOR": "red"})
    assert config["DEMO"] is False and "COLOR" not in config
    assert config["SECRET_KEY"] != DEMO_SECRET


def test_whole_number_settings_are_integers_from_the_environment(db):
    config = load(
        {"DB": db},
        environ={"GATEWAY_OUTBOX_POLL": "7", "GATEWAY_MAX_CONTENT_LENGTH": "2048", "GATEWAY_TRUSTED_PROXIES": "1"},
    )
    assert (config["OUTBOX_POLL"], config["MAX_CONTENT_LENGTH"], config["TRUSTED_PROXIES"]) == (7, 2048, 1)
    assert load({"DB": db}, environ={"GATEWAY_TIMEZONE": "7"})["TIMEZONE"] == "7"  # not every setting is a number


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("OUTBOX_POLL", "soon", "GATEWAY_OUTBOX_POLL must be a whole number, not 'soon'"),
        ("SMTP_DEADLINE", "1.5", "GATEWAY_SMTP_DEADLINE must be a whole number, not '1.5'"),
        ("TRUSTED_PROXIES", "-1", "GATEWAY_TRUSTED_PROXIES must be 0 (no proxy) or the number of proxies in front"),
        ("OUTBOX_SENDER", "cron", "GATEWAY_OUTBOX_SENDER must be one of thread, inline, off"),
    ],
)
def test_a_bad_value_is_refused_by_name(db, name, value, message):
    with pytest.raises(ConfigError) as refused:
        load({"DB": db}, environ={f"GATEWAY_{name}": value})
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "overrides, environ",
    [
        ({"DEMO": True}, {"GATEWAY_ENV": "production"}),
        ({}, {"GATEWAY_ENV": "production", "GATEWAY_SECRET_KEY": DEMO_SECRET}),
        ({"ENV": "production", "SECRET_KEY": DEMO_SECRET}, {}),
    ],
)
def test_production_refuses_the_demo_secret(db, overrides, environ):
    with pytest.raises(ConfigError) as refused:
        load({"DB": db, **overrides}, environ=environ)
    assert str(refused.value) == "GATEWAY_SECRET_KEY must be set to a real secret when GATEWAY_ENV=production"


def test_production_starts_with_a_real_secret_or_the_kept_one(db):
    assert load({"DB": db}, environ={"GATEWAY_ENV": "production", "GATEWAY_SECRET_KEY": "s" * 32})["SECRET_KEY"] == (
        "s" * 32
    )
    kept = load({"DB": db}, environ={"GATEWAY_ENV": "production"})["SECRET_KEY"]
    with open(secret_path(db), encoding="ascii") as f:
        assert f.read().strip() == kept


def test_an_emptied_secret_file_is_refused(db):
    open(secret_path(db), "w").close()
    with pytest.raises(ConfigError, match="the secret file .*gateway.secret is empty"):
        load({"DB": db}, environ={})


def test_a_digital_id_provider_needs_a_client_id_acr_values_and_https_in_production(db):
    assert load({"DB": db})["IDP_ISSUER"] is None
    with pytest.raises(ConfigError, match="GATEWAY_IDP_CLIENT_ID must be set"):
        load({"DB": db, "IDP_ISSUER": "https://idp.example"})
    with pytest.raises(ConfigError, match="GATEWAY_IDP_ACR_VALUES must name"):
        load({"DB": db, "IDP_ISSUER": "https://idp.example", "IDP_CLIENT_ID": "c", "IDP_ACR_VALUES": " "})
    production = {"DB": db, "ENV": "production", "SECRET_KEY": "k" * 32, "IDP_CLIENT_ID": "c"}
    with pytest.raises(ConfigError, match="GATEWAY_IDP_ISSUER must be an https"):
        load({**production, "IDP_ISSUER": "http://idp.example"})
    environ = {
        "GATEWAY_IDP_ISSUER": "https://idp.example",
        "GATEWAY_IDP_CLIENT_ID": "c",
        "GATEWAY_IDP_VOT_VALUES": "P2",
    }
    config = load({"DB": db}, environ=environ)
    assert (config["IDP_ISSUER"], config["IDP_VOT_VALUES"]) == ("https://idp.example", "P2")
    assert config["IDP_ACR_VALUES"].split() == [
        "http://idmanagement.gov/ns/assurance/ial/2",
        "http://idmanagement.gov/ns/assurance/ial/2/aal/2",
        "urn:acr.login.gov:verified-facial-match-required",
    ]
