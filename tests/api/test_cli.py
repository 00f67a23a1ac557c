"""``flask --app wsgi create-token EMAIL``."""

from __future__ import annotations

from tests.api.conftest import bearer


def test_create_token_prints_a_token_that_works_as_bearer(client, runner, factory):
    user = factory.user(email="coordinadora@example.cl")
    result = runner.invoke(args=["create-token", "Coordinadora@Example.cl"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("pl_") and "\n" not in secret
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 200
    assert resp.get_json()["id"] == user.id


def test_create_token_names_the_token(runner, factory):
    from sqlalchemy import select

    from app.accounts.models import ApiToken
    from app.extensions import db

    user = factory.user()
    result = runner.invoke(args=["create-token", user.email, "--name", "sincronización"])
    assert result.exit_code == 0
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.name == "sincronización"
    assert token.token_hash not in result.output


def test_create_token_for_an_unknown_email_fails_clearly(runner):
    result = runner.invoke(args=["create-token", "nadie@example.cl"])
    assert result.exit_code != 0
    assert "No hay una cuenta activa con el correo nadie@example.cl" in result.output


def test_create_token_for_a_deactivated_account_fails(runner, factory):
    user = factory.user(active=False)
    result = runner.invoke(args=["create-token", user.email])
    assert result.exit_code != 0
    assert "No hay una cuenta activa" in result.output
