"""Forms of the staff registration pages: the walk-in / phone form (the public form worded for
the person at the other side of the counter), the person's details, moving, attendance."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from app.people.models import Person
from app.people.services import PersonInput
from app.registration.forms import PersonForm


class StaffPersonForm(PersonForm):
    """The public form's fields and checks, in the third person for staff."""

    uses_screen_reader = BooleanField(_l("Usa lector de pantalla"))
    connectivity = RadioField(_l("¿Cómo es su conexión a internet?"), choices=[
        SelectChoice("good", _l("Buena (wifi o plan de datos suficiente)")),
        SelectChoice("mobile_only", _l("Solo datos del celular")),
        SelectChoice("none", _l("No tiene conexión"))], default="good", validate_choice=False)
    rural = BooleanField(_l("Vive en un sector rural"))
    soft_skills = TextAreaField(_l("Habilidades que quiere destacar (opcional)"))
    availability = StringField(_l("Días y horarios disponibles para trabajar (opcional)"))
    consent_data = BooleanField(_l("La persona aceptó por teléfono o en persona el uso de sus datos para esta "
                                   "actividad y para avisarle de ella."))
    consent_recording = BooleanField(_l("La persona acepta aparecer en la grabación de la sesión (opcional)."))
    opt_in_future = BooleanField(_l("La persona quiere que le avisen de futuros talleres y ferias (opcional)."))


class WalkInForm(StaffPersonForm):
    """The walk-in / phone form: the person's details and how they reached the office (so the
    campaign report credits the phone and the counter too)."""

    via = RadioField(_l("¿Cómo llegó esta inscripción?"), choices=[
        SelectChoice("counter", _l("En el mesón de atención")),
        SelectChoice("phone", _l("Por teléfono"))], default="counter")


class PersonEditForm(StaffPersonForm):
    """Stored details staff may update. The document identifies the person and stays; the
    consent to data processing was given when they registered."""

    document_type = None  # type: ignore[assignment]
    document_number = None  # type: ignore[assignment]
    consent_data = None  # type: ignore[assignment]

    @classmethod
    def for_person(cls, person: Person) -> PersonEditForm:
        return cls(data={
            "first_names": person.first_names, "last_names": person.last_names, "email": person.email or "",
            "phone": person.phone or "", "comuna_code": person.comuna_code or "",
            "preferred_channel": person.preferred_channel.value, "needs_subtitles": person.needs_subtitles,
            "needs_sign_language": person.needs_sign_language, "uses_screen_reader": person.uses_screen_reader,
            "accessibility_other": person.accessibility_other, "connectivity": person.connectivity.value,
            "rural": person.rural, "soft_skills": person.soft_skills, "availability": person.availability,
            "consent_recording": person.consent_recording, "opt_in_future": person.opt_in_future})

    def to_input(self) -> PersonInput:
        return PersonInput(**{name: (self[name].data if self[name].data is not None else "")
                              for name in PersonInput.__dataclass_fields__
                              if name not in ("cleaned", "document_type", "document_number", "consent_data")
                              and name in self})


class FilterForm(FlaskForm):
    """The GET filter of the registrants list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Estado"), validate_choice=False)
    office = SelectField(_l("Oficina que inscribió"), validate_choice=False)


class MoveForm(FlaskForm):
    session_id = SelectField(_l("Nueva sesión"), validate_choice=False)


class AttendanceUploadForm(FlaskForm):
    file = FileField(_l("Archivo CSV de participantes"),
                     validators=[FileRequired(_l("Elija el archivo CSV que descargó de Zoom o Google Meet."))])


class AttendanceConfirmForm(FlaskForm):
    plan = HiddenField()
    reg = SelectMultipleField(_l("Marcar como presentes"), coerce=str, validate_choice=False)
