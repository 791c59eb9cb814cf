"""No published secret: only the demo signs with DEMO_SECRET; a served app keeps a random secret of its own."""

import os
import stat

import pytest

from gateway import store
from gateway.config import DEMO_SECRET, ConfigError, load, secret_path
from gateway.store import accounts as account_store
from smart_auth import accounts, links
from tests.enrollment_helpers import build

# the secret kept in a file beside the SQLite database; PostgreSQL has no such file and needs GATEWAY_SECRET_KEY
# (gateway/config.py; tests/gateway/test_store_postgres.py)
pytestmark = pytest.mark.sqlite_only

SERVE_BASE = "http://127.0.0.1:8080"


@pytest.fixture
def served(make_app, tmp_path, monkeypatch):
    """A database with a confirmed account, and the app built as ``fhir-gateway serve`` builds it."""
    monkeypatch.delenv("GATEWAY_SECRET_KEY", raising=False)
    path = str(tmp_path / "gateway.db")
    db = store.connect(path)
    build(db)
    account = accounts.create_account(db, "victim@example.com", "Secret-Pass1", confirmed=True)
    return make_app(path, BASE_URL=SERVE_BASE), db, account


def test_a_link_forged_with_the_published_demo_secret_does_not_move_an_account(served):
    app, db, account = served
    forged = links.make_token(DEMO_SECRET, "confirm", {"a": account["uid"], "e": "attacker@evil.example"})
    response = app.test_client().get(f"/portal/confirm/{forged}")
    assert response.status_code == 410
    assert account_store.account_by_id(db, account["id"])["email"] == "victim@example.com"


def test_a_served_app_generates_its_secret_once_owner_only_and_keeps_it(make_app, served, tmp_path):
    app, _, _ = served
    path = secret_path(app.config["DB"])
    assert path == str(tmp_path / "gateway.secret")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert app.config["SECRET_KEY"] != DEMO_SECRET and len(app.config["SECRET_KEY"]) >= 43
    restarted = make_app(app.config["DB"], BASE_URL=SERVE_BASE)
    assert restarted.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_a_link_signed_with_the_kept_secret_still_works_after_a_restart(make_app, served):
    app, db, account = served
    token = links.make_token(app.config["SECRET_KEY"], "confirm", {"a": account["uid"], "e": "new@example.com"})
    restarted = make_app(app.config["DB"], BASE_URL=SERVE_BASE)
    assert restarted.test_client().get(f"/portal/confirm/{token}").status_code == 302
    assert account_store.account_by_id(db, account["id"])["email"] == "new@example.com"


def test_only_the_demo_flag_uses_the_demo_secret(tmp_path):
    path = str(tmp_path / "demo.db")
    assert load({"DB": path, "DEMO": True}, environ={})["SECRET_KEY"] == DEMO_SECRET
    assert not os.path.exists(secret_path(path))
    assert load({"DB": path}, environ={})["SECRET_KEY"] != DEMO_SECRET


def test_the_environment_secret_wins_and_no_file_is_written(tmp_path):
    path = str(tmp_path / "gateway.db")
    assert load({"DB": path}, environ={"GATEWAY_SECRET_KEY": "from-env-" + "x" * 32})["SECRET_KEY"].startswith(
        "from-env"
    )
    assert not os.path.exists(secret_path(path))


@pytest.mark.parametrize("overrides", [{"SECRET_KEY": DEMO_SECRET}, {"DEMO": True}])
def test_production_refuses_the_demo_secret(tmp_path, overrides):
    with pytest.raises(ConfigError, match="GATEWAY_SECRET_KEY"):
        load({"DB": str(tmp_path / "g.db"), "ENV": "production", **overrides}, environ={})


def test_production_without_a_secret_keeps_a_generated_one(tmp_path):
    settings = load({"DB": str(tmp_path / "g.db"), "ENV": "production"}, environ={})
    assert settings["SECRET_KEY"] != DEMO_SECRET
    assert open(secret_path(settings["DB"])).read().strip() == settings["SECRET_KEY"]


def test_no_secret_file_is_kept_for_a_postgresql_url(tmp_path, monkeypatch):
    from gateway.config import ConfigError, kept_secret

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="GATEWAY_SECRET_KEY must be set with a PostgreSQL database"):
        kept_secret("postgresql://gateway@db.internal/gateway")
    assert list(tmp_path.iterdir()) == []
