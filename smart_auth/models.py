"""What the authorization server keeps between requests, shaped as Authlib's mixins want it.

``Authorization`` is the decision a person (or a practice) made on the consent page; it travels from
the authorization code to every access and refresh token issued under it.
"""

import json
import time
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin


@dataclass(frozen=True)
class Authorization:
    """Who authorized which scopes for which record: Authlib's ``grant_user``.

    ``family`` names this one authorization; every token descending from it shares the family, so a
    reused code or refresh token can revoke them all. ``scope`` is what was granted, never more.
    """

    subject: str | None
    patient_id: str | None
    fhir_user: str | None
    scope: str
    family: str
    grant_id: int | None = None
    need_patient_banner: bool = True
    auth_time: int = 0
    encounter_id: str | None = None  # an EHR launch from a visit, when ``launch/encounter`` was granted

    def to_json(self):
        # The fields in their order, as asdict() gives them (every value is a str, int, bool or None), without
        # asdict's recursive copy: a refresh token stores this on every exchange.
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))


class AuthorizationCode(AuthorizationCodeMixin):
    """A stored authorization code (its row; the code itself is never stored)."""

    def __init__(self, row):
        self.row = row
        self.authorization = Authorization.from_json(row["context"])
        self.code_challenge = row["code_challenge"]
        self.code_challenge_method = row["code_challenge_method"]

    def get_redirect_uri(self):
        return self.row["redirect_uri"]

    def get_scope(self):
        return self.row["scope"]

    def get_nonce(self):
        return self.row["nonce"]

    def get_auth_time(self):
        return self.row["auth_time"]


class TokenRecord(TokenMixin):
    """A stored access or refresh token, for refresh, introspection and revocation."""

    def __init__(self, row, kind):
        self.row = row
        self.kind = kind  # "access_token" or "refresh_token"
        context = row.get("context")
        self.authorization = Authorization.from_json(context) if context else None

    @property
    def client_id(self):
        return self.row["client_id"]

    def check_client(self, client):
        return self.row["client_id"] == client.get_client_id()

    def get_scope(self):
        return self.row["scope"]

    def get_expires_in(self):
        return self.row["expires_at"] - self.row["issued_at"]

    def is_expired(self):
        return self.row["expires_at"] <= time.time()

    def is_revoked(self):
        return bool(self.row["revoked"]) or (self.kind == "refresh_token" and self.row["used_at"] is not None)
