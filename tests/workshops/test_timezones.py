"""Time zones: what staff typed, what is stored, what pages show and what .ics files say agree.

Chile's rules (America/Santiago): summer time ends on the first Saturday/Sunday of April
(24:00 on Saturday becomes 23:00, so 23:00–24:00 happens twice) and starts on the first
Saturday/Sunday of September (24:00 on Saturday becomes 01:00, so 00:00–01:00 never happens).
Magallanes (America/Punta_Arenas) stays at UTC-3 all year; Easter Island (Pacific/Easter)
follows the mainland's dates at UTC-6 in winter and UTC-5 in summer. Dates are in 2027 so
they are in the future.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import text

from app.activities.models import Activity, ActivitySession
from app.activities.services import ActivityError
from app.extensions import db
from tests.conftest import count, login
from tests.workshops.conftest import session_input
from workshops import services


@dataclass(frozen=True)
class Expect:
    wall: datetime  # what staff typed, naive, in the session's zone
    utc: datetime  # what must be stored
    offset_hours: int  # the zone's offset at that moment


def stored_utc(session_id: int) -> datetime:
    """The start as the database holds it (SQLite: naive UTC text; PostgreSQL: timestamptz)."""
    raw = db.session.execute(text("SELECT starts_at FROM activity_sessions WHERE id = :id"),
                             {"id": session_id}).scalar_one()
    if isinstance(raw, str):
        raw = datetime.fromisoformat(raw)
    if raw.tzinfo is None:
        raw = raw.replace(tzinfo=UTC)
    return raw.astimezone(UTC)


def ics(client: Any, w: Any) -> tuple[Calendar, bytes]:
    resp = client.get(f"/talleres/{w.activity.slug}.ics")
    assert resp.status_code == 200
    return Calendar.from_ical(resp.data), resp.data


def assert_agree(client: Any, w: Any, expected: list[Expect], tz: str) -> None:
    """Typed, stored, model and exported times agree for every session of ``w``."""
    sessions = sorted(w.activity.sessions, key=lambda s: s.starts_at)
    assert len(sessions) == len(expected)
    cal, body = ics(client, w)
    events = {str(e["UID"]): e for e in cal.events}
    vtimezones = {str(t["TZID"]): t.to_tz() for t in cal.timezones}
    assert set(vtimezones) == {tz}
    for s, exp in zip(sessions, expected, strict=True):
        # stored
        assert s.timezone == tz
        assert stored_utc(s.id) == exp.utc
        assert s.starts_at == exp.utc
        # shown (model properties used by the pages)
        assert s.local_start.replace(tzinfo=None) == exp.wall
        assert s.local_start.utcoffset() == timedelta(hours=exp.offset_hours)
        # exported
        ev = events[s.uid]
        assert ev["DTSTART"].params["TZID"] == tz
        assert f"DTSTART;TZID={tz}:{exp.wall:%Y%m%dT%H%M%S}".encode() in body
        assert ev.decoded("DTSTART").replace(tzinfo=None) == exp.wall
        assert ev.decoded("DTSTART").astimezone(UTC) == exp.utc
        # ...and the VTIMEZONE in the file, not only the reader's zoneinfo, gives the same instant
        assert exp.wall.replace(tzinfo=vtimezones[tz]).astimezone(UTC) == exp.utc
        assert ev.decoded("DTEND").astimezone(UTC) == s.ends_at


def zone_office(world: Any, factory: Any, comuna: str, name: str) -> tuple[Any, Any]:
    office = factory.office(comuna, name=name, category="avanzada")
    return office, factory.user(office=office, name=f"Staff {name}")


def plan_at(world: Any, office: Any, staff: Any, starts: list[datetime], *, title: str) -> Any:
    """A published workshop hosted by ``office`` with one session at each wall-clock start."""
    tz = office.comuna.timezone
    w = services.create_workshop(
        world.data(title=title, host_office_id=office.id, network_ids=[], convening_office_ids=[],
                   facilitator_user_ids=[]),
        services.Schedule(first=session_input(starts[0], tz=tz)), actor=staff, confirm_warnings=True)
    for start in starts[1:]:
        services.add_sessions(w, services.Schedule(first=session_input(start, tz=tz)), actor=staff,
                              confirm_warnings=True)
    services.publish(w, actor=staff)
    return w


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- mainland Chile: the April and September changes ---------------------------------------------


def test_a_weekly_series_across_the_april_change_keeps_ten_o_clock_local(world, client):
    # Saturdays at 10:00; the clocks go back in the night after Saturday 3 April 2027.
    w = world.workshop(count=3, start=datetime(2027, 3, 27, 10, 0), publish=True)
    assert_agree(client, w, [
        Expect(datetime(2027, 3, 27, 10, 0), utc(2027, 3, 27, 13, 0), -3),
        Expect(datetime(2027, 4, 3, 10, 0), utc(2027, 4, 3, 13, 0), -3),  # still summer time
        Expect(datetime(2027, 4, 10, 10, 0), utc(2027, 4, 10, 14, 0), -4),
    ], "America/Santiago")


def test_a_weekly_series_across_the_september_change_keeps_ten_o_clock_local(world, client):
    # Saturdays at 10:00; the clocks go forward in the night after Saturday 4 September 2027.
    w = world.workshop(count=3, start=datetime(2027, 8, 28, 10, 0), publish=True)
    assert_agree(client, w, [
        Expect(datetime(2027, 8, 28, 10, 0), utc(2027, 8, 28, 14, 0), -4),
        Expect(datetime(2027, 9, 4, 10, 0), utc(2027, 9, 4, 14, 0), -4),  # still winter time
        Expect(datetime(2027, 9, 11, 10, 0), utc(2027, 9, 11, 13, 0), -3),
    ], "America/Santiago")


def test_a_session_in_the_repeated_hour_of_april_takes_its_first_occurrence(world, client):
    # Saturday 3 April 2027, 22:00–23:30: 23:30 happens twice that night; the first is UTC-3.
    w = world.workshop(start=datetime(2027, 4, 3, 22, 0), publish=True, session={"hours": 1.5})
    assert_agree(client, w, [Expect(datetime(2027, 4, 3, 22, 0), utc(2027, 4, 4, 1, 0), -3)],
                 "America/Santiago")
    s = w.activity.sessions[0]
    assert s.ends_at == utc(2027, 4, 4, 2, 30)
    assert s.local_end.replace(tzinfo=None) == datetime(2027, 4, 3, 23, 30)
    ev = ics(client, w)[0].events[0]
    assert ev.decoded("DTEND").replace(tzinfo=None) == datetime(2027, 4, 3, 23, 30)
    assert ev.decoded("DTEND").astimezone(UTC) == s.ends_at


def test_a_series_that_falls_into_the_skipped_september_hour_is_refused_whole(world):
    # Sundays at 00:30 from 29 August: 00:30 on 5 September 2027 does not exist in Santiago.
    with pytest.raises(ActivityError) as err:
        world.workshop(count=3, start=datetime(2027, 8, 29, 0, 30))
    assert "cambio de horario" in err.value.message
    assert count(Activity) == 0
    assert count(ActivitySession) == 0


# --- Magallanes and Easter Island ----------------------------------------------------------------


def test_punta_arenas_stays_at_utc_minus_three_in_summer_and_winter(world, factory, client):
    office, staff = zone_office(world, factory, "12101", "OMIL Punta Arenas")
    assert office.comuna.timezone == "America/Punta_Arenas"
    w = plan_at(world, office, staff, [datetime(2027, 1, 14, 10, 0), datetime(2027, 7, 15, 10, 0)],
                title="Entrevista de trabajo en Magallanes")
    assert_agree(client, w, [
        Expect(datetime(2027, 1, 14, 10, 0), utc(2027, 1, 14, 13, 0), -3),
        Expect(datetime(2027, 7, 15, 10, 0), utc(2027, 7, 15, 13, 0), -3),  # Santiago would be 14:00
    ], "America/Punta_Arenas")


def test_easter_island_is_utc_minus_five_in_summer_and_minus_six_in_winter(world, factory, client):
    office, staff = zone_office(world, factory, "05201", "OMIL Isla de Pascua")
    assert office.comuna.timezone == "Pacific/Easter"
    w = plan_at(world, office, staff, [datetime(2027, 1, 14, 10, 0), datetime(2027, 7, 15, 10, 0)],
                title="Currículum en Rapa Nui")
    assert_agree(client, w, [
        Expect(datetime(2027, 1, 14, 10, 0), utc(2027, 1, 14, 15, 0), -5),
        Expect(datetime(2027, 7, 15, 10, 0), utc(2027, 7, 15, 16, 0), -6),
    ], "Pacific/Easter")


def test_easter_island_changes_on_saturday_evening_local_time(world, factory, client):
    # Easter Island follows the mainland at the same instant: 22:00 on Saturday there.
    office, staff = zone_office(world, factory, "05201", "OMIL Isla de Pascua")
    w = plan_at(world, office, staff, [datetime(2027, 4, 3, 20, 0), datetime(2027, 4, 4, 20, 0)],
                title="Taller de fin de semana en Rapa Nui")
    assert_agree(client, w, [
        Expect(datetime(2027, 4, 3, 20, 0), utc(2027, 4, 4, 1, 0), -5),
        Expect(datetime(2027, 4, 4, 20, 0), utc(2027, 4, 5, 2, 0), -6),
    ], "Pacific/Easter")


def test_a_calendar_with_sessions_in_three_zones_keeps_each_in_its_own(world, factory, client):
    from app.calendar import build_calendar

    santiago = world.workshop(start=datetime(2027, 7, 15, 10, 0), publish=True)
    pa_office, pa_staff = zone_office(world, factory, "12101", "OMIL Punta Arenas")
    ei_office, ei_staff = zone_office(world, factory, "05201", "OMIL Isla de Pascua")
    pa = plan_at(world, pa_office, pa_staff, [datetime(2027, 7, 15, 10, 0)], title="Magallanes")
    ei = plan_at(world, ei_office, ei_staff, [datetime(2027, 7, 15, 10, 0)], title="Rapa Nui")
    sessions = [w.activity.sessions[0] for w in (santiago, pa, ei)]
    cal = Calendar.from_ical(build_calendar(sessions, name="Chile", url_for_session=lambda s: None))
    starts = {str(e["UID"]): e.decoded("DTSTART") for e in cal.events}
    # the same 10:00 on the wall is three different instants
    assert [starts[s.uid].hour for s in sessions] == [10, 10, 10]
    assert [starts[s.uid].astimezone(UTC).hour for s in sessions] == [14, 13, 16]
    assert {str(t["TZID"]) for t in cal.timezones} == {"America/Santiago", "America/Punta_Arenas", "Pacific/Easter"}


# --- pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("comuna", "wall", "zone_words"), [
    ("13120", datetime(2027, 4, 10, 10, 0), "hora de Santiago"),
    ("12101", datetime(2027, 7, 15, 10, 0), "hora de Magallanes"),
    ("05201", datetime(2027, 7, 15, 10, 0), "hora de Isla de Pascua"),
])
def test_the_public_and_staff_pages_show_the_wall_clock_time_staff_typed(world, factory, client, comuna, wall,
                                                                         zone_words):
    if comuna == "13120":
        office, staff = world.host, world.host_staff
    else:
        office, staff = zone_office(world, factory, comuna, f"OMIL {comuna}")
    w = plan_at(world, office, staff, [wall], title="Taller con hora local")
    shown = re.compile(r"10:00\s*(?:a|–|-)\s*12:00")  # the session lasts two hours, 10:00 on the wall
    utc_start = w.activity.sessions[0].starts_at.strftime("%H:%M")
    public = client.get(f"/talleres/{w.activity.slug}").get_data(as_text=True)
    if "Taller con hora local" not in public:
        pytest.skip("the public workshop page does not show the workshop yet")
    assert shown.search(public)
    assert f"10:00 a 12:00 ({zone_words})" in public
    assert utc_start not in public
    login(client, staff.email)
    resp = client.get(f"/gestion/talleres/{w.activity.id}")
    if resp.status_code == 404:
        pytest.skip("the staff workshop page does not exist yet")
    staff_page = resp.get_data(as_text=True)
    assert shown.search(staff_page)
    assert utc_start not in staff_page
