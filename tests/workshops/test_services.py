"""Workshop services: planning, series, time zones, conflicts, publishing, changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.activities.models import Activity, ActivityChange, ActivitySession, ActivityStatus, Modality
from app.activities.services import ActivityError
from app.extensions import db
from app.outbox.models import OutboxMessage
from tests.conftest import count
from tests.workshops.conftest import local_in, session_input
from workshops import services


def test_a_single_session_workshop_is_created_as_a_draft(world):
    w = world.workshop()
    assert w.activity.status == ActivityStatus.DRAFT
    assert w.activity.slug == "como-enfrentar-una-entrevista-de-trabajo"
    assert [o.name for o in w.activity.convening_offices] == ["OMIL Peñalolén"]
    assert [f.display_name for f in w.facilitators] == ["Hilda Host"]
    assert count(ActivitySession) == 1


def test_a_second_workshop_with_the_same_title_gets_its_own_slug(world):
    world.workshop()
    second = world.workshop(start=local_in(20))
    assert second.activity.slug == "como-enfrentar-una-entrevista-de-trabajo-2"


def test_every_tuesday_for_four_weeks_makes_four_sessions_a_week_apart(world):
    tuesday = local_in(1)
    while tuesday.weekday() != 1:
        tuesday += timedelta(days=1)
    w = world.workshop(count=4, start=tuesday)
    starts = [s.local_start for s in w.activity.sessions]
    assert len(starts) == 4
    assert all(s.weekday() == 1 and s.hour == 10 for s in starts)
    assert {b - a for a, b in zip(starts, starts[1:], strict=False)} == {timedelta(days=7)}


def test_a_series_across_the_april_dst_change_keeps_its_local_hour():
    from app.activities.services import to_utc

    before = to_utc(datetime(2027, 3, 30, 10, 0), "America/Santiago")
    after = to_utc(datetime(2027, 4, 6, 10, 0), "America/Santiago")
    assert before.hour == 13  # UTC-3 in summer
    assert after.hour == 14  # UTC-4 after the first Sunday of April


def test_a_wall_clock_time_skipped_by_the_september_change_is_refused():
    from app.activities.services import to_utc

    with pytest.raises(ActivityError):
        to_utc(datetime(2027, 9, 5, 0, 30), "America/Santiago")


def test_punta_arenas_and_easter_island_times_are_stored_in_utc(world):
    from app.activities.services import to_utc

    assert to_utc(datetime(2027, 7, 1, 10, 0), "America/Punta_Arenas").hour == 13
    assert to_utc(datetime(2027, 7, 1, 10, 0), "Pacific/Easter").hour == 16


def test_end_before_start_is_refused_and_nothing_is_written(world):
    start = local_in(5)
    bad = session_input(start)
    bad.end_local = start - timedelta(hours=1)
    with pytest.raises(ActivityError) as err:
        services.create_workshop(world.data(), services.Schedule(first=bad), actor=world.host_staff)
    assert err.value.field == "end"
    assert count(Activity) == 0


def test_capacity_must_be_positive(world):
    with pytest.raises(ActivityError) as err:
        services.create_workshop(world.data(), services.Schedule(first=session_input(capacity=0)),
                                 actor=world.host_staff)
    assert err.value.field == "capacity"


def test_a_join_link_must_be_https(world):
    with pytest.raises(ActivityError) as err:
        services.create_workshop(world.data(), services.Schedule(first=session_input(join_url="http://zoom.us/j/1")),
                                 actor=world.host_staff)
    assert err.value.field == "join_url"


def test_an_in_person_session_needs_a_known_comuna(world):
    with pytest.raises(ActivityError) as err:
        services.create_workshop(world.data(), services.Schedule(
            first=session_input(modality=Modality.IN_PERSON, comuna_code="99999")), actor=world.host_staff)
    assert err.value.field == "comuna_code"


def test_a_facilitator_from_an_office_outside_the_workshop_is_refused(world):
    with pytest.raises(ActivityError) as err:
        services.create_workshop(world.data(facilitator_user_ids=[world.other_staff.id]), None,
                                 actor=world.host_staff)
    assert err.value.field == "facilitator_user_ids"
    assert count(Activity) == 0


def test_staff_of_another_network_cannot_create_a_workshop_for_this_office(world):
    with pytest.raises(ActivityError) as err:
        services.create_workshop(world.data(), None, actor=world.other_staff)
    assert err.value.status == 403


def test_sence_regional_reads_but_cannot_edit(world):
    from app.accounts.policy import can

    w = world.workshop()
    assert can(world.sence_rm, "activity.view", w.activity)
    assert not can(world.sence_rm, "activity.edit", w.activity)
    assert can(world.convening_staff, "activity.note", w.activity)
    assert not can(world.convening_staff, "activity.edit", w.activity)


def test_a_facilitator_double_booking_needs_explicit_confirmation(world):
    world.workshop()
    sched = services.Schedule(first=session_input())
    with pytest.raises(services.ConflictsFound) as err:
        services.create_workshop(world.data(title="Otro taller"), sched, actor=world.host_staff,
                                 confirm_warnings=True)
    assert err.value.needs_confirmation
    assert "Hilda Host" in err.value.conflicts[0].message
    assert count(Activity) == 1
    services.create_workshop(world.data(title="Otro taller"), sched, actor=world.host_staff,
                             confirm_warnings=True, confirm_facilitator=True)
    assert count(Activity) == 2


def test_a_double_booked_venue_is_a_warning_naming_the_other_workshop(world):
    world.workshop(session={"modality": Modality.IN_PERSON}, facilitator_user_ids=[])
    sched = services.Schedule(first=session_input(modality=Modality.IN_PERSON))
    with pytest.raises(services.ConflictsFound) as err:
        services.create_workshop(world.data(title="Currículum", facilitator_user_ids=[],
                                            topic_id=_topic_id("elaboracion-de-curriculum")), sched,
                                 actor=world.host_staff)
    assert not err.value.needs_confirmation
    assert [c.kind for c in err.value.conflicts] == ["venue"]
    assert "Cómo enfrentar una entrevista" in err.value.conflicts[0].message


def _topic_id(slug):
    from tests.workshops.conftest import topic

    return topic(slug).id


def test_same_topic_same_network_same_time_is_a_warning(world):
    world.workshop(facilitator_user_ids=[])
    sched = services.Schedule(first=session_input())
    with pytest.raises(services.ConflictsFound) as err:
        services.create_workshop(world.data(title="Entrevistas II", facilitator_user_ids=[]), sched,
                                 actor=world.host_staff)
    assert [c.kind for c in err.value.conflicts] == ["topic"]


def test_publishing_with_a_past_session_is_refused(world):
    w = world.workshop(start=local_in(-2))
    with pytest.raises(ActivityError) as err:
        services.publish(w, actor=world.host_staff)
    assert err.value.status == 409
    assert w.activity.status == ActivityStatus.DRAFT


def test_moving_a_published_session_is_recorded_and_queued_for_the_people_affected(world):
    w = world.workshop(publish=True)
    session = w.activity.sessions[0]
    moved = session_input(local_in(8, 15))
    changes = services.update_session(session, moved, actor=world.host_staff)
    assert [c.kind for c in changes] == ["time"]
    assert session.sequence == 1
    assert count(ActivityChange) == 1
    recipients = {m.recipient for m in db.session.query(OutboxMessage).filter_by(kind="session_change")}
    assert world.host_staff.email in recipients
    assert world.convening.email in recipients


def test_cancelling_a_published_workshop_cancels_its_sessions_and_tells_people(world):
    w = world.workshop(count=2, publish=True)
    services.cancel(w, "Falla en el edificio", actor=world.host_staff)
    assert w.activity.status == ActivityStatus.CANCELLED
    assert all(s.status.value == "cancelled" for s in w.activity.sessions)
    assert count(ActivityChange) == 2
    assert db.session.query(OutboxMessage).filter_by(kind="session_change").count() > 0


def test_cancelling_needs_a_reason(world):
    w = world.workshop(publish=True)
    with pytest.raises(ActivityError) as err:
        services.cancel(w, "  ", actor=world.host_staff)
    assert err.value.field == "reason"


def test_editing_the_whole_series_moves_every_upcoming_session(world):
    w = world.workshop(count=3)
    first = w.activity.sessions[0]
    services.update_session(first, session_input(first.local_start.replace(tzinfo=None, hour=16)),
                            actor=world.host_staff, whole_series=True)
    assert {s.local_start.hour for s in w.activity.sessions} == {16}


def test_editing_one_session_of_a_series_detaches_only_it(world):
    w = world.workshop(count=3)
    second = w.activity.sessions[1]
    services.update_session(second, session_input(second.local_start.replace(tzinfo=None, hour=17)),
                            actor=world.host_staff)
    assert [s.local_start.hour for s in w.activity.sessions] == [10, 17, 10]
    assert [s.detached for s in w.activity.sessions] == [False, True, False]


def test_convening_staff_can_add_a_note_but_others_cannot(world):
    w = world.workshop()
    services.add_note(w, "Llevaremos 10 personas", actor=world.convening_staff)
    with pytest.raises(ActivityError) as err:
        services.add_note(w, "hola", actor=world.other_staff)
    assert err.value.status == 403
