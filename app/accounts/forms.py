"""Account forms. Validation messages are Spanish and say how to fix the problem."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Correo electrónico"), validators=[
        DataRequired(_l("Escriba su correo electrónico.")),
        Length(max=254, message=_l("El correo es demasiado largo.")),
        Email(_l("Escriba un correo válido, como nombre@municipio.cl."), check_deliverability=False),
    ])
    password = PasswordField(_l("Contraseña"), validators=[
        DataRequired(_l("Escriba su contraseña.")),
        Length(max=200, message=_l("La contraseña es demasiado larga.")),
    ])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Correo electrónico"), validators=[
        DataRequired(_l("Escriba su correo electrónico.")),
        Length(max=254, message=_l("El correo es demasiado largo.")),
        Email(_l("Escriba un correo válido, como nombre@municipio.cl."), check_deliverability=False),
    ])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("Nueva contraseña"), validators=[
        DataRequired(_l("Escriba una contraseña.")),
        Length(min=10, max=200, message=_l("La contraseña debe tener entre 10 y 200 caracteres.")),
    ])
    confirm = PasswordField(_l("Repita la contraseña"), validators=[
        DataRequired(_l("Repita la contraseña.")),
        EqualTo("password", _l("Las dos contraseñas no coinciden.")),
    ])


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Su nombre"), validators=[
        DataRequired(_l("Escriba su nombre.")),
        Length(max=160, message=_l("El nombre no puede superar 160 caracteres.")),
    ])


class InviteForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[
        DataRequired(_l("Escriba el nombre de la persona.")),
        Length(max=160, message=_l("El nombre no puede superar 160 caracteres.")),
    ])
    email = EmailField(_l("Correo electrónico"), validators=[
        DataRequired(_l("Escriba el correo de la persona.")),
        Length(max=254, message=_l("El correo es demasiado largo.")),
        Email(_l("Escriba un correo válido, como nombre@municipio.cl."), check_deliverability=False),
    ])
    office_id = SelectField(_l("Oficina"), coerce=int, validate_choice=True)


class TokenForm(FlaskForm):
    name = StringField(_l("Nombre del token"), validators=[
        DataRequired(_l("Dé un nombre al token para reconocerlo después.")),
        Length(max=80, message=_l("El nombre del token no puede superar 80 caracteres.")),
    ])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Contraseña actual"), validators=[
        DataRequired(_l("Escriba su contraseña actual.")),
        Length(max=200, message=_l("La contraseña es demasiado larga.")),
    ])
    password = PasswordField(_l("Nueva contraseña"), validators=[
        DataRequired(_l("Escriba una contraseña nueva.")),
        Length(min=10, max=200, message=_l("La contraseña debe tener entre 10 y 200 caracteres.")),
    ])
    confirm = PasswordField(_l("Repita la nueva contraseña"), validators=[
        DataRequired(_l("Repita la nueva contraseña.")),
        EqualTo("password", _l("Las dos contraseñas no coinciden.")),
    ])
