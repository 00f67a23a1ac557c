"""Staff pages under /gestion for networks and offices.

Each view parses the request, asks the policy, calls a service and renders. Service errors
go next to their field (or into the summary) with what the user typed kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from wtforms import SelectChoice

from app.accounts.guards import current_account, require
from app.accounts.policy import can, current_year, visible_networks, visible_offices
from app.extensions import db
from app.territory import services
from app.territory.forms import (
    CoordinationForm,
    MemberOfficeForm,
    NetworkForm,
    OfficeFilterForm,
    OfficeForm,
    category_labels,
    show_error,
)
from app.territory.models import Network, Office, OfficeKind, Region

bp = Blueprint("territory", __name__, url_prefix="/gestion")


_me = current_account
_require = require


def _all_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.position)))


def _office_kind_label(office: Office) -> str:
    if office.kind == OfficeKind.PLATAFORMA:
        return _("Plataforma laboral")
    category = category_labels().get(office.category.value if office.category else "", "")
    return _("OMIL %(category)s", category=category.lower()) if category else _("OMIL")


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    return {"office_kind_label": _office_kind_label}


# --- networks ------------------------------------------------------------------------------


@bp.get("/redes")
@login_required
def networks() -> ResponseReturnValue:
    _require("network.view")
    rows = db.session.scalars(visible_networks(_me())).all()
    return render_template("territory/networks.html", networks=rows, year=current_year(),
                           can_create=can(_me(), "network.create"))


@dataclass(frozen=True)
class RegionOption:
    region: Region
    checked: bool
    locked: bool  # already on the network and outside what the user administers


def _region_options(form: NetworkForm, network: Network | None = None) -> list[RegionOption]:
    """The region checkboxes to show: those the user administers, plus those already chosen."""
    current = network.region_codes if network is not None else set()
    chosen = set(form.regions.data or [])
    options = []
    for region in _all_regions():
        allowed = can(_me(), "network.create", region)
        locked = region.code in current and not allowed
        if allowed or locked or region.code in chosen:
            options.append(RegionOption(region, region.code in chosen or locked, locked))
    return options


def _render_network_form(form: NetworkForm, network: Network | None, errors: list[str],
                         status: int) -> ResponseReturnValue:
    return render_template("territory/network_form.html", form=form, network=network,
                           region_options=_region_options(form, network), errors=errors), status


@bp.route("/redes/nueva", methods=["GET", "POST"])
@login_required
def network_new() -> ResponseReturnValue:
    _require("network.create")
    me = _me()
    allowed = [r.code for r in _all_regions() if can(me, "network.create", r)]
    # A SENCE regional user administers one region: start with it ticked.
    form = NetworkForm(regions=allowed if len(allowed) == 1 else [])
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                network = services.create_network(
                    me, name=form.name.data or "", description=form.description.data,
                    region_codes=form.regions.data or [])
            except services.TerritoryError as err:
                errors = show_error(form, err)
                status = err.status
            else:
                flash(_("Se creó la red %(name)s. Ahora agregue sus oficinas.", name=network.name),
                      "success")
                return redirect(url_for("territory.network_detail", network_id=network.id))
    return _render_network_form(form, None, errors, status)


def _render_network_detail(network: Network, *, member_form: MemberOfficeForm | None = None,
                           coord_form: CoordinationForm | None = None,
                           errors: list[str] | None = None,
                           status: int = 200) -> ResponseReturnValue:
    me = _me()
    can_edit = can(me, "network.edit", network)
    can_assign = can(me, "network.assign_coordinator", network)
    year = current_year()
    if member_form is None:
        member_form = MemberOfficeForm(formdata=None, prefix="member")
    member_form.office_id.choices = [SelectChoice("", _("Elija una oficina"))] + [
        SelectChoice(str(o.id), f"{o.name} ({o.comuna.name})")
        for o in services.candidate_offices(network)]
    if coord_form is None:
        current = network.coordinating_office(year)
        coord_form = CoordinationForm(formdata=None, year=str(year),
                                      office_id=str(current.id) if current else "")
    coord_form.year.choices = [SelectChoice(str(y), str(y)) for y in services.coordination_years()]
    coord_form.office_id.choices = [SelectChoice("", _("Elija una oficina"))] + [
        SelectChoice(str(o.id), o.name) for o in network.offices]
    return render_template(
        "territory/network_detail.html", network=network, year=year,
        coordinator=network.coordinating_office(year), can_edit=can_edit, can_assign=can_assign,
        member_form=member_form, coord_form=coord_form, errors=errors or [],
        can_view_office={o.id: can(me, "office.view", o) for o in network.offices},
    ), status


def _network_or_404(network_id: int) -> Network:
    return db.get_or_404(Network, network_id)


@bp.get("/redes/<int:network_id>")
@login_required
def network_detail(network_id: int) -> ResponseReturnValue:
    network = _network_or_404(network_id)
    _require("network.view", network)
    return _render_network_detail(network)


@bp.route("/redes/<int:network_id>/editar", methods=["GET", "POST"])
@login_required
def network_edit(network_id: int) -> ResponseReturnValue:
    network = _network_or_404(network_id)
    _require("network.edit", network)
    form = NetworkForm(name=network.name, description=network.description,
                       regions=sorted(network.region_codes))
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                services.update_network(_me(), network, name=form.name.data or "",
                                        description=form.description.data,
                                        region_codes=form.regions.data or [])
            except services.TerritoryError as err:
                errors = show_error(form, err)
                status = err.status
            else:
                flash(_("Se guardaron los cambios de la red."), "success")
                return redirect(url_for("territory.network_detail", network_id=network.id))
    return _render_network_form(form, network, errors, status)


@bp.post("/redes/<int:network_id>/oficinas")
@login_required
def network_add_office(network_id: int) -> ResponseReturnValue:
    network = _network_or_404(network_id)
    _require("network.edit", network)
    form = MemberOfficeForm(prefix="member")
    if not form.validate_on_submit():
        return _render_network_detail(network, member_form=form, status=400)
    try:
        office = services.add_office_to_network(_me(), network, form.office_id.data)
    except services.TerritoryError as err:
        errors = show_error(form, err)
        return _render_network_detail(network, member_form=form, errors=errors, status=err.status)
    flash(_("%(office)s ahora es parte de la red.", office=office.name), "success")
    return redirect(url_for("territory.network_detail", network_id=network.id))


@bp.post("/redes/<int:network_id>/oficinas/<int:office_id>/quitar")
@login_required
def network_remove_office(network_id: int, office_id: int) -> ResponseReturnValue:
    network = _network_or_404(network_id)
    _require("network.edit", network)
    try:
        office = services.remove_office_from_network(_me(), network, office_id)
    except services.TerritoryError as err:
        if err.status == 404:
            abort(404)
        return _render_network_detail(network, errors=[err.message], status=err.status)
    flash(_("%(office)s ya no es parte de la red.", office=office.name), "success")
    return redirect(url_for("territory.network_detail", network_id=network.id))


@bp.post("/redes/<int:network_id>/coordinacion")
@login_required
def network_coordination(network_id: int) -> ResponseReturnValue:
    network = _network_or_404(network_id)
    _require("network.assign_coordinator", network)
    form = CoordinationForm()
    if not form.validate_on_submit():
        return _render_network_detail(network, coord_form=form, status=400)
    try:
        row = services.assign_coordinator(_me(), network, year=form.year.data,
                                          office_id=form.office_id.data)
    except services.TerritoryError as err:
        errors = show_error(form, err)
        return _render_network_detail(network, coord_form=form, errors=errors, status=err.status)
    flash(_("%(office)s coordina la red en %(year)s.", office=row.office.name, year=row.year),
          "success")
    return redirect(url_for("territory.network_detail", network_id=network.id))


# --- offices -------------------------------------------------------------------------------


@bp.get("/oficinas")
@login_required
def offices() -> ResponseReturnValue:
    _require("office.view")
    regions = _all_regions()
    form = OfficeFilterForm(request.args)
    form.region.choices = [SelectChoice("", _("Todas las regiones"))] + [
        SelectChoice(r.code, r.name) for r in regions]
    q = visible_offices(_me())
    if form.validate():
        q = services.filter_offices(q, region_code=form.region.data, text=form.q.data)
    rows = db.session.scalars(q).all()
    return render_template("territory/offices.html", offices=rows, form=form,
                           can_create=can(_me(), "office.create"),
                           filtered=bool(form.region.data or form.q.data))


def _render_office_form(form: OfficeForm, office: Office | None, errors: list[str],
                        status: int) -> ResponseReturnValue:
    me = _me()
    # Comunas of the regions where the user may place an office (and its current one).
    regions = [r for r in _all_regions() if can(me, "office.create", r)
               or (office is not None and r.code == office.comuna.region_code)]
    form.fill_choices(regions)
    return render_template("territory/office_form.html", form=form, office=office,
                           errors=errors), status


def _save_office(form: OfficeForm, office: Office | None) -> ResponseReturnValue:
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                if office is None:
                    office = services.create_office(_me(), form.to_input())
                    message = _("Se registró la oficina %(name)s.", name=office.name)
                else:
                    services.update_office(_me(), office, form.to_input())
                    message = _("Se guardaron los datos de la oficina.")
            except services.TerritoryError as err:
                errors = show_error(form, err)
                status = err.status
            else:
                flash(message, "success")
                return redirect(url_for("territory.office_detail", office_id=office.id))
    return _render_office_form(form, office, errors, status)


@bp.route("/oficinas/nueva", methods=["GET", "POST"])
@login_required
def office_new() -> ResponseReturnValue:
    _require("office.create")
    return _save_office(OfficeForm(kind=OfficeKind.OMIL.value), None)


def _office_or_404(office_id: int) -> Office:
    return db.get_or_404(Office, office_id)


@bp.get("/oficinas/<int:office_id>")
@login_required
def office_detail(office_id: int) -> ResponseReturnValue:
    office = _office_or_404(office_id)
    _require("office.view", office)
    me = _me()
    return render_template(
        "territory/office_detail.html", office=office,
        can_edit=can(me, "office.edit", office), can_staff=can(me, "staff.view", office),
        networks=[(n, can(me, "network.view", n)) for n in office.networks])


@bp.route("/oficinas/<int:office_id>/editar", methods=["GET", "POST"])
@login_required
def office_edit(office_id: int) -> ResponseReturnValue:
    office = _office_or_404(office_id)
    _require("office.edit", office)
    form = OfficeForm(
        name=office.name, kind=office.kind.value,
        category=office.category.value if office.category else "",
        comuna_code=office.comuna_code, email=office.email, whatsapp=office.whatsapp,
        phone=office.phone, facebook_url=office.facebook_url, website=office.website,
        address=office.address, opening_hours=office.opening_hours)
    return _save_office(form, office)
