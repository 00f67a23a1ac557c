"""The demo seed: ``flask seed-demo`` on an empty database, and again on a loaded one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import Role, User
from app.accounts.policy import can, current_year, is_coordinator
from app.activities.models import ActivitySession, ActivityStatus, Modality, SessionStatus
from app.audit.models import AuditEvent
from app.demo import DEMO_PASSWORD, DemoNotLoadedError, seed_demo
from app.extensions import db
from app.territory.models import Network, Office, OfficeCategory, OfficeKind
from app.timeutil import utcnow
from tests.conftest import login, table_counts
from workshops.demo import WORKSHOPS
from workshops.models import Workshop


def _networks() -> list[Network]:
    return list(db.session.scalars(select(Network).order_by(Network.name)))


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def _workshops() -> list[Workshop]:
    return list(db.session.scalars(select(Workshop).order_by(Workshop.activity_id)))


def _easter_office() -> Office:
    office = db.session.scalar(select(Office).where(Office.comuna_code == "05201"))
    assert office is not None
    return office


def test_seed_creates_three_networks_in_two_regions(app: Flask) -> None:
    seed_demo()
    networks = _networks()
    assert len(networks) == 3
    assert {code for n in networks for code in n.region_codes} == {"13", "12"}
    magallanes = next(n for n in networks if n.region_codes == {"12"})
    assert {o.comuna.region_code for o in magallanes.offices} == {"12"}
    assert {o.timezone for o in magallanes.offices} == {"America/Punta_Arenas"}


def test_seed_creates_offices_of_every_category_with_contact_data(app: Flask) -> None:
    seed_demo()
    offices = list(db.session.scalars(select(Office)))
    assert 8 <= len(offices) <= 12
    assert {o.category for o in offices if o.kind == OfficeKind.OMIL} == set(OfficeCategory)
    assert any(o.kind == OfficeKind.PLATAFORMA and o.category is None for o in offices)
    assert any(o.name == "OMIL Ñuñoa" for o in offices)
    for office in offices:
        assert office.networks or office.comuna_code == "05201", office
        assert office.email and office.email.endswith(".example.cl")
        assert office.address and office.opening_hours
        for number in (office.phone, office.whatsapp):
            assert number and number.startswith("+56")
            assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_isla_de_pascua_has_an_office_in_no_network_with_its_own_staff(app: Flask) -> None:
    seed_demo()
    office = _easter_office()
    assert office.name == "OMIL Isla de Pascua"
    assert office.category == OfficeCategory.BASICA
    assert office.timezone == "Pacific/Easter"
    assert office.networks == []
    assert not any(office in n.offices for n in _networks())  # coordinated by nobody
    assert [u.email for u in _users() if u.office_id == office.id] == [
        "omil.isladepascua@demo.puentelaboral.cl"]


def test_each_network_has_an_avanzada_coordinator_this_year_and_history_last_year(
    app: Flask,
) -> None:
    seed_demo()
    year = current_year()
    for network in _networks():
        current = network.coordinating_office(year)
        previous = network.coordinating_office(year - 1)
        assert current is not None and previous is not None, network
        assert current.category == OfficeCategory.AVANZADA
        assert current != previous
        assert current in network.offices and previous in network.offices


def test_seed_creates_staff_in_every_role(app: Flask) -> None:
    seed_demo()
    users = _users()
    roles = {u.role for u in users}
    assert {Role.OFFICE_STAFF, Role.SENCE_REGIONAL, Role.SENCE_NATIONAL} <= roles
    assert {u.region_code for u in users if u.role == Role.SENCE_REGIONAL} == {"13", "12"}
    assert len([u for u in users if u.role == Role.SENCE_NATIONAL]) == 1
    staffed_offices = {u.office_id for u in users if u.role == Role.OFFICE_STAFF}
    assert len(staffed_offices) >= 5
    assert all(u.email.endswith("@demo.puentelaboral.cl") for u in users)


def test_every_network_has_a_coordinator_account_for_this_year(app: Flask) -> None:
    seed_demo()
    users = _users()
    for network in _networks():
        coordinators = [u for u in users if is_coordinator(u, network)]
        assert coordinators, network
        assert all(u.office == network.coordinating_office(current_year()) for u in coordinators)


def test_returned_credentials_log_in(app: Flask, client: Any) -> None:
    rows = seed_demo()
    assert len(rows) == len(_users())
    assert {password for _role, _email, password in rows} == {DEMO_PASSWORD}
    email = next(e for _r, e, _p in rows if e.startswith("coordinacion.oriente@"))
    resp = login(client, email, DEMO_PASSWORD)
    assert resp.status_code == 302


def test_second_seed_changes_nothing(app: Flask) -> None:
    seed_demo()
    before = table_counts()
    with pytest.raises(DemoNotLoadedError):
        seed_demo()
    assert table_counts() == before


def test_seed_does_nothing_on_a_database_that_has_an_office(app: Flask, factory: Any) -> None:
    factory.office("13101")
    before = table_counts()
    with pytest.raises(DemoNotLoadedError):
        seed_demo()
    assert table_counts() == before


def test_cli_prints_credentials_and_a_local_only_warning(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "coordinacion.oriente@demo.puentelaboral.cl" in result.output
    assert "sence.nacional@demo.puentelaboral.cl" in result.output
    assert "omil.isladepascua@demo.puentelaboral.cl" in result.output
    assert "11 oficinas" in result.output and "9 talleres" in result.output
    assert DEMO_PASSWORD in result.output
    assert "solo para pruebas locales" in result.output


def test_cli_second_run_says_not_loaded_and_exits_zero(app: Flask, runner: Any) -> None:
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = table_counts()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "no está vacía" in result.output
    assert DEMO_PASSWORD not in result.output
    assert table_counts() == before


def test_cli_refuses_in_production(
    app: Flask, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert not _networks()


# --- workshops -----------------------------------------------------------------------------


def test_seed_plans_a_month_of_upcoming_workshops(app: Flask) -> None:
    seed_demo()
    workshops = _workshops()
    assert len(workshops) == len(WORKSHOPS) == 9
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    sessions = list(db.session.scalars(select(ActivitySession)))
    past = [s for s in sessions if s.starts_at <= utcnow()]
    assert len(past) == 1  # the one session moved back a week to show attendance
    assert all(s.starts_at > utcnow() for s in sessions if s not in past)
    last = max(s.starts_at.astimezone(ZoneInfo("America/Santiago")).date() for s in sessions)
    assert today + timedelta(days=14) <= last <= today + timedelta(days=31)
    assert {w.activity.host_office.comuna.region_code for w in workshops} == {"13", "12", "05"}
    assert {n.name for w in workshops for n in w.activity.networks} == {n.name for n in _networks()}


def test_demo_workshops_are_remote_in_person_and_hybrid_with_their_links_and_places(app: Flask) -> None:
    seed_demo()
    sessions = list(db.session.scalars(select(ActivitySession)))
    assert {s.modality for s in sessions} == set(Modality)
    for s in sessions:
        if s.is_remote:
            assert s.join_url and s.join_url.startswith("https://"), s
        if s.is_in_person:
            assert s.venue_name and s.address, s
            assert s.comuna_code == s.activity.host_office.comuna_code, s
        else:
            assert s.venue_name is None and s.comuna_code is None, s


def test_demo_has_single_sessions_and_weekly_series(app: Flask) -> None:
    seed_demo()
    by_count = {len(w.activity.sessions) for w in _workshops()}
    assert 1 in by_count and 4 in by_count
    tuesdays = next(w for w in _workshops() if len(w.activity.sessions) == 4)
    starts = [s.local_start for s in tuesdays.activity.sessions]
    assert {s.weekday() for s in starts} == {1} and {(s.hour, s.minute) for s in starts} == {(10, 0)}
    assert {b.date() - a.date() for a, b in zip(starts, starts[1:], strict=False)} == {timedelta(days=7)}
    assert len({s.series_id for s in tuesdays.activity.sessions}) == 1


def test_one_demo_workshop_is_shared_by_two_networks(app: Flask) -> None:
    seed_demo()
    shared = [w for w in _workshops() if len(w.activity.networks) > 1]
    assert len(shared) == 1
    [workshop] = shared
    assert len(workshop.activity.networks) == 2
    for network in workshop.activity.networks:  # each network convenes for it
        assert set(network.offices) & set(workshop.activity.convening_offices), network
        assert any(can(u, "activity.view", workshop.activity) for u in _users()
                   if u.office in network.offices and u.office != workshop.activity.host_office)


def test_demo_workshops_in_punta_arenas_and_easter_island_time(app: Flask) -> None:
    seed_demo()
    sessions = list(db.session.scalars(select(ActivitySession)))
    assert {s.timezone for s in sessions} == {"America/Santiago", "America/Punta_Arenas", "Pacific/Easter"}
    for s in sessions:
        assert s.timezone == s.activity.host_office.timezone
    punta_arenas = [s for s in sessions if s.timezone == "America/Punta_Arenas"]
    assert {s.local_start.utcoffset() for s in punta_arenas} == {timedelta(hours=-3)}  # no DST
    [easter] = [s for s in sessions if s.timezone == "Pacific/Easter"]
    assert easter.activity.host_office == _easter_office()
    assert (easter.local_start.hour, easter.local_start.minute) == (10, 0)
    santiago = easter.starts_at.astimezone(ZoneInfo("America/Santiago"))
    assert santiago.utcoffset() - easter.local_start.utcoffset() == timedelta(hours=2)
    assert santiago.hour == 12


def test_most_demo_workshops_are_published_two_drafts_and_one_cancelled_with_a_reason(app: Flask) -> None:
    seed_demo()
    statuses = [w.activity.status for w in _workshops()]
    assert statuses.count(ActivityStatus.DRAFT) == 2
    assert statuses.count(ActivityStatus.CANCELLED) == 1
    assert statuses.count(ActivityStatus.PUBLISHED) == len(statuses) - 3
    [cancelled] = [w.activity for w in _workshops() if w.activity.status == ActivityStatus.CANCELLED]
    assert cancelled.cancel_reason and cancelled.is_public
    assert {s.status for s in cancelled.sessions} == {SessionStatus.CANCELLED}


def test_demo_facilitators_and_convening_offices_fit_each_workshop(app: Flask) -> None:
    seed_demo()
    for w in _workshops():
        activity = w.activity
        staff = [f.user for f in w.facilitators if f.user is not None]
        assert staff, activity.title
        assert any(u.office == activity.host_office for u in staff), activity.title
        allowed = {activity.host_office, *activity.convening_offices}
        assert all(u.office in allowed for u in staff), activity.title
        network_offices = {o for n in activity.networks for o in n.offices}
        assert set(activity.convening_offices) <= network_offices, activity.title


def test_demo_workshops_are_planned_by_host_staff_through_the_services(app: Flask) -> None:
    seed_demo()
    users = {u.id: u for u in _users()}
    for w in _workshops():
        author = users[w.activity.created_by_id]
        assert author.office == w.activity.host_office
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions.count("workshop.create") == len(WORKSHOPS)
    assert actions.count("workshop.cancel") == 1


def test_the_public_api_lists_the_published_demo_workshops(app: Flask, client: Any) -> None:
    seed_demo()
    body = client.get("/api/v1/workshops").get_json()
    public = [w for w in _workshops() if w.activity.is_public]
    assert body["total"] == len(public) == len(WORKSHOPS) - 2
    assert "draft" not in {w["status"] for w in body["items"]}


def test_demo_registrations_fill_half_a_session_and_overflow_another_with_walk_ins_and_attendance(
        app: Flask) -> None:
    from app.registration.models import Attendance, Registration, RegistrationStatus, Source

    seed_demo()
    regs = list(db.session.scalars(select(Registration)))
    assert any(r.status == RegistrationStatus.WAITLISTED for r in regs)
    full = {r.session_id for r in regs if r.status == RegistrationStatus.WAITLISTED}
    for session_id in full:
        session = db.session.get(ActivitySession, session_id)
        confirmed = [r for r in regs if r.session_id == session_id and r.status == RegistrationStatus.CONFIRMED]
        assert len(confirmed) == session.capacity == session.confirmed_count
    walk_ins = [r for r in regs if r.source == Source.STAFF and r.via is None]  # the phone one is outreach's
    assert len(walk_ins) == 3 and all(r.office_id and r.staff_user_id for r in walk_ins)
    assert {r.attendance for r in regs if r.attendance} == {Attendance.PRESENT, Attendance.ABSENT}


def test_seed_has_a_campaign_whose_report_credits_sms_poster_and_phone(app: Flask) -> None:
    from app.dissemination.models import Campaign, CampaignStatus
    from app.dissemination.services import campaign_report
    from app.registration.models import Registration

    seed_demo()
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.id)))
    assert [c.status for c in campaigns] == [CampaignStatus.ACTIVE, CampaignStatus.DRAFT]
    rows = {r.channel: r for r in campaign_report(campaigns[0])}
    assert rows["sms"].registrations == 2 and rows["poster"].registrations == 1
    assert rows["email"].queued + rows["whatsapp"].queued + rows["sms"].queued >= 12
    assert db.session.scalar(select(Registration).where(Registration.via == "phone")) is not None
