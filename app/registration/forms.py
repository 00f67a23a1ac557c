"""Registration forms, in plain words with every field explained.

``QuickForm`` is the public form: only what holds the seat (names, document, one contact,
comuna, consent, and the dates of a series). ``ExtrasForm`` is the optional second page after
the seat is held (accessibility, connectivity, the profile, the opt-ins). ``PersonForm`` has
everything, for "Mis datos".
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from app.people.services import PersonInput


class ProfileFields(FlaskForm):
    """What helps the office prepare for the person, asked the same way on "Mis datos", the
    staff form and the optional second page: none of it is needed to hold a seat."""

    needs_subtitles = BooleanField(_l("Subtítulos"))
    needs_sign_language = BooleanField(_l("Intérprete de lengua de señas chilena"))
    uses_screen_reader = BooleanField(_l("Uso lector de pantalla"))
    accessibility_other = StringField(_l("Otra necesidad (opcional)"))
    connectivity = RadioField(_l("¿Cómo es su conexión a internet?"), choices=[
        SelectChoice("good", _l("Buena (wifi o plan de datos suficiente)")),
        SelectChoice("mobile_only", _l("Solo datos del celular")),
        SelectChoice("none", _l("No tengo conexión"))], default="good", validate_choice=False)
    rural = BooleanField(_l("Vivo en un sector rural"))
    soft_skills = TextAreaField(_l("¿Qué habilidades le gustaría destacar? (opcional)"))
    availability = StringField(_l("¿Qué días y horarios tiene disponibles para trabajar? (opcional)"))


class PersonForm(ProfileFields):
    first_names = StringField(_l("Nombres"))
    last_names = StringField(_l("Apellidos"))
    document_type = RadioField(_l("Documento de identidad"), choices=[
        SelectChoice("rut", _l("RUT")), SelectChoice("passport", _l("Pasaporte")),
        SelectChoice("foreign_id", _l("Documento extranjero"))],
        default="rut", validate_choice=False)
    document_number = StringField(_l("Número de RUT o documento"))
    email = EmailField(_l("Correo electrónico (opcional si deja celular)"))
    phone = TelField(_l("Celular (opcional si deja correo)"))
    comuna_code = SelectField(_l("Comuna donde vive"), validate_choice=False)
    preferred_channel = RadioField(_l("¿Cómo prefiere que le avisemos?"), choices=[
        SelectChoice("email", _l("Correo electrónico")), SelectChoice("whatsapp", _l("WhatsApp")),
        SelectChoice("sms", _l("Mensaje de texto (SMS)")),
        SelectChoice("phone_call", _l("Llamada telefónica"))], default="", validate_choice=False)
    consent_data = BooleanField(_l("Acepto que la oficina use mis datos para esta actividad y para avisarme de ella."))
    consent_recording = BooleanField(_l("Acepto aparecer en la grabación de la sesión (opcional)."))
    opt_in_future = BooleanField(_l("Quiero que me avisen de futuros talleres y ferias (opcional)."))

    def choice_label(self, name: str, value: str) -> str:
        """The label shown for a stored value of a radio field (e.g. "whatsapp" -> "WhatsApp")."""
        for choice in self[name].choices or []:
            v, label = (choice.value, choice.label) if isinstance(choice, SelectChoice) else choice[:2]
            if v == value:
                return str(label)
        return value

    def to_input(self) -> PersonInput:
        return PersonInput(**{name: (self[name].data if self[name].data is not None else "")
                              for name in PersonInput.__dataclass_fields__ if name != "cleaned" and name in self})


class _ToInput:
    def to_input(self) -> PersonInput:
        return PersonInput(**{name: (self[name].data if self[name].data is not None else "")  # type: ignore[index]
                              for name in PersonInput.__dataclass_fields__
                              if name != "cleaned" and name in self})  # type: ignore[operator]


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes with one name (the dates of a series)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PrerenderedSelect(Select):
    """A long list (the 346 comunas) whose options were rendered once per process and language
    (``field.options_html``); only the chosen option is marked here. Rendering them through
    WTForms on every request was most of the form's server time."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        options = getattr(field, "options_html", None)
        if options is None:
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        value, options = str(escape(field.data or "")), str(options)
        if value:
            options = options.replace(f'<option value="{value}">', f'<option selected value="{value}">', 1)
        # html_params escapes every value; the options were built escaped (Markup.format).
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704


class QuickForm(_ToInput, FlaskForm):
    """What holds the seat; the rest comes after (``ExtrasForm``)."""

    first_names = StringField(_l("Nombres"))
    last_names = StringField(_l("Apellidos"))
    document_type = RadioField(_l("Documento de identidad"), choices=[
        SelectChoice("rut", _l("RUT")), SelectChoice("passport", _l("Pasaporte")),
        SelectChoice("foreign_id", _l("Documento extranjero"))],
        default="rut", validate_choice=False)
    document_number = StringField(_l("Número de RUT o documento"))
    phone = TelField(_l("Celular"))
    email = EmailField(_l("Correo electrónico"))
    # No default: the channel follows from the contact given (app.people.services.clean_person).
    preferred_channel = RadioField(_l("Si deja celular, ¿cómo le avisamos?"), choices=[
        SelectChoice("whatsapp", _l("WhatsApp")), SelectChoice("sms", _l("Mensaje de texto (SMS)")),
        SelectChoice("phone_call", _l("Llamada telefónica")),
        SelectChoice("email", _l("Por correo, aunque deje celular"))], default="", validate_choice=False)
    comuna_code = SelectField(_l("Comuna donde vive"), validate_choice=False, widget=PrerenderedSelect())
    sessions = MultiCheckboxField(_l("Fechas"), validate_choice=False)
    consent_data = BooleanField(_l("Acepto que la oficina use mis datos para esta actividad y para avisarme de ella."))


class ExtrasForm(ProfileFields):
    """The optional second page: nothing here is needed to hold the seat."""

    consent_recording = BooleanField(_l("Acepto aparecer en la grabación de la sesión."))
    opt_in_future = BooleanField(_l("Quiero que me avisen de futuros talleres y ferias."))
