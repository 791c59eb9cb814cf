"""Opportunistic pruning: once when the app starts, then at most every PRUNE_INTERVAL seconds from a request.

Each worker keeps its own clock of the last round (a missed or doubled round costs nothing: pruning is
idempotent), so no cron job is needed; ``fhir-gateway prune`` does the same from the command line.
"""

import logging
import threading
import time

from gateway import store
from gateway.store import pruning as prune_store
from gateway.store.errors import OperationalError
from smart_auth import representatives
from smart_auth.enrollment import Context
from smart_auth.notify import Notifier

log = logging.getLogger(__name__)


class Pruner:
    """Runs a pruning round when the last one is PRUNE_INTERVAL seconds old; never fails a request."""

    def __init__(self, path, interval, clock=time.monotonic, after=None):
        self.path, self.interval, self.clock, self.after = path, interval, clock, after
        self.lock = threading.Lock()
        self.last = None

    def run(self):
        """Prune now; return the counts, or None when the database was busy."""
        self.last = self.clock()
        try:
            deleted = prune_store.prune_database(self.path, time.time())
            if self.after:
                self.after()
            return deleted
        except OperationalError as exc:  # the write lock stayed taken: try again next round
            log.warning("pruning skipped: %s", exc)
            return None

    def maybe_run(self):
        """Prune when a round is due and no other thread of this worker is pruning."""
        if self.interval <= 0 or self.clock() - self.last < self.interval:
            return
        if self.lock.acquire(blocking=False):
            try:
                if self.clock() - self.last >= self.interval:
                    self.run()
            finally:
                self.lock.release()


def init_app(app):
    """Prune once now and register the request hook."""
    if app.config["DB"] == ":memory:":
        return
    pruner = app.extensions["pruning"] = Pruner(
        app.config["DB"], int(app.config["PRUNE_INTERVAL"]), after=lambda: send_access_notices(app.config)
    )
    pruner.run()
    app.before_request(pruner.maybe_run)


def send_access_notices(config):
    """End representatives' access the proxy rule has ended and queue the coming-of-age notices that are due
    (smart_auth.representatives): each round, so no cron job is needed."""
    db = store.connect(config["DB"])
    try:
        context = Context(db, config["SECRET_KEY"], config["BASE_URL"], Notifier(db, config))
        representatives.end_outgrown_links(context)
        return representatives.send_ending_notices(context)
    finally:
        db.close()
