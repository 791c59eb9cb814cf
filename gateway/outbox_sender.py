"""The sender of queued email and SMS in a server process: a daemon thread woken once a response that queued
something has been sent, and polling every OUTBOX_POLL seconds for retries and other processes' messages.

granian builds the app in each worker after the fork, and a thread started before a fork does not survive it,
so the thread starts lazily, in the process that serves, at its first request (and again if the process id
changed). Rows are claimed atomically (gateway/store/outbox.py), so every worker may run one.
"""

import logging
import os
import threading

from flask import current_app, g, has_request_context

from gateway import store
from smart_auth import notify

log = logging.getLogger(__name__)


class Sender:
    """Delivers the queue for one app's configuration from a thread of this process."""

    def __init__(self, config):
        self.config = config
        self._wake, self._stop, self._lock = threading.Event(), threading.Event(), threading.Lock()
        self._thread, self._pid = None, None

    @property
    def configured(self):
        """Is there anything to deliver with (an SMTP server or an SMS provider)?"""
        return bool(self.config.get("SMTP_HOST") or self.config.get("SMS_URL"))

    @property
    def running(self):
        return self._thread is not None and self._pid == os.getpid() and self._thread.is_alive()

    def ensure_running(self):
        """Start this process's sender thread unless it runs already."""
        if self.running or self._stop.is_set():
            return
        with self._lock:
            if not self.running:
                # Each thread waits on its own event: a thread inherited from before a fork (or a test's fake
                # one) must not clear the wake-up that stop() meant for the live thread.
                self._pid, self._wake = os.getpid(), threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._wake,), name="outbox-sender", daemon=True)
                self._thread.start()

    def wake(self):
        """Have the thread look at the queue now."""
        self.ensure_running()
        self._wake.set()

    def drain(self, db):
        """Deliver everything due now, in the calling thread (the ``inline`` mode and tests)."""
        return notify.deliver_due(db, self.config)

    def stop(self, timeout=5):
        """Stop the thread after the message it is sending (for tests and orderly shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout)

    def _run(self, wake):
        db = store.connect(self.config["DB"])
        while not self._stop.is_set():
            try:
                notify.deliver_due(db, self.config)
            except Exception:  # noqa: BLE001 - a broken message or a locked database must not end the thread
                log.exception("the outbox sender failed; it tries again at the next wake-up")
            wake.wait(float(self.config.get("OUTBOX_POLL") or 5))
            wake.clear()


def sender_of(app):
    """The app's Sender."""
    return app.extensions["outbox_sender"]


def init_app(app):
    """Create the app's Sender and, when something can be sent, hook it to the end of requests."""
    sender = app.extensions["outbox_sender"] = Sender(app.config)
    mode = app.config.get("OUTBOX_SENDER", "thread")
    if not sender.configured or mode == "off":
        return
    if mode == "thread":
        app.before_request(sender.ensure_running)
        app.after_request(_wake_after_sending)
    app.teardown_request(_finish_request)


def note_queued():
    """Notifier's ``on_queued``: deliver after this request's response (at once outside a request)."""
    if has_request_context():
        g.outbox_queued = True
    else:
        sender_of(current_app).wake()


def _wake_after_sending(response):
    # call_on_close runs once the server has written the whole response, so no page waits on delivery.
    if g.pop("outbox_queued", False):
        response.call_on_close(sender_of(current_app).wake)
    return response


def _finish_request(_exc):
    if not g.pop("outbox_queued", False):
        return
    sender = sender_of(current_app)
    if current_app.config.get("OUTBOX_SENDER") == "inline":
        sender.drain(store.current())
    else:
        sender.wake()  # the request failed before after_request handed the wake-up to the response
