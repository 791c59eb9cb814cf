"""A refresh reads its refresh token's row once, though two steps ask for it (the public client's identity, then
the token's checks), and a used or unknown token is still refused."""

from gateway.store import oauth as oauth_store

from .oauth_helpers import KEALA, PUBLIC


def test_a_public_refresh_reads_the_token_row_once(flow, monkeypatch):
    body = flow.tokens(who=KEALA, patient="Keala")
    reads, real = [], oauth_store.find_refresh_token

    def counting(conn, token):
        reads.append(token)
        return real(conn, token)

    monkeypatch.setattr(oauth_store, "find_refresh_token", counting)
    form = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}  # no client_id: fhirclient 2.x
    renewed = flow.client.post("/oauth/token", data=form)
    assert renewed.status_code == 200 and renewed.get_json()["refresh_token"] != body["refresh_token"]
    assert reads == [body["refresh_token"]]
    again = flow.client.post("/oauth/token", data={**form, "client_id": PUBLIC})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
