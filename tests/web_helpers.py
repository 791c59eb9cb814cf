"""Driving the enrollment pages with Flask's test client: an app on a two-practice chart, logins, CSRF."""

import re

from gateway import store
from tests.apps import build_app
from tests.enrollment_helpers import SECRET, build


def enrollment_app(new_database, **config):
    """The app on a fresh two-practice chart database (tests/enrollment_helpers.py); returns (app, db).

    ``new_database``: the ``new_db_path`` or ``module_db_path`` fixture (tests/conftest.py), either engine.
    """
    path = new_database("web")
    db = store.connect(path)
    build(db)
    app = build_app(path, **{"SECRET_KEY": SECRET, **config})
    return app, db


def csrf(client, path="/portal/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post(client, path, data=None, page=None):
    """POST a form with this session's CSRF token (read from ``page``, default the portal login page)."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf(client, page or "/portal/login")})


def staff_login(client, email="desk@example.com", password="Desk-Pass1"):
    response = post(client, "/practice/login", {"email": email, "password": password}, "/practice/login")
    assert response.status_code == 302, response.get_data(as_text=True)


def portal_login(client, email, password="Secret-Pass1", next_url=None):
    data = {"email": email, "password": password, **({"next": next_url} if next_url else {})}
    return post(client, "/portal/login", data)


def text(response):
    return response.get_data(as_text=True)
