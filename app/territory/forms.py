"""Forms for the territory pages. Field checks reuse the service's cleaners, so the page and
the service say the same thing; choices are filled in by the view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional

from app.territory import services
from app.territory.models import OfficeCategory, OfficeKind, Region
from app.territory.search import spanish_key


def _check(cleaner: Callable[[Any], Any]) -> Callable[[FlaskForm, Field], None]:
    """A WTForms validator that runs a service cleaner and shows its message."""

    def validator(_form: FlaskForm, field: Field) -> None:
        try:
            cleaner(field.data)
        except services.TerritoryError as err:
            raise ValidationError(err.message) from err

    return validator


def show_error(form: FlaskForm, err: Any) -> list[str]:
    """Put a service error (``TerritoryError`` or ``AccountError``) next to its field; return
    it as a summary message when it belongs to no field of this form."""
    if err.field and err.field in form:
        field = form[err.field]
        field.errors = [*field.errors, err.message]
        return []
    return [err.message]


_NAME = [
    DataRequired(_l("Escriba el nombre.")),
    Length(max=services.NAME_MAX,
           message=_l("El nombre no puede superar %(n)s caracteres.", n=services.NAME_MAX)),
]


class NetworkForm(FlaskForm):
    name = StringField(_l("Nombre de la red"), validators=_NAME)
    description = TextAreaField(_l("Descripción (opcional)"), validators=[
        Optional(),
        Length(max=services.DESCRIPTION_MAX, message=_l(
            "La descripción no puede superar %(n)s caracteres.", n=services.DESCRIPTION_MAX)),
    ])
    regions = SelectMultipleField(_l("Regiones de la red"), validate_choice=False, validators=[
        DataRequired(_l("Elija al menos una región.")),
    ])

    def set_region_choices(self, regions: list[Region]) -> None:
        self.regions.choices = [SelectChoice(r.code, r.name) for r in regions]


class MemberOfficeForm(FlaskForm):
    """Add an office to a network. Used with a prefix beside other forms on the same page, so
    its CSRF token is the page's (checked by CSRFProtect for every POST)."""

    class Meta:
        csrf = False

    office_id = SelectField(_l("Oficina"), validate_choice=False, validators=[
        DataRequired(_l("Elija una oficina de la lista.")),
    ])


class CoordinationForm(FlaskForm):
    """Choose the coordinating office of a year (CSRF as in ``MemberOfficeForm``)."""

    class Meta:
        csrf = False

    year = SelectField(_l("Año"), validate_choice=False, validators=[
        DataRequired(_l("Elija el año.")),
    ])
    office_id = SelectField(_l("Oficina coordinadora"), validate_choice=False, validators=[
        DataRequired(_l("Elija una de las oficinas de la red.")),
    ])


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(OfficeKind.OMIL.value, str(_l("OMIL"))),
            SelectChoice(OfficeKind.PLATAFORMA.value, str(_l("Plataforma laboral")))]


def category_labels() -> dict[str, str]:
    return {OfficeCategory.BASICA.value: str(_l("Básica")),
            OfficeCategory.INTERMEDIA.value: str(_l("Intermedia")),
            OfficeCategory.AVANZADA.value: str(_l("Avanzada"))}


def category_choices() -> list[SelectChoice]:
    return [SelectChoice("", str(_l("Sin categoría (plataforma laboral)"))),
            *(SelectChoice(k, v) for k, v in category_labels().items())]


def comuna_choices(regions: list[Region]) -> list[SelectChoice]:
    """Comunas grouped by region (rendered as <optgroup>), north to south."""
    out = [SelectChoice("", str(_l("Elija una comuna")))]
    for region in regions:
        # Alphabetical as people read it: "Ñuñoa" after "Nogales", not after "Vitacura".
        comunas = sorted(region.comunas, key=lambda c: spanish_key(c.name))
        out.extend(SelectChoice(c.code, c.name, optgroup=region.name) for c in comunas)
    return out


class OfficeForm(FlaskForm):
    name = StringField(_l("Nombre de la oficina"), validators=_NAME)
    kind = SelectField(_l("Tipo"), validate_choice=False, validators=[
        DataRequired(_l("Elija si es una OMIL o una plataforma laboral."))])
    category = SelectField(_l("Categoría OMIL"), validate_choice=False)
    comuna_code = SelectField(_l("Comuna"), validate_choice=False, validators=[
        DataRequired(_l("Elija una comuna de la lista.")),
        _check(services.clean_comuna),
    ])
    email = EmailField(_l("Correo electrónico de la oficina"), validators=[
        Optional(), _check(services.clean_email)])
    whatsapp = StringField(_l("WhatsApp"), validators=[
        Optional(), _check(lambda v: services.clean_phone(v, "whatsapp"))])
    phone = StringField(_l("Teléfono"), validators=[
        Optional(), _check(lambda v: services.clean_phone(v, "phone"))])
    facebook_url = URLField(_l("Página de Facebook"), validators=[
        Optional(), _check(lambda v: services.clean_url(v, "facebook_url", facebook=True))])
    website = URLField(_l("Sitio web"), validators=[
        Optional(), _check(lambda v: services.clean_url(v, "website"))])
    address = StringField(_l("Dirección"), validators=[
        Optional(),
        Length(max=services.ADDRESS_MAX, message=_l(
            "La dirección no puede superar %(n)s caracteres.", n=services.ADDRESS_MAX)),
    ])
    opening_hours = TextAreaField(_l("Horario de atención"), validators=[
        Optional(),
        Length(max=services.HOURS_MAX, message=_l(
            "El horario no puede superar %(n)s caracteres.", n=services.HOURS_MAX)),
    ])

    def fill_choices(self, regions: list[Region]) -> None:
        self.kind.choices = kind_choices()
        self.category.choices = category_choices()
        self.comuna_code.choices = comuna_choices(regions)

    def validate_kind(self, field: Field) -> None:
        self._kind_and_category("kind")

    def validate_category(self, field: Field) -> None:
        self._kind_and_category("category")

    def _kind_and_category(self, which: str) -> None:
        try:
            services.clean_kind_and_category(self.kind.data, self.category.data)
        except services.TerritoryError as err:
            if err.field == which:
                raise ValidationError(err.message) from err

    def to_input(self) -> services.OfficeInput:
        return services.OfficeInput(**{name: self[name].data for name in (
            "name", "kind", "category", "comuna_code", "email", "whatsapp", "phone",
            "facebook_url", "website", "address", "opening_hours")})


class OfficeFilterForm(FlaskForm):
    """The GET filter on the office list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    region = SelectField(_l("Región"), validate_choice=False, validators=[Optional()])
    q = SearchField(_l("Buscar por nombre o comuna"), validators=[
        Optional(), Length(max=100, message=_l("Escriba hasta 100 caracteres."))])

