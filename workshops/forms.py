"""Forms for the staff workshop pages under /gestion/talleres.

The forms only read what was typed into the shapes the services take (``WorkshopData``,
``SessionInput``, ``Schedule``) and say, in Spanish, when something cannot be read at all
(a date that is not a date, a capacity that is not a number). Every business rule (end after
start, https links, known comunas and offices, who may facilitate) stays in the services;
their ``ActivityError`` is put next to its field with ``show_error``. Choices are filled in by
the view.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional

from app.activities.models import ActivityStatus, Modality
from app.activities.services import MAX_SERIES, SessionInput, check_https_url
from workshops.services import LANGUAGES, Schedule, WorkshopData

TITLE_MAX = 200
TEXT_MAX = 2000
DESCRIPTION_MAX = 20_000

# Where a service's ``ActivityError.field`` goes on these forms when the names differ.
FIELD_ALIASES = {"start": "start_time", "end": "end_time"}

_NUMERIC = {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}


def language_labels() -> dict[str, str]:
    labels = {"es": _l("Español"), "en": _l("Inglés"), "ht": _l("Creole haitiano"), "arn": _l("Mapudungun")}
    return {code: str(labels.get(code, code)) for code in LANGUAGES}


def modality_labels() -> dict[str, str]:
    return {Modality.REMOTE.value: str(_l("Remota (en línea)")),
            Modality.IN_PERSON.value: str(_l("Presencial")),
            Modality.HYBRID.value: str(_l("Híbrida (presencial y en línea)"))}


def status_labels() -> dict[str, str]:
    return {ActivityStatus.DRAFT.value: str(_l("Borrador")),
            ActivityStatus.PUBLISHED.value: str(_l("Publicado")),
            ActivityStatus.DONE.value: str(_l("Realizado")),
            ActivityStatus.CANCELLED.value: str(_l("Cancelado"))}


def show_error(form: FlaskForm, err: Any) -> list[str]:
    """Put a service error next to its field (``ActivityError.field``, or a ``StorageError``
    given a field name); return it as a summary message when no field of the form fits."""
    name = FIELD_ALIASES.get(err.field, err.field) if getattr(err, "field", None) else None
    if name and name in form:
        field = form[name]
        field.errors = [*field.errors, err.message]
        return []
    return [err.message]


# --- readers: text as typed → values, or a Spanish message -------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")
_INT_RE = re.compile(r"^[+-]?\d{1,18}$")
_THOUSANDS_RE = re.compile(r"^\d{1,3}(\.\d{3})+$")  # "1.000", as a thousand is written in Chile


def read_date(text: str | None) -> date | None:
    """``2025-03-14`` (what a date input sends) or ``14-03-2025`` as typed where there is none."""
    text = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def read_time(text: str | None) -> time | None:
    match = _TIME_RE.match((text or "").strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def read_int(text: str | None) -> int | None:
    text = (text or "").strip()
    if _THOUSANDS_RE.match(text):
        text = text.replace(".", "")
    return int(text) if _INT_RE.match(text) else None


def read_ids(values: list[str] | None) -> list[int] | None:
    """Checked ids as integers; ``None`` when one is not a number (a tampered form)."""
    out = []
    for v in values or []:
        if not str(v).strip().isdecimal():
            return None
        out.append(int(v))
    return out


def _reads(reader: Callable[[Any], Any], message: Any) -> Callable[[FlaskForm, Field], None]:
    def validator(_form: FlaskForm, field: Field) -> None:
        if field.data not in (None, "") and reader(field.data) is None:
            raise ValidationError(message)

    return validator


def _ids(message: Any) -> Callable[[FlaskForm, Field], None]:
    def validator(_form: FlaskForm, field: Field) -> None:
        if read_ids(field.data) is None:
            raise ValidationError(message)

    return validator


def _https(_form: FlaskForm, field: Field) -> None:
    from app.activities.services import ActivityError

    try:
        check_https_url(field.data, "join_url")
    except ActivityError as err:
        raise ValidationError(err.message) from err


class CheckboxesField(SelectMultipleField):
    """Ticked ids from a group of checkboxes (rendered by the template in a fieldset)."""

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        super().__init__(label, validators, validate_choice=False, **kw)


# --- the workshop ------------------------------------------------------------------------------


class WorkshopForm(FlaskForm):
    """A workshop's details (not its sessions)."""

    title = StringField(_l("Título del taller"), validators=[
        DataRequired(_l("Escriba un título.")),
        Length(max=TITLE_MAX, message=_l("El título no puede superar %(n)s caracteres.", n=TITLE_MAX)),
    ])
    topic_id = SelectField(_l("Tema"), validate_choice=False, validators=[
        DataRequired(_l("Elija un tema de la lista.")),
        _reads(read_int, _l("Elija un tema de la lista.")),
    ])
    description = TextAreaField(_l("Descripción"), validators=[
        Optional(),
        Length(max=DESCRIPTION_MAX, message=_l("La descripción es demasiado larga (máximo %(n)s caracteres).",
                                               n=DESCRIPTION_MAX)),
    ])
    audience = TextAreaField(_l("A quién está dirigido (opcional)"), validators=[
        Optional(),
        Length(max=TEXT_MAX, message=_l("El texto es demasiado largo (máximo %(n)s caracteres).", n=TEXT_MAX)),
    ])
    language = SelectField(_l("Idioma"), validate_choice=False, default="es", validators=[
        DataRequired(_l("Elija un idioma de la lista.")),
    ])
    host_office_id = SelectField(_l("Oficina que dicta el taller"), validate_choice=False, validators=[
        DataRequired(_l("Elija la oficina que dicta el taller.")),
        _reads(read_int, _l("Elija la oficina que dicta el taller.")),
    ])
    network_ids = CheckboxesField(_l("Redes a las que pertenece"), validators=[
        _ids(_l("Una de las redes elegidas no existe."))])
    convening_office_ids = CheckboxesField(_l("Oficinas convocantes"), validators=[
        _ids(_l("Una de las oficinas convocantes no existe."))])
    facilitator_user_ids = CheckboxesField(_l("Personas facilitadoras del equipo"), validators=[
        _ids(_l("Una de las personas facilitadoras no existe."))])
    guest_facilitators = TextAreaField(_l("Facilitadoras o facilitadores invitados (opcional)"), validators=[
        Optional(),
        Length(max=TEXT_MAX, message=_l("El texto es demasiado largo (máximo %(n)s caracteres).", n=TEXT_MAX)),
    ])
    offers_subtitles = BooleanField(_l("Subtítulos"))
    offers_sign_language = BooleanField(_l("Intérprete de lengua de señas chilena"))
    offers_materials_in_advance = BooleanField(_l("Materiales disponibles antes del taller"))
    accessibility_notes = TextAreaField(_l("Otras notas de accesibilidad (opcional)"), validators=[
        Optional(),
        Length(max=TEXT_MAX, message=_l("El texto es demasiado largo (máximo %(n)s caracteres).", n=TEXT_MAX)),
    ])

    def to_data(self, host_office_id: int | None = None) -> WorkshopData:
        """What was typed, as the service takes it (call after ``validate``)."""
        host = host_office_id if host_office_id is not None else read_int(self.host_office_id.data)
        guests = [line.strip() for line in (self.guest_facilitators.data or "").splitlines() if line.strip()]
        return WorkshopData(
            title=self.title.data or "", description=self.description.data or "",
            topic_id=read_int(self.topic_id.data) or 0, host_office_id=host or 0,
            audience=self.audience.data or "", language=self.language.data or "",
            network_ids=read_ids(self.network_ids.data) or [],
            convening_office_ids=read_ids(self.convening_office_ids.data) or [],
            facilitator_user_ids=read_ids(self.facilitator_user_ids.data) or [],
            guest_facilitators=guests, offers_subtitles=bool(self.offers_subtitles.data),
            offers_sign_language=bool(self.offers_sign_language.data),
            offers_materials_in_advance=bool(self.offers_materials_in_advance.data),
            accessibility_notes=self.accessibility_notes.data or "")


# --- sessions ----------------------------------------------------------------------------------


class SessionFields(FlaskForm):
    """One session as staff describe it, in the host comuna's wall-clock time."""

    date = StringField(_l("Fecha"), render_kw={"type": "date"}, validators=[
        DataRequired(_l("Escriba la fecha de la sesión.")),
        _reads(read_date, _l("La fecha no es válida. Escríbala como día-mes-año, por ejemplo 14-03-2026.")),
    ])
    start_time = StringField(_l("Hora de inicio"), render_kw={"type": "time"}, validators=[
        DataRequired(_l("Escriba la hora de inicio.")),
        _reads(read_time, _l("La hora de inicio no es válida. Escríbala como horas:minutos, por ejemplo 10:30.")),
    ])
    end_time = StringField(_l("Hora de término"), render_kw={"type": "time"}, validators=[
        DataRequired(_l("Escriba la hora de término.")),
        _reads(read_time, _l("La hora de término no es válida. Escríbala como horas:minutos, por ejemplo 12:00.")),
    ])
    modality = RadioField(_l("Modalidad"), validate_choice=False, default=Modality.REMOTE.value, validators=[
        DataRequired(_l("Elija si la sesión es remota, presencial o híbrida.")),
    ])
    capacity = StringField(_l("Cupo"), render_kw=_NUMERIC, validators=[
        DataRequired(_l("Escriba el cupo de la sesión.")),
        _reads(read_int, _l("Escriba el cupo como un número entero, por ejemplo 30.")),
    ])
    venue_name = StringField(_l("Lugar"), validators=[
        Optional(), Length(max=200, message=_l("El texto es demasiado largo (máximo %(n)s caracteres).", n=200))])
    address = StringField(_l("Dirección"), validators=[
        Optional(), Length(max=300, message=_l("El texto es demasiado largo (máximo %(n)s caracteres).", n=300))])
    comuna_code = SelectField(_l("Comuna"), validate_choice=False, validators=[Optional()])
    join_url = StringField(_l("Enlace para conectarse"), render_kw={"type": "url", "spellcheck": "false"},
                           validators=[Optional(), _https])

    def validate_modality(self, field: Field) -> None:
        if field.data not in modality_labels():
            raise ValidationError(_l("Elija si la sesión es remota, presencial o híbrida."))

    def to_input(self, timezone: str) -> SessionInput:
        day = read_date(self.date.data)
        start, end = read_time(self.start_time.data), read_time(self.end_time.data)
        assert day is not None and start is not None and end is not None, "call after validate()"
        return SessionInput(
            start_local=datetime.combine(day, start), end_local=datetime.combine(day, end), timezone=timezone,
            modality=Modality(self.modality.data), capacity=read_int(self.capacity.data) or 0,
            venue_name=(self.venue_name.data or "").strip() or None, address=(self.address.data or "").strip() or None,
            comuna_code=self.comuna_code.data or None, join_url=(self.join_url.data or "").strip() or None)

    def fill_from(self, session: Any) -> None:
        """Show a stored session's values (in its own zone)."""
        self.date.data = f"{session.local_start:%Y-%m-%d}"
        self.start_time.data = f"{session.local_start:%H:%M}"
        self.end_time.data = f"{session.local_end:%H:%M}"
        self.modality.data = session.modality.value
        self.capacity.data = str(session.capacity)
        self.venue_name.data = session.venue_name or ""
        self.address.data = session.address or ""
        self.comuna_code.data = session.comuna_code or ""
        self.join_url.data = session.join_url or ""


class ConfirmFields(FlaskForm):
    """The second click of the conflict flow."""

    confirm_warnings = HiddenField()
    confirm_facilitator = BooleanField(_l("Confirmo que la persona facilitadora puede estar en ambas sesiones"))

    @property
    def warnings_confirmed(self) -> bool:
        return self.confirm_warnings.data == "1"


class RepeatFields(FlaskForm):
    count = StringField(_l("Repetir cada semana"), default="1", render_kw=_NUMERIC, validators=[
        DataRequired(_l("Escriba cuántas sesiones semanales tendrá (1 para una sola sesión).")),
        _reads(read_int, _l("Escriba un número de semanas entre 1 y %(n)s.", n=MAX_SERIES)),
    ])

    def validate_count(self, field: Field) -> None:
        n = read_int(field.data)
        if n is not None and not 1 <= n <= MAX_SERIES:
            raise ValidationError(_l("Escriba un número de semanas entre 1 y %(n)s.", n=MAX_SERIES))

    def to_schedule(self, first: SessionInput) -> Schedule:
        return Schedule(first=first, count=read_int(self.count.data) or 1)


class WorkshopNewForm(WorkshopForm, SessionFields, RepeatFields, ConfirmFields):
    """The workshop with its first session (or weekly series)."""


class SessionNewForm(SessionFields, RepeatFields, ConfirmFields):
    """Add one session or a weekly series to a workshop."""


class SessionEditForm(SessionFields, ConfirmFields):
    scope = RadioField(_l("¿Qué sesiones cambia?"), validate_choice=False, default="one")

    def validate_scope(self, field: Field) -> None:
        if field.data not in ("one", "series"):
            raise ValidationError(_l("Elija si cambia solo esta sesión o también las siguientes de la serie."))

    @property
    def whole_series(self) -> bool:
        return self.scope.data == "series"


# --- actions on the staff page -----------------------------------------------------------------


class ReasonForm(FlaskForm):
    """Cancel a workshop or a session. CSRF: the page's token, checked by CSRFProtect."""

    class Meta:
        csrf = False

    reason = TextAreaField(_l("Motivo de la cancelación"), render_kw={"required": True}, validators=[
        DataRequired(_l("Escriba el motivo de la cancelación; se comunicará a las personas inscritas.")),
        Length(max=2000, message=_l("El motivo no puede superar %(n)s caracteres.", n=2000)),
    ])


class NoteForm(FlaskForm):
    class Meta:
        csrf = False

    text = TextAreaField(_l("Nueva nota para el equipo"), render_kw={"required": True}, validators=[
        DataRequired(_l("Escriba la nota.")),
        Length(max=5000, message=_l("La nota no puede superar 5.000 caracteres.")),
    ])


class MaterialForm(FlaskForm):
    class Meta:
        csrf = False

    title = StringField(_l("Título del material (opcional)"), validators=[
        Optional(),
        Length(max=TITLE_MAX, message=_l("El título no puede superar %(n)s caracteres.", n=TITLE_MAX)),
    ])
    file = FileField(_l("Archivo"), validators=[FileRequired(_l("Elija el archivo que quiere subir."))])


class FilterForm(FlaskForm):
    """The GET filter of the workshop list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Estado"), validate_choice=False, validators=[Optional()])
    topic = SelectField(_l("Tema"), validate_choice=False, validators=[Optional()])

    def validate_status(self, field: Field) -> None:
        if field.data and field.data not in status_labels():
            raise ValidationError(_l("Elija un estado de la lista."))

    def validate_topic(self, field: Field) -> None:
        if field.data and read_int(field.data) is None:
            raise ValidationError(_l("Elija un tema de la lista."))


class TopicForm(FlaskForm):
    name = StringField(_l("Nombre del tema"), validators=[
        DataRequired(_l("Escriba el nombre del tema.")),
        Length(max=120, message=_l("El nombre no puede superar 120 caracteres.")),
    ])
    description = TextAreaField(_l("Descripción (opcional)"), validators=[
        Optional(), Length(max=TEXT_MAX, message=_l("La descripción no puede superar %(n)s caracteres.", n=TEXT_MAX))])
    active = BooleanField(_l("Disponible para nuevos talleres"), default=True)
