"""Driving the SMART authorization server in tests: a database with the demo practice, its logins and
apps (plus asymmetric and backend apps with freshly made keys), HTML form reading, PKCE and assertions.
"""

import base64
import datetime as dt
import hashlib
import html
import itertools
import re
import secrets
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from werkzeug.datastructures import MultiDict

from fixtures import demo_accounts, demo_clients, demo_practice
from gateway import store
from smart_auth import clients

BASE = "http://gateway.test"
FHIR = BASE + "/fhir"
TOKEN_URL = BASE + "/oauth/token"
REDIRECT = demo_clients.REDIRECT_URI
PUBLIC, CONFIDENTIAL, SECRET = demo_clients.PUBLIC_ID, demo_clients.CONFIDENTIAL_ID, demo_clients.CONFIDENTIAL_SECRET
MARIA = ("maria.garcia@example.com", "Portal-Demo-1")  # self, and parent of Sofia
KEALA = ("keala.kahale@example.org", "Portal-Demo-3")  # one record: no picker
STAFF = ("frontdesk@sunrisefamily.example.org", "Practice-Demo-1")
SCOPE = "launch/patient openid fhirUser offline_access patient/*.rs"


class Keys:
    """Client key pairs for private_key_jwt: one RSA (RS384) and one EC P-384 (ES384)."""

    def __init__(self):
        self.rsa = RSAKey.generate_key(2048, auto_kid=True)
        self.ec = ECKey.generate_key("P-384", auto_kid=True)

    def jwks(self):
        return {"keys": [self.rsa.as_dict(private=False), self.ec.as_dict(private=False)]}


def build(path):
    """Create the test database; return its summary with the extra clients' ids and keys."""
    db = store.connect(path)
    summary = demo_practice.load(db, dt.date(2026, 11, 25))
    demo_accounts.load(db, summary)
    demo_clients.load(db)
    keys = Keys()
    asymmetric, _ = clients.register_client(db, "Asymmetric app", [REDIRECT], "asymmetric", jwks=keys.jwks())
    practices = [p["uid"] for p in store.chart_rows(db, "practices")]
    backend, _ = clients.register_client(db, "Backend service", [], "backend", jwks=keys.jwks(), practice=practices[0])
    everywhere, _ = clients.register_client(
        db, "Backend for every practice", [], "backend", jwks=keys.jwks(), all_practices=True
    )
    store.optimize(db)
    summary.update(
        keys=keys,
        asymmetric=asymmetric.client_id,
        backend=backend.client_id,
        all_backend=everywhere.client_id,
        practices=practices,
    )
    return summary


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def assertion(client_id, key, alg, aud=TOKEN_URL, exp_in=240, jti=None, header=None, **claims):
    """A signed client assertion (RFC 7523) as SMART Backend Services describes it."""
    now = int(time.time())
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": now + exp_in,
        "iat": now,
        "jti": jti or str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT", **(header or {})}, payload, key, algorithms=[alg])


def assertion_form(client_id, key, alg="RS384", **kwargs):
    return {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion(client_id, key, alg, **kwargs),
    }


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = {"action": attrs.get("action"), "method": attrs.get("method", "get"), "fields": []}
            self.forms.append(self.current)
        elif tag == "input" and self.current is not None:
            self.current["fields"].append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def form(page, action):
    """The first form of a page posting to ``action``: its hidden inputs and its checkboxes (name, value, checked)."""
    parser = _Forms()
    parser.feed(page)
    found = next(f for f in parser.forms if f["action"] == action)
    hidden = [(f["name"], html.unescape(f.get("value", ""))) for f in found["fields"] if f.get("type") == "hidden"]
    boxes = [
        (f["name"], html.unescape(f["value"]), "checked" in f)
        for f in found["fields"]
        if f.get("type") in ("checkbox", "radio")
    ]
    return hidden, boxes


def query(location):
    """The query parameters of a redirect, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def record_id(picker_page, patient_name):
    """The picker's value for the record whose label names ``patient_name``."""
    labels = re.findall(r'<input type="radio" id="record-(\d+)".*?<strong>([^<]+)</strong>', picker_page, re.S)
    return next(link for link, name in labels if patient_name in name)


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class Flow:
    """One browser and one app: log in, authorize, pick, consent, exchange (Flask test client)."""

    def __init__(self, client, client_id=PUBLIC, secret=None):
        self.client, self.client_id, self.secret = client, client_id, secret
        self.verifier, self.challenge = pkce()

    _sessions = {}  # (app, login, path) -> session cookie: log in once per app, not once per test

    def login(self, who=MARIA, path="/portal/login"):
        key = (self.client.application.config["DB"], who, path)
        if key in self._sessions:
            self.client.set_cookie("gateway_session", self._sessions[key])
            return None
        response = self._login(who, path)
        self._sessions[key] = self.client.get_cookie("gateway_session").value
        return response

    def _login(self, who, path):
        with self.client.session_transaction() as session:
            token = session.setdefault("csrf", secrets.token_urlsafe(16))
        response = self.client.post(path, data={"csrf_token": token, "email": who[0], "password": who[1]})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response

    def params(self, **overrides):
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": SCOPE,
            "state": "st-1",
            "aud": FHIR,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, method="GET", **overrides):
        params = self.params(**overrides)
        if method == "POST":
            return self.client.post("/oauth/authorize", data=params)
        return self.client.get("/oauth/authorize?" + urlencode(params))

    def pick(self, page, patient_name):
        """Choose the record whose label names ``patient_name`` on the picker page."""
        hidden, _ = form(page, "/oauth/authorize")
        return self.client.get("/oauth/authorize?" + urlencode(hidden + [("record", record_id(page, patient_name))]))

    def decide(self, page, decision="allow", untick=(), tick=()):
        """Answer the consent page: keep the default ticks except ``untick``, add ``tick``."""
        hidden, boxes = form(page, "/oauth/authorize/decide")
        chosen = [(n, v) for n, v, checked in boxes if (checked and v not in untick) or v in tick]
        return self.client.post("/oauth/authorize/decide", data=MultiDict(hidden + chosen + [("decision", decision)]))

    def code(self, who=MARIA, patient="Maria", login=True, **overrides):
        """Run the whole authorization for a record; return the code (asserting each step's shape)."""
        if login:
            self.login(who)
        response = self.authorize(**overrides)
        page = response.get_data(as_text=True)
        if response.status_code == 200 and "Which record" in page:
            response = self.pick(page, patient)
            page = response.get_data(as_text=True)
        if response.status_code == 200:
            response = self.decide(page)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        found = query(response.headers["Location"])
        assert "code" in found, found
        return found["code"]

    def exchange(self, code, verifier=None, **extra):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": self.client_id,
            "code_verifier": verifier if verifier is not None else self.verifier,
        }
        data.update(extra)
        headers = basic(self.client_id, self.secret) if self.secret else {}
        if self.secret:
            data.pop("client_id")
        return self.client.post("/oauth/token", headers=headers, data={k: v for k, v in data.items() if v is not None})

    def tokens(self, **kwargs):
        response = self.exchange(self.code(**kwargs))
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def basic(client_id=CONFIDENTIAL, secret=SECRET):
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


_addresses = (f"2001:db8::{n:x}" for n in itertools.count(1))


def register(web, body, address=None, **kwargs):
    """POST to /oauth/register from its own documentation address (so the rate limit stays out of the way)."""
    return web.post("/oauth/register", json=body, environ_base={"REMOTE_ADDR": address or next(_addresses)}, **kwargs)
