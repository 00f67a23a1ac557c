"""Scoped queries: the rows a user may see, each following a rule of ``rules.can``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from app.accounts.models import Role, User
from app.accounts.policy.rules import (
    _is_staff,
    _national,
    coordinated_network_ids,
    member_network_ids,
    registrant_access,
)
from app.territory.models import Network, Office, network_offices, network_regions

# --- scoped queries: the rows a user may see -----------------------------------------------


def visible_networks(user: User) -> Select[tuple[Network]]:
    q = select(Network).order_by(Network.name)
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        return q.where(Network.id.in_(
            select(network_regions.c.network_id).where(network_regions.c.region_code == user.region_code)
        ))
    ids = member_network_ids(user) | coordinated_network_ids(user)
    return q.where(Network.id.in_(ids or {-1}))


def visible_offices(user: User) -> Select[tuple[Office]]:
    from app.territory.models import Comuna

    q = select(Office).order_by(Office.name)
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        return q.join(Comuna, Comuna.code == Office.comuna_code).where(
            Comuna.region_code == user.region_code)
    nets = member_network_ids(user) | coordinated_network_ids(user)
    in_nets = select(network_offices.c.office_id).where(network_offices.c.network_id.in_(nets or {-1}))
    return q.where((Office.id == user.office_id) | Office.id.in_(in_nets))


def manageable_offices(user: User) -> Select[tuple[Office]]:
    """Offices whose staff the user may invite and whose details they may edit."""
    from app.territory.models import Comuna

    q = select(Office).order_by(Office.name)
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        return q.join(Comuna, Comuna.code == Office.comuna_code).where(
            Comuna.region_code == user.region_code)
    nets = coordinated_network_ids(user)
    in_nets = select(network_offices.c.office_id).where(network_offices.c.network_id.in_(nets or {-1}))
    return q.where((Office.id == user.office_id) | Office.id.in_(in_nets))


def visible_activities(user: User, kind: Any = None) -> Select[tuple[Any]]:
    """Activities the user may see, newest first (the ``activity.view`` rule of ``_on_activity``).

    National: all. SENCE regional: hosted by an office in their region or planned in a network
    that covers it. Office staff: hosted by their office, convened by it, in one of their
    networks, or hosted by an office of a network they coordinate. ``kind`` narrows to
    workshops or fairs (an ``ActivityKind``).
    """
    from sqlalchemy import or_

    from app.activities.models import Activity, activity_convening_offices, activity_networks
    from app.territory.models import Comuna

    q = select(Activity).order_by(Activity.created_at.desc(), Activity.id.desc())
    if kind is not None:
        q = q.where(Activity.kind == kind)
    if not _is_staff(user):
        return q.where(false())
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        if user.region_code is None:
            return q.where(false())
        hosted_in_region = select(Office.id).join(Comuna, Comuna.code == Office.comuna_code).where(
            Comuna.region_code == user.region_code)
        networks_in_region = select(network_regions.c.network_id).where(
            network_regions.c.region_code == user.region_code)
        planned_in_region = select(activity_networks.c.activity_id).where(
            activity_networks.c.network_id.in_(networks_in_region))
        return q.where(or_(Activity.host_office_id.in_(hosted_in_region), Activity.id.in_(planned_in_region)))
    if user.role == Role.OFFICE_STAFF and user.office_id is not None:
        coordinated = coordinated_network_ids(user)
        networks = member_network_ids(user) | coordinated
        convened = select(activity_convening_offices.c.activity_id).where(
            activity_convening_offices.c.office_id == user.office_id)
        in_networks = select(activity_networks.c.activity_id).where(
            activity_networks.c.network_id.in_(networks or {-1}))
        hosted_in_coordinated = select(network_offices.c.office_id).where(
            network_offices.c.network_id.in_(coordinated or {-1}))
        return q.where(or_(Activity.host_office_id == user.office_id, Activity.id.in_(convened),
                           Activity.id.in_(in_networks), Activity.host_office_id.in_(hosted_in_coordinated)))
    return q.where(false())


def _office_scoped(user: User, q: Select[Any], office_col: Any, *, also: Any = None) -> Select[Any]:
    """Rows tied to an office (``office_col``): all nationally; for SENCE regional staff, the
    offices in their region; for office staff, their own office's (or ``also``)."""
    from app.territory.models import Comuna

    if not _is_staff(user):
        return q.where(false())
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        if user.region_code is None:
            return q.where(false())
        in_region = select(Office.id).join(Comuna, Comuna.code == Office.comuna_code).where(
            Comuna.region_code == user.region_code)
        return q.where(office_col.in_(in_region))
    if user.role == Role.OFFICE_STAFF and user.office_id is not None:
        own = office_col == user.office_id
        return q.where(own if also is None else own | also)
    return q.where(false())


def visible_outbox_messages(user: User) -> Select[tuple[Any]]:
    """Outbox messages the user may read, newest first (the ``_on_outbox_message`` rule).

    National: all. SENCE regional: messages of offices in their region. Office staff: their
    office's messages. Messages without an office (password resets) only nationally.
    """
    from app.outbox.models import OutboxMessage

    q = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return _office_scoped(user, q, OutboxMessage.office_id)


def visible_campaigns(user: User) -> Select[tuple[Any]]:
    """Campaigns the user may see (the ``_on_campaign`` rule), newest first: also, for a
    coordinator, the network-wide campaigns of the networks they coordinate."""
    from app.dissemination.models import Campaign

    q = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    also = None
    if _is_staff(user) and user.role == Role.OFFICE_STAFF:
        also = Campaign.network_id.in_(coordinated_network_ids(user) or {-1})
    return _office_scoped(user, q, Campaign.office_id, also=also)


def audit_scope(user: User) -> tuple[bool, set[int], str | None]:
    """(everything, network ids, region code) the user may read in the audit log."""
    if _national(user):
        return True, set(), None
    if user.role == Role.SENCE_REGIONAL:
        return False, set(), user.region_code
    return False, coordinated_network_ids(user), None


def visible_audit_events(user: User) -> Select[Any]:
    """The audit events ``user`` may read, newest first, following ``audit_scope``: national
    admins everything; SENCE regional staff events tagged with their region, about an office
    in their region, or about a network that covers it; coordinators events about the
    networks they coordinate this year or about those networks' offices; others nothing."""
    from sqlalchemy import or_

    from app.audit.models import AuditEvent
    from app.territory.models import Comuna

    q = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if not _is_staff(user):
        return q.where(false())
    everything, network_ids, region = audit_scope(user)
    if everything:
        return q
    if region is not None:
        offices_in_region = select(Office.id).join(Comuna, Comuna.code == Office.comuna_code).where(
            Comuna.region_code == region)
        networks_in_region = select(network_regions.c.network_id).where(
            network_regions.c.region_code == region)
        return q.where(or_(AuditEvent.region_code == region,
                           AuditEvent.office_id.in_(offices_in_region),
                           AuditEvent.network_id.in_(networks_in_region)))
    if network_ids:
        offices_in_networks = select(network_offices.c.office_id).where(
            network_offices.c.network_id.in_(network_ids))
        return q.where(or_(AuditEvent.network_id.in_(network_ids),
                           AuditEvent.office_id.in_(offices_in_networks)))
    return q.where(false())


def visible_registrations(user: User, session: Any) -> Select[tuple[Any]]:
    """The registrations of ``session`` whose row ``user`` may see (``registrant_access``),
    in the order they were made."""
    from app.registration.models import Registration

    q = select(Registration).where(Registration.session_id == session.id).order_by(
        Registration.created_at, Registration.id)
    access = registrant_access(user, session.activity)
    if access.rows == "all":
        return q
    if access.rows == "office" and access.office_id is not None:
        return q.where(Registration.office_id == access.office_id)
    return q.where(false())
