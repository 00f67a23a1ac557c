"""API v1 endpoints: the caller, Chile's territory, networks and offices (read-only).

Thin views: parse (APIFlask validates the query against the schema), ask the policy,
query, answer. Lists answer ``{items, page, per_page, total}``.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, HTTPError
from apiflask.fields import String
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.policy import (
    can,
    coordinated_network_ids,
    current_year,
    visible_networks,
    visible_offices,
)
from app.api import schemas
from app.api.auth import auth, current_api_user, forbidden, not_found
from app.api.guards import install_guards
from app.api.pagination import Page, paginate
from app.extensions import db
from app.territory.models import Comuna, Network, Office, Region

bp = install_guards(
    APIBlueprint("api_v1", __name__, url_prefix="/api/v1", tag="Puente Laboral"))


FORBIDDEN = {403: "Su cuenta no tiene permiso para esto."}


def _field_error(location: str, field: str, message: str) -> HTTPError:
    """A 422 shaped like APIFlask's own validation errors."""
    return HTTPError(422, detail={location: {field: [message]}})


# --- service -------------------------------------------------------------------------------


@bp.get("/ping")
@bp.output({"status": String(metadata={"example": "ok"})}, schema_name="Ping")
def ping() -> dict[str, str]:
    """Comprobar que la API responde

    No requiere autenticación.
    """
    return {"status": "ok"}


# --- the caller ----------------------------------------------------------------------------


@bp.get("/me")
@bp.auth_required(auth)
@bp.output(schemas.Me)
def me() -> dict[str, Any]:
    """La cuenta que hace la solicitud

    Quién es (según el token o la sesión), su rol, su oficina o unidad SENCE, y las redes que
    su oficina coordina este año.
    """
    user: User = current_api_user()
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "office": user.office,
        "sence_unit": user.sence_unit,
        "region_code": user.region_code,
        "coordinated_network_ids": sorted(coordinated_network_ids(user)),
    }


# --- territory (public) --------------------------------------------------------------------


@bp.get("/regions")
@bp.input(schemas.PageQuery, location="query")
@bp.output(schemas.RegionPage)
def regions(query_data: dict[str, Any]) -> Page:
    """Regiones de Chile

    Las 16 regiones, de norte a sur, con su código CUT. Pública.
    """
    q = select(Region).order_by(Region.position)
    return paginate(q, query_data["page"], query_data["per_page"])


def _comunas(region_code: str | None, page: int, per_page: int) -> Page:
    q = select(Comuna).order_by(Comuna.code)
    if region_code is not None:
        q = q.where(Comuna.region_code == region_code)
    return paginate(q, page, per_page)


@bp.get("/regions/<code>/comunas")
@bp.input(schemas.PageQuery, location="query")
@bp.output(schemas.ComunaPage)
def region_comunas(code: str, query_data: dict[str, Any]) -> Page:
    """Comunas de una región

    Ordenadas por código CUT. `code` es el código de la región (dos dígitos). Pública.
    """
    if len(code) != 2 or not code.isascii() or not code.isdigit() \
            or db.session.get(Region, code) is None:
        not_found(_("No existe la región %(code)s.", code=code[:10]))
    return _comunas(code, query_data["page"], query_data["per_page"])


@bp.get("/comunas")
@bp.input(schemas.ComunaQuery, location="query")
@bp.output(schemas.ComunaPage)
def comunas(query_data: dict[str, Any]) -> Page:
    """Comunas de Chile

    Las 346 comunas, ordenadas por código CUT; `region` filtra por región. Pública.
    """
    region = query_data.get("region")
    if region is not None and db.session.get(Region, region) is None:
        raise _field_error("query", "region", _("No existe la región %(code)s.", code=region))
    return _comunas(region, query_data["page"], query_data["per_page"])


# --- networks and offices (authenticated, scoped by the policy) ----------------------------


def _network_item(net: Network, year: int) -> dict[str, Any]:
    coordinating = net.coordinating_office(year)
    return {
        "id": net.id,
        "name": net.name,
        "slug": net.slug,
        "active": net.active,
        "region_codes": [r.code for r in net.regions],
        "office_ids": [o.id for o in net.offices],
        "coordinating_office_id": coordinating.id if coordinating else None,
    }


@bp.get("/networks")
@bp.auth_required(auth)
@bp.input(schemas.PageQuery, location="query")
@bp.output(schemas.NetworkPage)
@bp.doc(responses=FORBIDDEN)
def networks(query_data: dict[str, Any]) -> Page:
    """Redes territoriales visibles

    SENCE nacional ve todas; SENCE regional, las que tocan su región; el personal OMIL, las
    redes de su oficina.
    """
    user = current_api_user()
    if not can(user, "network.view"):
        forbidden()
    page = paginate(
        visible_networks(user), query_data["page"], query_data["per_page"],
        options=[selectinload(Network.regions), selectinload(Network.offices),
                 selectinload(Network.coordinations)],
    )
    year = current_year()
    page["items"] = [_network_item(n, year) for n in page["items"]]
    return page


@bp.get("/offices")
@bp.auth_required(auth)
@bp.input(schemas.OfficeQuery, location="query")
@bp.output(schemas.OfficePage)
@bp.doc(responses=FORBIDDEN)
def offices(query_data: dict[str, Any]) -> Page:
    """Oficinas visibles

    Datos de contacto públicos de las oficinas (OMIL y plataformas laborales) que la cuenta
    puede ver; `region` y `comuna` filtran.
    """
    user = current_api_user()
    if not can(user, "office.view"):
        forbidden()
    q = visible_offices(user)
    region = query_data.get("region")
    if region is not None:
        if db.session.get(Region, region) is None:
            raise _field_error("query", "region", _("No existe la región %(code)s.", code=region))
        q = q.where(Office.comuna_code.in_(select(Comuna.code).where(Comuna.region_code == region)))
    comuna = query_data.get("comuna")
    if comuna is not None:
        if db.session.get(Comuna, comuna) is None:
            raise _field_error("query", "comuna", _("No existe la comuna %(code)s.", code=comuna))
        q = q.where(Office.comuna_code == comuna)
    return paginate(q, query_data["page"], query_data["per_page"],
                    options=[selectinload(Office.comuna), selectinload(Office.networks)])


@bp.get("/offices/<int:office_id>")
@bp.auth_required(auth)
@bp.output(schemas.OfficeDetail)
@bp.doc(responses=FORBIDDEN)
def office(office_id: int) -> Office:
    """Una oficina

    404 si no existe; 403 si existe pero la cuenta no puede verla (las oficinas son
    instituciones públicas: su existencia no es reservada, y así un script distingue un id
    equivocado de un permiso que falta).
    """
    user = current_api_user()
    found = db.session.get(Office, office_id)  # the route caps ids at MAX_ROW_ID
    if found is None:
        not_found(_("No existe la oficina %(id)s.", id=office_id))
    if not can(user, "office.view", found):
        forbidden(_("Su cuenta no puede ver esta oficina."))
    return found
