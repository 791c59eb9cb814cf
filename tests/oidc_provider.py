"""A second, independent OpenID provider for the digital-ID tests, served as a real local HTTP server.

It knows one relying party (the gateway under test) and one test person, and signs ID tokens with its own RSA key
(joserfc), checking PKCE with Authlib's S256 helper. Knobs let a test make it misbehave: other claims, another
signing key, another issuer, an expired token, a replayed token, or no answer at all.
"""

import secrets
import threading
import time
import urllib.parse

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

IDENTITY = ("given_name", "family_name", "birthdate", "address")
CLIENT_ID, CLIENT_SECRET = "gateway-test", "provider-secret"
IAL2 = "http://idmanagement.gov/ns/assurance/ial/2"
PERSON = {
    "sub": "person-1",
    "given_name": "Jose",
    "family_name": "Ramirez",
    "birthdate": "1980-05-17",
    "acr": IAL2,
}


class Provider:
    """The provider's state and knobs; ``issuer`` is its base URL once started."""

    def __init__(self, redirect_uri):
        self.redirect_uri = redirect_uri
        self.key = RSAKey.generate_key(2048, parameters={"kid": "op-key-1", "use": "sig"})
        self.signing_key = self.key  # a test may sign with another key (a bad signature)
        self.claims = dict(PERSON)  # claims of the next ID token (a test may change them)
        self.token_issuer = None  # None: its own issuer
        self.token_audience = None  # None: the client id
        self.lifetime = 300  # seconds until exp (negative: already expired)
        self.issued_ago = 0  # seconds before now the token says it was issued
        self.replay = None  # an earlier ID token to hand out again instead of a fresh one
        self.issued = []  # every ID token handed out
        self.userinfo_only = False  # True: name, birth date and address only from UserInfo (as Login.gov does)
        self.userinfo_sub = None  # None: the ID token's subject
        self.access_tokens = set()
        self.requests = []  # paths asked, in order
        self.discovery_padding = 0  # bytes of filler in the discovery document (past the gateway's cap: too large)
        self.codes = {}
        self.app = self._build()
        self.server = self.thread = self.issuer = None

    def start(self):
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)

    def _build(self):
        app = Flask("test_oidc_provider")

        @app.before_request
        def note():
            self.requests.append(request.path)

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                userinfo_endpoint=f"{self.issuer}/userinfo",
                jwks_uri=f"{self.issuer}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                acr_values_supported=[IAL2],
                filler="x" * self.discovery_padding,
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("redirect_uri") != self.redirect_uri:
                abort(400)  # never redirect to an unregistered address (RFC 6749 section 4.1.2.1)
            if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
                abort(400)
            if not args.get("nonce") or not args.get("state") or "openid" not in args.get("scope", "").split():
                abort(400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": args["nonce"], "challenge": args["code_challenge"], "acr": args["acr_values"]}
            query = urllib.parse.urlencode({"code": code, "state": args["state"]})
            return redirect(f"{self.redirect_uri}?{query}")

        @app.post("/token")
        def token():
            if request.authorization is None or (request.authorization.username, request.authorization.password) != (
                CLIENT_ID,
                CLIENT_SECRET,
            ):
                return jsonify(error="invalid_client"), 401
            grant = self.codes.pop(request.form.get("code", ""), None)
            if grant is None or request.form.get("redirect_uri") != self.redirect_uri:
                return jsonify(error="invalid_grant"), 400
            if create_s256_code_challenge(request.form.get("code_verifier", "")) != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE verifier"), 400
            id_token = self.replay or self._id_token(grant["nonce"])
            self.issued.append(id_token)
            access_token = secrets.token_urlsafe(16)
            self.access_tokens.add(access_token)
            return jsonify(access_token=access_token, token_type="Bearer", expires_in=300, id_token=id_token)

        @app.get("/userinfo")
        def userinfo():
            if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.access_tokens:
                return jsonify(error="invalid_token"), 401
            person = {k: v for k, v in self.claims.items() if k in IDENTITY and v is not None}
            return jsonify(sub=self.userinfo_sub or self.claims["sub"], **person)

        return app

    def _id_token(self, nonce):
        now = int(time.time())
        claims = {
            "iss": self.token_issuer or self.issuer,
            "aud": self.token_audience or CLIENT_ID,
            "iat": now - self.issued_ago if self.lifetime > 0 else now + self.lifetime - 600,
            "exp": now + self.lifetime,
            "nonce": nonce,
            **{k: v for k, v in self.claims.items() if v is not None and not (self.userinfo_only and k in IDENTITY)},
        }
        alg = "HS256" if self.signing_key.key_type == "oct" else "RS256"
        header = {"alg": alg, "kid": self.signing_key.kid}
        return jwt.encode(header, claims, self.signing_key)
