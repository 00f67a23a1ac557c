"""Marshmallow schemas of the API: what goes in (query strings, later bodies) and what comes out.

Every input schema derives from ``ApiSchema`` so marshmallow's stock English messages reach
clients in Spanish. Every list answers with the same envelope (see ``page_of``).
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Enum, Integer, List, Nested, Pluck, String
from apiflask.validators import Range, Regexp
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE

from app.accounts.models import Role
from app.territory.models import OfficeCategory, OfficeKind, SenceUnitLevel

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
MAX_PAGE = 100_000

class ApiSchema(Schema):
    """Base for API schemas. Unknown fields in a body are refused (422 «Campo desconocido.»);
    marshmallow's English messages are said in Spanish by ``app.api.messages``."""

    class Meta:
        unknown = RAISE


# --- input: query strings ------------------------------------------------------------------

REGION_CODE = r"^[0-9]{2}$"
COMUNA_CODE = r"^[0-9]{5}$"


def region_code_field(description: str) -> String:
    return String(
        validate=Regexp(REGION_CODE, error=_l("Escriba el código de región de dos dígitos, "
                                              "por ejemplo 13 o 05.")),
        metadata={"description": description, "example": "13"},
    )


class PageQuery(ApiSchema):
    page = Integer(
        load_default=1,
        validate=Range(min=1, max=MAX_PAGE,
                       error=_l("La página debe ser un número entre {min} y {max}.")),
        metadata={"description": "Número de página, desde 1."},
    )
    per_page = Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=Range(min=1, max=MAX_PER_PAGE,
                       error=_l("Pida entre {min} y {max} elementos por página.")),
        metadata={"description": f"Elementos por página (1 a {MAX_PER_PAGE}; "
                                 f"por omisión {DEFAULT_PER_PAGE})."},
    )


class ComunaQuery(PageQuery):
    region = region_code_field("Solo las comunas de esta región (código CUT de dos dígitos).")


class OfficeQuery(PageQuery):
    region = region_code_field("Solo las oficinas de esta región (código CUT de dos dígitos).")
    comuna = String(
        validate=Regexp(COMUNA_CODE, error=_l("Escriba el código de comuna de cinco dígitos, "
                                              "por ejemplo 13101.")),
        metadata={"description": "Solo las oficinas de esta comuna (código CUT de cinco dígitos).",
                  "example": "13101"},
    )


# --- output --------------------------------------------------------------------------------


class Region(ApiSchema):
    code = String(required=True, metadata={"description": "Código CUT de la región.",
                                           "example": "13"})
    name = String(required=True, metadata={"example": "Metropolitana de Santiago"})
    iso_code = String(required=True, metadata={"description": "ISO 3166-2.", "example": "CL-RM"})
    roman = String(required=True, metadata={"description": "Número romano (RM para la Metropolitana).",
                                            "example": "RM"})


class Comuna(ApiSchema):
    code = String(required=True, metadata={"description": "Código CUT de la comuna.",
                                           "example": "13101"})
    name = String(required=True, metadata={"example": "Santiago"})
    province = String(required=True, metadata={"example": "Santiago"})
    region_code = String(required=True, metadata={"example": "13"})
    timezone = String(required=True, metadata={"description": "Zona horaria IANA.",
                                               "example": "America/Santiago"})


class OfficeRef(ApiSchema):
    id = Integer(required=True)
    name = String(required=True)


class SenceUnitRef(ApiSchema):
    id = Integer(required=True)
    name = String(required=True)
    level = Enum(SenceUnitLevel, by_value=True, required=True)
    region_code = String(allow_none=True, required=True,
                         metadata={"description": "Nulo para el nivel nacional."})


class Me(ApiSchema):
    id = Integer(required=True)
    name = String(required=True)
    email = String(required=True)
    role = Enum(Role, by_value=True, required=True)
    office = Nested(OfficeRef, allow_none=True, required=True,
                    metadata={"description": "La oficina de la persona (solo personal OMIL)."})
    sence_unit = Nested(SenceUnitRef, allow_none=True, required=True,
                        metadata={"description": "La unidad SENCE (solo personal SENCE)."})
    region_code = String(allow_none=True, required=True,
                         metadata={"description": "La región donde trabaja, si tiene una."})
    coordinated_network_ids = List(
        Integer(), required=True,
        metadata={"description": "Redes que su oficina coordina este año."})


class Network(ApiSchema):
    id = Integer(required=True)
    name = String(required=True)
    slug = String(required=True)
    active = Boolean(required=True)
    region_codes = List(String(), required=True,
                        metadata={"description": "Regiones de la red, de norte a sur."})
    office_ids = List(Integer(), required=True, metadata={"description": "Oficinas de la red."})
    coordinating_office_id = Integer(
        allow_none=True, required=True,
        metadata={"description": "La oficina que coordina la red este año, si ya se asignó."})


class _Id(ApiSchema):
    id = Integer(required=True)


class Office(ApiSchema):
    """Public contact data of an office; never its staff."""

    id = Integer(required=True)
    name = String(required=True)
    slug = String(required=True)
    kind = Enum(OfficeKind, by_value=True, required=True)
    category = Enum(OfficeCategory, by_value=True, allow_none=True, required=True)
    comuna_code = String(required=True)
    comuna_name = String(required=True, attribute="comuna.name")
    region_code = String(required=True)
    timezone = String(required=True)
    address = String(allow_none=True, required=True)
    email = String(allow_none=True, required=True,
                   metadata={"description": "Correo de contacto de la oficina."})
    phone = String(allow_none=True, required=True, metadata={"description": "E.164."})
    whatsapp = String(allow_none=True, required=True, metadata={"description": "E.164."})
    website = String(allow_none=True, required=True)
    facebook_url = String(allow_none=True, required=True)
    opening_hours = String(allow_none=True, required=True)
    active = Boolean(required=True)
    network_ids = Pluck(_Id, "id", many=True, attribute="networks", required=True,
                        metadata={"description": "Redes a las que pertenece la oficina."})


class Problem(Schema):
    """RFC 9457 problem details: every API error answers with this body."""

    type = String(required=True, metadata={"example": "about:blank"})
    title = String(required=True, metadata={"example": "No tiene permiso para esto"})
    status = Integer(required=True, metadata={"example": 403})
    detail = String(metadata={"example": "Su cuenta no tiene permiso para esto."})
    request_id = String(metadata={"description": "Cítelo al pedir ayuda."})


class ValidationProblem(Problem):
    errors = Dict(
        metadata={"description": "Mensajes por ubicación y campo, p. ej. "
                                 "{\"query\": {\"region\": [\"…\"]}}."})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """The one list envelope: ``{items, page, per_page, total}``."""
    return ApiSchema.from_dict(  # type: ignore[return-value]
        {
            "items": List(Nested(item), required=True),
            "page": Integer(required=True, metadata={"example": 1}),
            "per_page": Integer(required=True, metadata={"example": DEFAULT_PER_PAGE}),
            "total": Integer(required=True,
                             metadata={"description": "Elementos en todas las páginas."}),
        },
        name=name,
    )


RegionPage = page_of(Region, "RegionPage")
ComunaPage = page_of(Comuna, "ComunaPage")
NetworkPage = page_of(Network, "NetworkPage")
OfficePage = page_of(Office, "OfficePage")


class OfficeDetail(Office):
    """One office: the same public contact data as in the list."""
