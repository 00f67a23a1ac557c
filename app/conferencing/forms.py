"""Staff forms of conferencing: a session's provider, and an office's video credentials.

The forms only carry what was typed (and the CSRF token); the services check it and answer
with a Spanish message next to the field. Secret fields are password inputs: what was
typed there is never written back into the page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField, TextAreaField


class ProviderForm(FlaskForm):
    provider = RadioField(_l("Cómo se conectan las personas"), choices=[], validate_choice=False)
    join_url = StringField(_l("Enlace de la sesión (si lo pega a mano)"))


class RetryForm(FlaskForm):
    pass


class ZoomCredentialsForm(FlaskForm):
    account_id = StringField(_l("Account ID"))
    client_id = StringField(_l("Client ID"))
    client_secret = PasswordField(_l("Client Secret"))
    user_id = StringField(_l("Usuario anfitrión (opcional)"))
    sdk_key = StringField(_l("Clave del Meeting SDK (opcional)"))
    sdk_secret = PasswordField(_l("Secreto del Meeting SDK (opcional)"))
    webhook_secret = PasswordField(_l("Secret Token de los eventos de Zoom (opcional)"))


class GoogleCredentialsForm(FlaskForm):
    service_account_json = TextAreaField(_l("Clave de la cuenta de servicio (JSON)"))
    calendar_id = StringField(_l("ID del calendario"))
    delegated_user = StringField(_l("Cuenta de Google Workspace que organiza las reuniones"))


class DefaultProviderForm(FlaskForm):
    default_provider = SelectField(_l("Proveedor para las sesiones en línea sin enlace"), choices=[],
                                   validate_choice=False)


class ClearForm(FlaskForm):
    pass
