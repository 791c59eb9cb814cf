"""What the enrollment pages and the practice API hand to the rules in ``smart_auth``: store, secret, senders."""

from flask import current_app

from gateway import store
from gateway.outbox_sender import note_queued
from smart_auth.enrollment import Context
from smart_auth.notify import Notifier


def notifier():
    """A Notifier for this request: messages are queued and delivered after the response."""
    return Notifier(store.current(), current_app.config, on_queued=note_queued)


def enrollment_context():
    """The enrollment Context for this request's app and thread."""
    config = current_app.config
    return Context(store.current(), config["SECRET_KEY"], config["BASE_URL"], notifier())


def outbox_visible():
    """The outbox page exists only in ``fhir-gateway demo`` (never ``serve``), while nothing is really sent."""
    config = current_app.config
    return bool(config.get("DEMO")) and config.get("ENV") != "production" and not config.get("SMTP_HOST")
