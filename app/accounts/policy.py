"""The one permission policy: who may do what, on which object.

Views, the API, the CLI and (later) Socket.IO handlers all ask ``can(user, action, target)``
or use the ``visible_*`` queries here; no other module decides permissions.

Roles (see ``Role``):
- office staff act on their own office; when their office coordinates a network *this year*
  they are that network's coordinators and act on the whole network;
- SENCE regional staff read everything in their region and administer networks and offices
  there (create them, assign the yearly coordinating office, invite staff);
- SENCE national admins may do everything;
- employers have no staff permissions (their booth permissions arrive with fairs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, false, select

from app.accounts.models import Role, User
from app.extensions import db
from app.territory.models import (
    Network,
    NetworkCoordination,
    Office,
    Region,
    SenceUnit,
    network_offices,
    network_regions,
)

# Every action the policy knows. A typo in a view is an error, never a silent "no".
ACTIONS = frozenset(
    {
        "gestion.enter",
        "network.view",
        "network.create",
        "network.edit",
        "network.assign_coordinator",
        "office.view",
        "office.create",
        "office.edit",
        "office.conferencing",  # set or clear an office's own video provider credentials
        "staff.view",
        "staff.invite",
        "staff.deactivate",
        "audit.read",
        "outbox.read",
        "outbox.requeue",
        "token.manage",
        # activities (workshops now, fairs later)
        "activity.view",
        "activity.create",
        "activity.edit",
        "activity.note",
        "activity.convene",
        "activity.assign_host",
        "activity.add_network",  # tie an activity to this network (target: Network)
        "activity.add_convening",  # make this office convene an activity (target: Office)
        "topic.manage",
        # registrations of an activity's sessions (target: Activity, ActivitySession or Registration)
        "registration.view",
        "registration.create",
        "registration.manage",
        "registration.export",
        "registration.view_personal",
        "registration.import_attendance",
        # a jobseeker's stored details (target: Person)
        "person.edit",
        # dissemination: campaigns about an activity (create: target Activity; view and
        # manage: target Campaign), an office's contacts and Facebook page (target Office)
        "campaign.create",
        "campaign.view",
        "campaign.manage",
        "contacts.import",
        "office.facebook",
    }
)


class UnknownAction(ValueError):
    pass


def current_year() -> int:
    return datetime.now(ZoneInfo("America/Santiago")).year


# --- facts about a user --------------------------------------------------------------------


def _is_staff(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.active
                and user.role in (Role.OFFICE_STAFF, Role.SENCE_REGIONAL, Role.SENCE_NATIONAL))


def _national(user: User) -> bool:
    return user.role == Role.SENCE_NATIONAL


def _regional_for(user: User, region_codes: set[str]) -> bool:
    return user.role == Role.SENCE_REGIONAL and user.region_code in region_codes


def _request_cache() -> dict[Any, set[int]] | None:
    """Facts about the user, cached for one request (a page may ask the policy many times)."""
    from flask import g, has_request_context

    if not has_request_context():
        return None
    if not hasattr(g, "_policy_cache"):
        g._policy_cache = {}
    cache: dict[Any, set[int]] = g._policy_cache
    return cache


def coordinated_network_ids(user: User, year: int | None = None) -> set[int]:
    """Networks whose coordinating office this year is the user's office."""
    if user.role != Role.OFFICE_STAFF or user.office_id is None:
        return set()
    year = year or current_year()
    cache = _request_cache()
    key = ("coordinated", user.office_id, year)
    if cache is not None and key in cache:
        return set(cache[key])
    rows = set(db.session.scalars(
        select(NetworkCoordination.network_id).where(
            NetworkCoordination.office_id == user.office_id,
            NetworkCoordination.year == year,
        )
    ))
    if cache is not None:
        cache[key] = rows
    return set(rows)


def member_network_ids(user: User) -> set[int]:
    if user.role != Role.OFFICE_STAFF or user.office_id is None:
        return set()
    cache = _request_cache()
    key = ("member", user.office_id)
    if cache is not None and key in cache:
        return set(cache[key])
    rows = set(db.session.scalars(
        select(network_offices.c.network_id).where(network_offices.c.office_id == user.office_id)
    ))
    if cache is not None:
        cache[key] = rows
    return set(rows)


def is_coordinator(user: User, network: Network) -> bool:
    return network.id in coordinated_network_ids(user)


def _office_network_ids(office: Office) -> set[int]:
    return {n.id for n in office.networks}


def _coordinates_office(user: User, office: Office) -> bool:
    return bool(coordinated_network_ids(user) & _office_network_ids(office))


def linkable_network_ids(user: User) -> set[int]:
    """Networks office staff may tie an activity to: their office's networks and, when their
    office coordinates a network this year, every network of the regions it coordinates in (an
    inter-network workshop). Not SENCE (see ``_on_network``)."""
    coordinated = coordinated_network_ids(user)
    ids = member_network_ids(user) | coordinated
    if coordinated:
        regions = select(network_regions.c.region_code).where(network_regions.c.network_id.in_(coordinated))
        ids |= set(db.session.scalars(
            select(network_regions.c.network_id).where(network_regions.c.region_code.in_(regions))))
    return ids


# --- rules per target type -----------------------------------------------------------------


def _on_network(user: User, action: str, network: Network) -> bool:
    regions = network.region_codes
    if action == "activity.add_network":
        return _regional_for(user, regions) or network.id in linkable_network_ids(user)
    if action in ("network.view", "audit.read"):
        return (_regional_for(user, regions) or is_coordinator(user, network)
                or (action == "network.view" and network.id in member_network_ids(user)))
    if action == "network.edit":
        return _regional_for(user, regions) or is_coordinator(user, network)
    if action == "network.assign_coordinator":
        return _regional_for(user, regions)
    return False


def _on_office(user: User, action: str, office: Office) -> bool:
    region = {office.comuna.region_code}
    own = user.role == Role.OFFICE_STAFF and user.office_id == office.id
    if action == "office.view":
        return (own or _regional_for(user, region) or _coordinates_office(user, office)
                or bool(member_network_ids(user) & _office_network_ids(office)))
    if action in ("office.edit", "staff.view", "staff.invite"):
        return own or _regional_for(user, region) or _coordinates_office(user, office)
    if action == "staff.deactivate":
        return _regional_for(user, region) or _coordinates_office(user, office)
    if action == "office.conferencing":  # the office's own accounts: its staff and SENCE, not the network
        return own or _regional_for(user, region)
    if action == "office.facebook":  # the office's own page token: its staff only (and national)
        return own
    if action == "contacts.import":  # an office imports contacts it holds, into its own list
        return own
    if action == "activity.create":  # host an activity at this office
        return own or _coordinates_office(user, office)
    if action == "activity.add_convening":
        return own or _regional_for(user, region) or bool(linkable_network_ids(user) & _office_network_ids(office))
    return False


def _on_region(user: User, action: str, region: Region) -> bool:
    if action in ("network.create", "office.create", "audit.read", "network.view", "office.view"):
        return _regional_for(user, {region.code})
    return False


def _on_sence_unit(user: User, action: str, unit: SenceUnit) -> bool:
    if action in ("staff.view", "staff.invite", "staff.deactivate"):
        return (unit.region_code is not None and _regional_for(user, {unit.region_code})
                and user.sence_unit_id == unit.id)
    return False


def _on_user(user: User, action: str, other: User) -> bool:
    if action == "token.manage":
        return user.id == other.id
    if action in ("staff.view", "staff.deactivate"):
        if other.id == user.id:
            return action == "staff.view"
        if other.office is not None:
            return _on_office(user, action, other.office)
        if other.sence_unit is not None:
            return _on_sence_unit(user, action, other.sence_unit)
    return False


def _on_outbox_message(user: User, action: str, msg: Any) -> bool:
    if action not in ("outbox.read", "outbox.requeue") or msg.office_id is None:
        return False
    office = db.session.get(Office, msg.office_id)
    if office is None:
        return False
    if action == "outbox.read" and user.role == Role.OFFICE_STAFF and user.office_id == office.id:
        return True
    return _regional_for(user, {office.comuna.region_code})


def _on_activity(user: User, action: str, activity: Any) -> bool:
    """Host-office staff create and edit; convening-office staff see, add notes and convene;
    coordinators of the activity's networks see and edit everything and assign the host;
    SENCE regional staff read activities hosted or planned in their region."""
    host: Office = activity.host_office
    network_ids = {n.id for n in activity.networks} | _office_network_ids(host)
    own_host = user.role == Role.OFFICE_STAFF and user.office_id == host.id
    convening = user.role == Role.OFFICE_STAFF and user.office_id in {o.id for o in activity.convening_offices}
    coordinator = bool(coordinated_network_ids(user) & network_ids)
    if action == "activity.view":
        regions = {host.comuna.region_code} | {r.code for n in activity.networks for r in n.regions}
        return (own_host or convening or coordinator or _regional_for(user, regions)
                or bool(member_network_ids(user) & {n.id for n in activity.networks}))
    if action == "activity.edit":
        return own_host or coordinator
    if action in ("activity.note", "activity.convene"):
        return own_host or convening or coordinator
    if action == "activity.assign_host":
        return coordinator
    if action == "campaign.create":  # the host office, a convening office, or a coordinator
        return own_host or convening or coordinator
    return False


def _on_campaign(user: User, action: str, campaign: Any) -> bool:
    """The office that prepared a campaign sees and manages it; for a network-wide campaign,
    the network's coordinators too; SENCE regional staff of the office's region read it."""
    if action not in ("campaign.view", "campaign.manage"):
        return False
    own = user.role == Role.OFFICE_STAFF and user.office_id == campaign.office_id
    coordinator = campaign.network_id is not None and campaign.network_id in coordinated_network_ids(user)
    if own or coordinator:
        return True
    if action == "campaign.view":
        return _regional_for(user, {campaign.office.comuna.region_code})
    return False


@dataclass(frozen=True)
class RegistrantAccess:
    """What a user may see of an activity's registrants.

    ``counts``: the totals (capacity, confirmed, waitlisted, per office). ``rows``: "all" (host
    office, coordinators of the activity's networks, national), "office" (a convening office:
    the people it registered) or "none" (SENCE regional: counts only). ``personal_all``:
    RUT and contact unmasked on every row (host office, national); otherwise only on the rows
    the user's own office registered.
    """

    counts: bool = False
    rows: str = "none"
    office_id: int | None = None
    personal_all: bool = False

    def sees_row(self, reg: Any) -> bool:
        if self.rows == "all":
            return True
        return self.rows == "office" and self.office_id is not None and reg.office_id == self.office_id

    def sees_personal(self, reg: Any) -> bool:
        if not self.sees_row(reg):
            return False
        return self.personal_all or (self.office_id is not None and reg.office_id == self.office_id)


def registrant_access(user: User | None, activity: Any) -> RegistrantAccess:
    """The one rule for registrants: host-office staff see and manage everyone (identity
    included); coordinators of the activity's networks see and manage everyone, with identity
    masked except for the people their own office registered; convening-office staff see and
    manage only the people their office registered; SENCE regional staff of the activity's
    regions read counts only; SENCE national everything; anyone else nothing."""
    if not _is_staff(user):
        return RegistrantAccess()
    assert user is not None
    if _national(user):
        return RegistrantAccess(counts=True, rows="all", office_id=user.office_id, personal_all=True)
    host: Office = activity.host_office
    if user.role == Role.SENCE_REGIONAL:
        regions = {host.comuna.region_code} | {r.code for n in activity.networks for r in n.regions}
        return RegistrantAccess(counts=_regional_for(user, regions))
    if user.role != Role.OFFICE_STAFF or user.office_id is None:
        return RegistrantAccess()
    own_host = user.office_id == host.id
    network_ids = {n.id for n in activity.networks} | _office_network_ids(host)
    coordinator = bool(coordinated_network_ids(user) & network_ids)
    convening = user.office_id in {o.id for o in activity.convening_offices}
    if own_host or coordinator:
        return RegistrantAccess(counts=True, rows="all", office_id=user.office_id, personal_all=own_host)
    if convening:
        return RegistrantAccess(counts=True, rows="office", office_id=user.office_id)
    return RegistrantAccess()


def _on_registrations(user: User, action: str, target: Any) -> bool:
    kind = type(target).__name__
    if kind == "Registration":
        access = registrant_access(user, target.session.activity)
        if action in ("registration.view", "registration.manage"):
            return access.sees_row(target)
        if action == "registration.view_personal":
            return access.sees_personal(target)
        return False
    if kind == "ActivitySession":
        target = target.activity
    elif kind != "Activity":
        return False
    access = registrant_access(user, target)
    if action == "registration.view":
        return access.counts
    if action in ("registration.create", "registration.manage", "registration.export"):
        return access.rows != "none"
    if action == "registration.view_personal":
        return access.personal_all
    if action == "registration.import_attendance":
        return access.rows == "all"
    return False


def _on_person(user: User, action: str, person: Any) -> bool:
    """Staff of the office that holds the person (``person.office_id``) or that registered
    them for any session may update their stored details."""
    if action != "person.edit" or person.anonymised_at is not None:
        return False
    if user.role != Role.OFFICE_STAFF or user.office_id is None:
        return False
    if person.office_id == user.office_id:
        return True
    from app.registration.models import Registration

    return db.session.scalar(select(Registration.id).where(
        Registration.person_id == person.id, Registration.office_id == user.office_id).limit(1)) is not None


def _on_nothing(user: User, action: str) -> bool:
    # Page-level questions: may the user open the list at all? (Rows are then scoped.)
    if action in ("gestion.enter", "network.view", "office.view", "audit.read", "outbox.read",
                  "staff.view", "activity.view", "campaign.view"):
        return True
    if action in ("campaign.create", "contacts.import"):
        return user.role == Role.OFFICE_STAFF and user.office_id is not None
    if action == "activity.create":
        return user.role == Role.OFFICE_STAFF
    if action in ("network.create", "office.create"):
        return user.role == Role.SENCE_REGIONAL
    return False


_TARGET_RULES: list[tuple[type, Callable[[User, str, Any], bool]]] = [
    (Network, _on_network),
    (Office, _on_office),
    (Region, _on_region),
    (SenceUnit, _on_sence_unit),
    (User, _on_user),
]


def can(user: User | None, action: str, target: Any = None) -> bool:
    """May ``user`` do ``action`` on ``target``? ``target=None`` asks about the page or list."""
    if action not in ACTIONS:
        raise UnknownAction(action)
    if not _is_staff(user):
        return False
    assert user is not None
    if action == "token.manage":
        return target is None or (isinstance(target, User) and target.id == user.id)
    if _national(user):
        return True
    if target is None:
        return _on_nothing(user, action)
    for cls, rule in _TARGET_RULES:
        if isinstance(target, cls):
            return rule(user, action, target)
    if action.startswith("registration."):
        return _on_registrations(user, action, target)
    if action == "person.edit":
        return type(target).__name__ == "Person" and _on_person(user, action, target)
    if type(target).__name__ == "Activity":
        return _on_activity(user, action, target)
    if type(target).__name__ == "OutboxMessage":
        return _on_outbox_message(user, action, target)
    if type(target).__name__ == "Campaign":
        return _on_campaign(user, action, target)
    return False


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


# --- what an activity may be tied to -------------------------------------------------------


def linkable_networks(user: User) -> Select[tuple[Network]]:
    """Networks ``user`` may tie an activity to (the ``activity.add_network`` rule), by name."""
    q = select(Network).order_by(Network.name)
    if not _is_staff(user):
        return q.where(false())
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        return q.where(Network.id.in_(select(network_regions.c.network_id).where(
            network_regions.c.region_code == user.region_code)))
    return q.where(Network.id.in_(linkable_network_ids(user) or {-1}))


def linkable_offices(user: User) -> Select[tuple[Office]]:
    """Offices ``user`` may make convene an activity (the ``activity.add_convening`` rule): their
    own and the offices of the networks they may tie it to (SENCE regional: their region)."""
    from app.territory.models import Comuna

    q = select(Office).order_by(Office.name)
    if not _is_staff(user):
        return q.where(false())
    if _national(user):
        return q
    if user.role == Role.SENCE_REGIONAL:
        return q.join(Comuna, Comuna.code == Office.comuna_code).where(Comuna.region_code == user.region_code)
    in_nets = select(network_offices.c.office_id).where(
        network_offices.c.network_id.in_(linkable_network_ids(user) or {-1}))
    return q.where((Office.id == user.office_id) | Office.id.in_(in_nets))


def refused_link(user: User, *, host: Office, networks: list[Network], convening: list[Office],
                 activity: Any = None) -> tuple[str, Network | Office] | None:
    """The first network or convening office ``user`` may not tie an activity hosted at ``host``
    to, with the field it came in (``network_ids`` or ``convening_office_ids``); None if all may.

    The host's own networks are always allowed (they already reach the activity through its
    host), and so is whatever ``activity`` already has: someone who edits an inter-network
    workshop keeps what its coordinator added without being able to add it themselves.
    """
    had_networks = {n.id for n in activity.networks} if activity is not None else set()
    had_offices = {o.id for o in activity.convening_offices} if activity is not None else set()
    allowed_networks = had_networks | _office_network_ids(host)
    for network in networks:
        if network.id not in allowed_networks and not can(user, "activity.add_network", network):
            return "network_ids", network
    for office in convening:
        if office.id not in had_offices | {host.id} and not can(user, "activity.add_convening", office):
            return "convening_office_ids", office
    return None
