"""Server-side web sessions in the database: every worker and host sees the same sessions, and a
session can be ended or rotated (at login and at linking) by replacing its id."""

import hashlib
import secrets
import time

import orjson
from flask import request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from gateway import store
from gateway.store import accounts as account_store

COOKIE = "gateway_session"
LIFETIME = 12 * 3600


class DbSession(CallbackDict, SessionMixin):
    """Session data plus the bookkeeping for saving and rotating it."""

    def __init__(self, initial=None, sid=None):
        def on_update(_):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False
        self.rotate = False


def rotate_session(session):
    """Give the session a new id at the next save (defeats session fixation; call at login and linking)."""
    session.rotate = True
    session.modified = True


def _hash(sid):
    return hashlib.sha256(sid.encode()).hexdigest()


class DbSessionInterface(SessionInterface):
    """Flask session interface backed by the ``web_sessions`` table; the cookie holds only a random id."""

    def open_session(self, app, request):
        sid = request.cookies.get(COOKIE)
        if not sid:
            return DbSession()
        data = account_store.load_session(store.current(), _hash(sid), int(time.time()))
        return DbSession(orjson.loads(data), sid) if data else DbSession()

    def save_session(self, app, session, response):
        if not session.modified:
            return
        conn = store.current()
        # Secure whenever this request came over HTTPS (directly, or as the trusted proxy says): a cookie
        # set over HTTPS must never travel back over plain HTTP.
        secure = request.is_secure or app.config["BASE_URL"].startswith("https://")
        if session.sid and (session.rotate or not session):
            account_store.delete_session(conn, _hash(session.sid))
        if not session:
            response.delete_cookie(COOKIE, path="/")
            return
        now, data = int(time.time()), orjson.dumps(dict(session)).decode()
        if session.sid and not session.rotate:
            account_store.update_session(conn, _hash(session.sid), data, now + LIFETIME, session.get("account_id"))
            sid = session.sid
        else:
            sid = secrets.token_urlsafe(32)
            account_store.insert_session(conn, _hash(sid), data, now, now + LIFETIME, session.get("account_id"))
        response.set_cookie(COOKIE, sid, max_age=LIFETIME, httponly=True, secure=secure, samesite="Lax", path="/")
