"""Opportunistic pruning: once when the app starts, then at most every PRUNE_INTERVAL seconds from a request.

Each worker keeps its own clock of the last round (a missed or doubled round costs nothing: pruning is
idempotent), so no cron job is needed; ``fhir-gateway prune`` does the same from the command line.
"""

import logging
import sqlite3
import threading
import time

from gateway.store import pruning as prune_store

log = logging.getLogger(__name__)


class Pruner:
    """Runs a pruning round when the last one is PRUNE_INTERVAL seconds old; never fails a request."""

    def __init__(self, path, interval, clock=time.monotonic):
        self.path, self.interval, self.clock = path, interval, clock
        self.lock = threading.Lock()
        self.last = None

    def run(self):
        """Prune now; return the counts, or None when the database was busy."""
        self.last = self.clock()
        try:
            return prune_store.prune_database(self.path, time.time())
        except sqlite3.OperationalError as exc:  # the write lock stayed taken: try again next round
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
    pruner = app.extensions["pruning"] = Pruner(app.config["DB"], int(app.config["PRUNE_INTERVAL"]))
    pruner.run()
    app.before_request(pruner.maybe_run)
