"""Read-your-writes with replicas: a request that wrote raises its writer's read floor before it answers.

Registered only when GATEWAY_DATABASE_REPLICA_URL is set (gateway/store/replicas.py has the rule); without
replicas no request pays for it. The floor is raised at the request's teardown, which Flask runs before the
response goes out, so the writer's next request, on any host, already finds it.
"""

import logging

from flask import request

from gateway import store
from gateway.web.auth import current_account, current_staff
from smart_auth import tokens

_log = logging.getLogger(__name__)


def init_app(app):
    """Raise the writer's read floor after every request that committed a write (replica deployments only)."""
    if not app.config["DATABASE_REPLICAS"]:
        return
    store.replicas.track_writes()
    app.before_request(_forget_writes)
    app.teardown_request(_raise_floor)


def _forget_writes():
    store.replicas.took_writes()  # a write left over from work outside any request is no one's


def _raise_floor(_error=None):
    if not store.replicas.took_writes():
        return
    try:
        person = writer()
        if person is not None:
            store.replicas.note_write(store.current(), person)
    except store.postgres.Error:  # the write is committed and answered; only its writer's next search may lag
        _log.exception("could not raise the writer's read floor")


def writer():
    """Who wrote in this request: the logged-in account or staff user, else the bearer token's person, or None."""
    someone = current_account() or current_staff()
    if someone is not None:
        return someone["uid"]
    try:
        token = tokens.authenticate_header(store.current(), request.headers.get("Authorization", ""))
    except (tokens.MissingToken, tokens.InvalidToken):
        return None
    return store.replicas.person_of(token)
