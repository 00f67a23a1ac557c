"""Walk the whole permission matrix: every role × every action × every kind of target.

The world: two networks in the Metropolitan region (A coordinated this year by office A1,
B by B1), one network in Magallanes (M, coordinated by M1), and an office in Valparaíso that
belongs to no network. Each row below lists what a user MAY do; everything else is refused.
"""

from __future__ import annotations

from itertools import product

import pytest

from app.accounts.policy import ACTIONS, UnknownAction, can, linkable_networks, linkable_offices
from app.extensions import db
from app.territory.models import Region

PAGE_LEVEL = {"gestion.enter", "network.view", "office.view", "audit.read", "outbox.read",
              "staff.view", "token.manage", "activity.view", "campaign.view"}
OFFICE_STAFF_PAGE = {("activity.create", "none"), ("campaign.create", "none"), ("contacts.import", "none")}


@pytest.fixture
def world(factory):
    a1 = factory.office("13120", name="OMIL Ñuñoa", category="avanzada")
    a2 = factory.office("13122", name="OMIL Peñalolén", category="basica")
    b1 = factory.office("13110", name="OMIL La Florida", category="avanzada")
    m1 = factory.office("12101", name="OMIL Punta Arenas", category="avanzada")
    m2 = factory.office("12401", name="OMIL Natales", category="intermedia")
    x = factory.office("05101", name="OMIL Valparaíso", category="intermedia")
    net_a = factory.network(("13",), name="Red A", offices=[a1, a2], coordinator=a1)
    net_b = factory.network(("13",), name="Red B", offices=[b1], coordinator=b1)
    net_m = factory.network(("12",), name="Red M", offices=[m1, m2], coordinator=m1)
    # Last year A2 coordinated network A: history must not grant anything today.
    from app.accounts.policy import current_year
    from app.territory.models import NetworkCoordination

    db.session.add(NetworkCoordination(network_id=net_a.id, office_id=a2.id, year=current_year() - 1))
    # A workshop hosted by A2 for network A, convened also by X (an office outside any network).
    from app.activities.models import Activity, ActivityKind

    act_a = Activity(kind=ActivityKind.WORKSHOP, title="Taller A", slug="taller-a", host_office=a2)
    act_a.networks = [net_a]
    act_a.convening_offices = [x]
    db.session.add(act_a)
    # Campaigns about it: A2's own (its contacts) and coordinator A1's for the whole network A.
    from app.dissemination.models import Campaign

    camp_a2 = Campaign(activity=act_a, office_id=a2.id, name="A2", message_short="s", message_long="l")
    camp_net_a = Campaign(activity=act_a, office_id=a1.id, network_id=net_a.id, name="Red A", message_short="s",
                          message_long="l")
    db.session.add_all([camp_a2, camp_net_a])
    db.session.commit()
    users = {
        "coord_a": factory.user(office=a1),
        "staff_a2": factory.user(office=a2),
        "staff_x": factory.user(office=x),
        "sence_rm": factory.user("sence_regional", sence_unit=factory.sence_unit("13")),
        "sence_mag": factory.user("sence_regional", sence_unit=factory.sence_unit("12")),
        "national": factory.user("sence_national"),
        "employer": factory.user("employer"),
        "inactive": factory.user(office=a1, active=False),
    }
    targets = {
        "none": None, "net_a": net_a, "net_b": net_b, "net_m": net_m,
        "a1": a1, "a2": a2, "b1": b1, "m1": m1, "x": x,
        "rm": db.session.get(Region, "13"), "mag": db.session.get(Region, "12"),
        "unit_rm": factory.sence_unit("13"), "unit_mag": factory.sence_unit("12"),
        "unit_nat": factory.sence_unit(None),
        "staff_of_a2": users["staff_a2"], "staff_of_x": users["staff_x"],
        "act_a": act_a, "camp_a2": camp_a2, "camp_net_a": camp_net_a,
    }
    return users, targets


def _office_rights(*offices: str) -> set[tuple[str, str]]:
    return {(a, o) for a in ("office.view", "office.edit", "staff.view", "staff.invite") for o in offices}


def expected_allowed(user: str) -> set[tuple[str, str]] | str:
    page = {(a, "none") for a in PAGE_LEVEL}
    if user == "national":
        return "everything"
    if user in ("employer", "inactive", "anonymous"):
        return set()
    if user == "coord_a":
        return page | OFFICE_STAFF_PAGE | _office_rights("a1", "a2") | {("office.conferencing", "a1"),
            ("office.facebook", "a1"), ("contacts.import", "a1"), ("campaign.create", "act_a"),
            ("campaign.view", "camp_net_a"), ("campaign.manage", "camp_net_a"),
            ("activity.create", "a1"), ("activity.create", "a2"),
            ("network.view", "net_a"), ("network.edit", "net_a"), ("audit.read", "net_a"),
            ("staff.deactivate", "a1"), ("staff.deactivate", "a2"),
            ("staff.view", "staff_of_a2"), ("staff.deactivate", "staff_of_a2"),
            # an inter-network workshop: any network of the region A1 coordinates in, and its offices
            ("activity.add_network", "net_a"), ("activity.add_network", "net_b"),
            ("activity.add_convening", "a1"), ("activity.add_convening", "a2"), ("activity.add_convening", "b1"),
        } | {(a, "act_a") for a in ("activity.view", "activity.edit", "activity.note", "activity.convene",
                                     "activity.assign_host", "registration.view", "registration.create",
                                     "registration.manage", "registration.export",
                                     "registration.import_attendance")}
    if user == "staff_a2":
        return page | OFFICE_STAFF_PAGE | {("activity.create", "a2"), ("office.conferencing", "a2"),
                       ("office.facebook", "a2"), ("contacts.import", "a2"), ("campaign.create", "act_a"),
                       ("campaign.view", "camp_a2"), ("campaign.manage", "camp_a2"),
                       ("office.view", "a1"), ("office.view", "a2"), ("office.edit", "a2"),
                       ("staff.view", "a2"), ("staff.invite", "a2"), ("network.view", "net_a"),
                       ("staff.view", "staff_of_a2"), ("activity.add_network", "net_a"),
                       ("activity.add_convening", "a1"), ("activity.add_convening", "a2")} | {
                       (a, "act_a") for a in ("activity.view", "activity.edit", "activity.note", "activity.convene",
                                              "registration.view", "registration.create", "registration.manage",
                                              "registration.export", "registration.view_personal",
                                              "registration.import_attendance")}
    if user == "staff_x":
        return page | OFFICE_STAFF_PAGE | _office_rights("x") | {("staff.view", "staff_of_x"),
                                                                ("office.conferencing", "x"),
                                                                ("office.facebook", "x"), ("contacts.import", "x"),
                                                                ("campaign.create", "act_a"),
                                                                ("activity.create", "x"),
                                                                ("activity.add_convening", "x")} | {
            (a, "act_a") for a in ("activity.view", "activity.note", "activity.convene", "registration.view",
                                   "registration.create", "registration.manage", "registration.export")}
    if user == "sence_rm":
        nets = {(a, n) for a in ("network.view", "network.edit", "network.assign_coordinator",
                                 "audit.read", "activity.add_network") for n in ("net_a", "net_b")}
        offices = _office_rights("a1", "a2", "b1") | {(a, o) for a in ("staff.deactivate", "office.conferencing",
                                                                       "activity.add_convening")
                                                      for o in ("a1", "a2", "b1")}
        region = {(a, "rm") for a in ("network.create", "office.create", "audit.read",
                                      "network.view", "office.view")}
        unit = {(a, "unit_rm") for a in ("staff.view", "staff.invite", "staff.deactivate")}
        staff = {("staff.view", "staff_of_a2"), ("staff.deactivate", "staff_of_a2")}
        return (page | {("network.create", "none"), ("office.create", "none"), ("activity.view", "act_a"),
                                ("registration.view", "act_a"), ("campaign.view", "camp_a2"),
                                ("campaign.view", "camp_net_a")}
                | nets | offices | region | unit | staff)
    if user == "sence_mag":
        nets = {(a, "net_m") for a in ("network.view", "network.edit", "network.assign_coordinator",
                                       "audit.read", "activity.add_network")}
        offices = _office_rights("m1") | {("staff.deactivate", "m1"), ("office.conferencing", "m1"),
                                          ("activity.add_convening", "m1")}
        region = {(a, "mag") for a in ("network.create", "office.create", "audit.read",
                                       "network.view", "office.view")}
        unit = {(a, "unit_mag") for a in ("staff.view", "staff.invite", "staff.deactivate")}
        return page | {("network.create", "none"), ("office.create", "none")} | nets | offices | region | unit
    raise AssertionError(user)


def test_policy_matrix_matches_the_rules_for_every_role_action_and_target(world):
    users, targets = world
    users = {**users, "anonymous": None}
    mismatches = []
    for (uname, user), action, (tname, target) in product(users.items(), sorted(ACTIONS), targets.items()):
        if action == "token.manage" and tname not in ("none", "staff_of_a2", "staff_of_x"):
            continue
        allowed = expected_allowed(uname)
        if allowed == "everything":
            expected = not (action == "token.manage" and target is not None)
        else:
            expected = (action, tname) in allowed
        if action == "token.manage" and user is not None and target is not None and target.id == user.id:
            expected = uname not in ("employer", "inactive")
        got = can(user, action, target)
        if got != expected:
            mismatches.append(f"{uname} {action} {tname}: expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)


def test_unknown_action_is_an_error_not_a_silent_refusal(factory):
    user = factory.user("sence_national")
    with pytest.raises(UnknownAction):
        can(user, "network.destroy")


def test_coordination_of_an_earlier_year_grants_nothing_now(world):
    users, targets = world
    assert not can(users["staff_a2"], "network.edit", targets["net_a"])


def test_the_networks_and_offices_offered_for_an_activity_are_those_the_rules_allow(world):
    users, targets = world
    networks = {t for t in targets.values() if type(t).__name__ == "Network"}
    offices = {t for t in targets.values() if type(t).__name__ == "Office"}
    for name, user in users.items():
        offered_networks = set(db.session.scalars(linkable_networks(user))) & networks
        offered_offices = set(db.session.scalars(linkable_offices(user))) & offices
        assert offered_networks == {n for n in networks if can(user, "activity.add_network", n)}, name
        assert offered_offices == {o for o in offices if can(user, "activity.add_convening", o)}, name
