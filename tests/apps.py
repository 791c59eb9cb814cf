"""The one way the tests build the app: the test base URL, then whatever settings the test asks for."""

from gateway.app import create_app

BASE = "http://gateway.test"


def build_app(db_path, **config):
    """The gateway app on ``db_path`` at the test base URL; ``config`` overrides or adds settings."""
    if db_path.startswith("postgresql://"):  # no file beside the database to keep a secret in (gateway/config.py)
        config.setdefault("SECRET_KEY", "test-secret-for-postgres")
    return create_app({"DB": db_path, "BASE_URL": BASE, **config})
