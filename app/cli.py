"""Command-line tools: ``flask --app wsgi <command>``."""

from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--name", default="línea de comandos", help="Nombre para reconocer el token.")
    def create_token(email: str, name: str) -> None:
        """Create a personal API token for EMAIL and print it (shown only once)."""
        from sqlalchemy import select

        from app.accounts.models import User
        from app.accounts.services import AccountError, create_api_token, normalise_email
        from app.extensions import db

        user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None or not user.active:
            raise click.ClickException(f"No hay una cuenta activa con el correo {email}.")
        try:
            _token, secret = create_api_token(user, name)
        except AccountError as err:
            raise click.ClickException(err.message) from err
        click.echo(secret)

    @app.cli.command("rotate-credentials")
    def rotate_credentials() -> None:
        """Re-encrypt stored credentials under the first key of CREDENTIALS_KEY."""
        from app.secrets import SecretError, rotate_all

        try:
            n = rotate_all()
        except SecretError as err:
            raise click.ClickException(str(err)) from err
        click.echo(f"{n} valores cifrados de nuevo con la clave más reciente.")

    from app.demo import register_demo_cli

    register_demo_cli(app)
