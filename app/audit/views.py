"""The audit log, read under /gestion/auditoria: newest first, 50 a page, scoped by the
policy (national: everything; SENCE regional: their region; coordinators: their networks)."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.policy import audit_scope, can, visible_audit_events
from app.audit.models import AuditEvent
from app.extensions import db
from app.territory.models import Network, Office

bp = Blueprint("audit", __name__, url_prefix="/gestion/auditoria")

PER_PAGE = 50

ACTION_LABELS: dict[str, Any] = {
    "auth.login": _l("Ingreso al sistema"),
    "auth.password_reset_requested": _l("Pidió cambiar su contraseña"),
    "auth.password_reset": _l("Cambió su contraseña"),
    "auth.password_change": _l("Cambió su contraseña desde su cuenta"),
    "auth.logout": _l("Cerró su sesión"),
    "auth.sessions_ended": _l("Cerró sus demás sesiones"),
    "staff.invite": _l("Invitó a una persona"),
    "staff.invite_resend": _l("Reenvió una invitación"),
    "staff.invite_revoke": _l("Anuló una invitación"),
    "staff.invite_accept": _l("Aceptó una invitación"),
    "staff.deactivate": _l("Desactivó una cuenta"),
    "token.create": _l("Creó un token de API"),
    "token.revoke": _l("Revocó un token de API"),
    "network.create": _l("Creó una red"),
    "network.update": _l("Editó una red"),
    "network.office_add": _l("Agregó una oficina a una red"),
    "network.office_remove": _l("Quitó una oficina de una red"),
    "network.coordinator_assign": _l("Asignó la coordinación de una red"),
    "network.coordinator_replace": _l("Cambió la coordinación de una red"),
    "office.create": _l("Registró una oficina"),
    "office.update": _l("Editó una oficina"),
}

OBJECT_LABELS: dict[str, Any] = {
    "User": _l("Cuenta"),
    "Invitation": _l("Invitación"),
    "ApiToken": _l("Token de API"),
    "Network": _l("Red"),
    "Office": _l("Oficina"),
    "NetworkCoordination": _l("Coordinación"),
    "OutboxMessage": _l("Mensaje"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def _page_number() -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return page if 1 <= page <= 100_000 else 1


def _object_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """Names of the networks and offices on this page, in two queries."""
    ids: dict[str, set[int]] = {"Network": set(), "Office": set()}
    for e in events:
        if e.object_type in ids and e.object_id and e.object_id.isdecimal():
            ids[e.object_type].add(int(e.object_id))
    names: dict[tuple[str, str], str] = {}
    for type_name, model in (("Network", Network), ("Office", Office)):
        if ids[type_name]:
            for row_id, name in db.session.execute(
                    select(model.id, model.name).where(model.id.in_(ids[type_name]))):
                names[(type_name, str(row_id))] = name
    return names


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    user = cast(User, current_user._get_current_object())  # type: ignore[attr-defined]
    if not can(user, "audit.read"):
        abort(403)
    everything, network_ids, region = audit_scope(user)
    in_scope = everything or bool(network_ids) or region is not None
    query = visible_audit_events(user).options(selectinload(AuditEvent.user))
    pagination = db.paginate(query, page=_page_number(), per_page=PER_PAGE, error_out=False)
    events = list(pagination.items)
    return render_template(
        "audit/index.html", pagination=pagination, events=events, in_scope=in_scope,
        scope_region=region, everything=everything, action_label=action_label,
        object_labels=OBJECT_LABELS, object_names=_object_names(events))
