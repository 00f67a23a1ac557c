"""Personal API tokens on the profile page."""

from __future__ import annotations

import re

from app.accounts import services
from app.accounts.models import ApiToken
from app.extensions import db
from tests.conftest import count, get_csrf


def test_a_token_is_shown_once_and_only_its_hash_is_stored(client, logged_in):
    user = logged_in()
    resp = client.post("/cuenta/tokens", data={"name": "planilla", "csrf_token": get_csrf(client, "/cuenta/")})
    body = resp.get_data(as_text=True)
    secret = re.search(r'id="new-token">(pl_[^<]+)<', body).group(1)
    token = db.session.query(ApiToken).one()
    assert secret not in (token.token_hash, token.prefix)
    assert services.user_for_api_token(secret).id == user.id
    assert secret not in client.get("/cuenta/").get_data(as_text=True)


def test_a_token_without_a_name_is_refused(client, logged_in):
    logged_in()
    resp = client.post("/cuenta/tokens", data={"name": "", "csrf_token": get_csrf(client, "/cuenta/")})
    assert resp.status_code == 400
    assert "Dé un nombre al token" in resp.get_data(as_text=True)
    assert count(ApiToken) == 0


def test_an_oversized_token_name_is_refused(client, logged_in):
    logged_in()
    resp = client.post("/cuenta/tokens", data={"name": "x" * 10000, "csrf_token": get_csrf(client, "/cuenta/")})
    assert resp.status_code == 400
    assert count(ApiToken) == 0


def test_a_revoked_token_stops_working(client, logged_in):
    user = logged_in()
    token, secret = services.create_api_token(user, "script")
    resp = client.post(f"/cuenta/tokens/{token.id}/revocar", data={"csrf_token": get_csrf(client, "/cuenta/")})
    assert resp.status_code == 302
    assert services.user_for_api_token(secret) is None


def test_nobody_can_revoke_someone_elses_token(client, logged_in, factory):
    other = factory.user()
    token, _secret = services.create_api_token(other, "ajeno")
    logged_in()
    resp = client.post(f"/cuenta/tokens/{token.id}/revocar", data={"csrf_token": get_csrf(client, "/cuenta/")})
    assert resp.status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None
