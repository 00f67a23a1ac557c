"""The one permission policy: who may do what, on which object.

Views, the API, the CLI and (later) Socket.IO handlers all ask ``can(user, action, target)``
or use the ``visible_*`` queries (``queries``); no other module decides permissions.

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

from sqlalchemy import select

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
