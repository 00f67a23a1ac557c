"""Who may call the API: Bearer tokens, the browser session (with CSRF on writes), nobody else."""

from __future__ import annotations

import logging

from tests.api.conftest import assert_problem, bearer
from tests.conftest import get_csrf, login


def test_bearer_token_authenticates(client, factory, token_for):
    user = factory.user("sence_national")
    resp = client.get("/api/v1/me", headers=bearer(token_for(user)))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert body["role"] == "sence_national"
    assert body["office"] is None
    assert body["sence_unit"]["level"] == "national"


def test_me_shows_office_and_networks_coordinated_this_year(client, factory, token_for):
    office = factory.office(name="OMIL Santiago")
    coordinated = factory.network(coordinator=office)
    factory.network(offices=[office])  # member only
    factory.network(coordinator=office, year=2001)  # coordinated long ago
    user = factory.user(office=office)
    body = client.get("/api/v1/me", headers=bearer(token_for(user))).get_json()
    assert body["office"] == {"id": office.id, "name": "OMIL Santiago"}
    assert body["region_code"] == "13"
    assert body["coordinated_network_ids"] == [coordinated.id]


def test_request_without_credentials_is_401_with_bearer_challenge(client):
    resp = client.get("/api/v1/me")
    body = assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body["detail"]


def test_revoked_token_is_401(client, factory, token_for):
    from sqlalchemy import select

    from app.accounts.models import ApiToken
    from app.accounts.services import revoke_api_token
    from app.extensions import db

    user = factory.user()
    secret = token_for(user)
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    revoke_api_token(user, token.id)
    resp = client.get("/api/v1/me", headers=bearer(secret))
    body = assert_problem(resp, 401)
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert "revocado" in body["detail"]


def test_unknown_tokens_are_401(client):
    for secret in ["pl_" + "x" * 43, "no-es-un-token", "pl_" + "y" * 200]:
        assert_problem(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_token_of_a_deactivated_account_is_401(client, factory, token_for):
    from app.accounts.services import deactivate_user

    admin = factory.user("sence_national")
    user = factory.user()
    secret = token_for(user)
    deactivate_user(user, admin)
    assert_problem(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_other_authorization_schemes_are_401(client, factory):
    user = factory.user()
    login(client, user.email)  # a session does not rescue a bad Authorization header
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"]:
        resp = client.get("/api/v1/me", headers={"Authorization": header})
        assert_problem(resp, 401)


def test_invalid_token_is_refused_even_with_a_valid_session(client, factory):
    user = factory.user()
    login(client, user.email)
    assert_problem(client.get("/api/v1/me", headers=bearer("pl_falso")), 401)


def test_session_authenticates_get_requests(client, logged_in):
    user = logged_in(role="sence_national")
    resp = client.get("/api/v1/me")
    assert resp.status_code == 200
    assert resp.get_json()["id"] == user.id


def test_authenticated_but_not_allowed_is_403(client, factory, token_for):
    employer = factory.user("employer")
    secret = token_for(employer)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    for url in ["/api/v1/networks", "/api/v1/offices"]:
        body = assert_problem(client.get(url, headers=bearer(secret)), 403)
        assert "permiso" in body["detail"]


# --- writes: the session needs X-CSRFToken, a Bearer token does not --------------------------


def test_session_post_without_csrf_header_is_refused(body_client, factory, echo_calls):
    user = factory.user()
    login(body_client, user.email)
    resp = body_client.post("/api/v1/_test/echo", json={"name": "Ana"})
    body = assert_problem(resp, 400)
    assert "X-CSRFToken" in body["detail"]
    assert echo_calls == []


def test_session_post_with_wrong_csrf_header_is_refused(body_client, factory, echo_calls):
    user = factory.user()
    login(body_client, user.email)
    resp = body_client.post("/api/v1/_test/echo", json={"name": "Ana"},
                            headers={"X-CSRFToken": "falso"})
    assert_problem(resp, 400)
    assert echo_calls == []


def test_session_post_with_csrf_header_is_accepted(body_client, factory, echo_calls):
    user = factory.user()
    login(body_client, user.email)
    token = get_csrf(body_client, "/cuenta/")
    resp = body_client.post("/api/v1/_test/echo", json={"name": "Ana"},
                            headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["user_id"] == user.id
    assert echo_calls == [{"name": "Ana"}]


def test_bearer_post_needs_no_csrf_header(body_client, factory, token_for, echo_calls):
    user = factory.user()
    resp = body_client.post("/api/v1/_test/echo", json={"name": "Ana"},
                            headers=bearer(token_for(user)))
    assert resp.status_code == 200
    assert echo_calls == [{"name": "Ana"}]


def test_unauthenticated_post_is_401_not_csrf_error(body_client, echo_calls):
    assert_problem(body_client.post("/api/v1/_test/echo", json={"name": "Ana"}), 401)
    assert echo_calls == []


# --- secrets stay out of the logs ----------------------------------------------------------


def test_tokens_never_appear_in_logs(client, runner, factory, token_for, caplog):
    caplog.set_level(logging.DEBUG)
    user = factory.user("sence_national")
    secret = token_for(user)
    result = runner.invoke(args=["create-token", user.email])
    cli_secret = result.output.strip()
    for s in (secret, cli_secret):
        assert client.get("/api/v1/me", headers=bearer(s)).status_code == 200
        client.get("/api/v1/networks", headers=bearer(s))
    assert_problem(client.get("/api/v1/me", headers=bearer(secret + "x")), 401)
    assert "path=/api/v1/me" in caplog.text  # the request log did run
    for s in (secret, cli_secret):
        assert s not in caplog.text
        assert s[10:] not in caplog.text  # not even past the displayed prefix
