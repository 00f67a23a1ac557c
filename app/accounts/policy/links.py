"""What an activity may be tied to: the networks and convening offices a user may add
(the ``activity.add_network`` and ``activity.add_convening`` rules of ``rules.can``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from app.accounts.models import Role, User
from app.accounts.policy.rules import (
    _is_staff,
    _national,
    _office_network_ids,
    can,
    linkable_network_ids,
)
from app.territory.models import Network, Office, network_offices, network_regions

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
