"""What the enrollment pages and the practice API hand to the rules in ``smart_auth``: store, secret, senders."""
from flask import current_app

from smart_auth.enrollment import Context
from smart_auth.notify import Notifier

from .web_auth import db


def enrollment_context():
    """The enrollment Context for this request's app and thread."""
    config, database = current_app.config, db()
    return Context(database, config["SECRET_KEY"], config["BASE_URL"], Notifier(database, config))


def outbox_visible():
    """The outbox page exists only in ``fhir-gateway demo`` (never ``serve``), while nothing is really sent."""
    config = current_app.config
    return bool(config.get("DEMO")) and config.get("ENV") != "production" and not config.get("SMTP_HOST")
