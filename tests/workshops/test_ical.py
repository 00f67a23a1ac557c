"""iCalendar: public workshop files, private subscription feeds, invitations, conditional GETs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.activities import feeds
from app.activities.models import ActivitySession, CalendarFeed, Modality
from app.audit.models import AuditEvent
from app.calendar import Attendee, build_calendar
from app.extensions import db
from tests.conftest import count, csrf_from, login
from tests.workshops.conftest import local_in, session_input
from workshops import services

ICS = "text/calendar; charset=utf-8"
FEEDS_PAGE = "/gestion/calendario/suscripciones"


def parse(resp: Any) -> Calendar:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return Calendar.from_ical(resp.data)


def page_url(w: Any) -> str:
    return f"http://localhost/talleres/{w.activity.slug}"


def ics_path(w: Any) -> str:
    return f"/talleres/{w.activity.slug}.ics"


def feed_path(feed: CalendarFeed, token: str | None = None) -> str:
    return f"/calendario/{feed.id}-{token or feeds.feed_token(feed)}.ics"


def audit_count(action: str) -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0)


# --- public files -------------------------------------------------------------------------------


def test_a_published_workshop_file_has_the_calendar_headers_and_one_event_per_session(world, client):
    w = world.workshop(count=2, publish=True)
    resp = client.get(ics_path(w))
    cal = parse(resp)
    assert resp.headers["Content-Type"] == ICS
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{w.activity.slug}.ics"'
    assert resp.data.count(b"\r\n") > 10 and b"\n" not in resp.data.replace(b"\r\n", b"")
    assert str(cal["VERSION"]) == "2.0"
    assert "Puente Laboral" in str(cal["PRODID"])
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) == w.activity.title
    assert "METHOD" not in cal
    sessions = w.activity.sessions
    assert [str(e["UID"]) for e in cal.events] == [s.uid for s in sessions]
    for ev, s in zip(cal.events, sessions, strict=True):
        assert ev["DTSTART"].params["TZID"] == "America/Santiago"
        assert ev.decoded("DTSTART").astimezone(UTC) == s.starts_at
        assert ev.decoded("DTEND").astimezone(UTC) == s.ends_at
        assert ev.decoded("DTSTAMP") == max(s.updated_at, w.activity.updated_at).replace(microsecond=0)
        assert ev.decoded("SEQUENCE") == 0
        assert str(ev["STATUS"]) == "CONFIRMED"
        assert str(ev["SUMMARY"]) == w.activity.title
        assert "LAST-MODIFIED" in ev


def test_a_remote_session_points_to_the_public_page_never_to_the_join_link(world, client):
    w = world.workshop(publish=True)
    ev = parse(client.get(ics_path(w))).events[0]
    assert str(ev["URL"]) == page_url(w)
    assert str(ev["LOCATION"]) == page_url(w)
    assert page_url(w) in str(ev["DESCRIPTION"])
    assert "Modalidad: Remota" in str(ev["DESCRIPTION"])
    assert b"zoom.us" not in client.get(ics_path(w)).data


def test_the_organizer_is_the_host_office_with_its_email(world, client):
    w = world.workshop(publish=True)
    ev = parse(client.get(ics_path(w))).events[0]
    assert str(ev["ORGANIZER"]) == f"mailto:{world.host.email}"
    assert ev["ORGANIZER"].params["CN"] == "OMIL Ñuñoa"


def test_an_in_person_session_is_located_at_its_venue_address_and_comuna(world, client):
    w = world.workshop(publish=True, session={"modality": Modality.IN_PERSON})
    ev = parse(client.get(ics_path(w))).events[0]
    assert str(ev["LOCATION"]) == "Sala de capacitación OMIL, Av. Irarrázaval 3550, Ñuñoa"
    assert "Modalidad: Presencial" in str(ev["DESCRIPTION"])


def test_the_accessibility_offered_is_in_the_description(world, client):
    w = world.workshop(publish=True, offers_sign_language=True, offers_subtitles=True,
                       audience="Personas que buscan su primer empleo")
    text = str(parse(client.get(ics_path(w))).events[0]["DESCRIPTION"])
    assert "Accesibilidad: subtítulos, intérprete de lengua de señas chilena." in text
    assert "Dirigido a: Personas que buscan su primer empleo" in text
    assert "Tema: " in text


def test_the_uid_stays_and_the_sequence_grows_when_a_published_session_moves(world, client):
    w = world.workshop(publish=True)
    s = w.activity.sessions[0]
    before = parse(client.get(ics_path(w))).events[0]
    services.update_session(s, session_input(local_in(9, 15)), actor=world.host_staff)
    after = parse(client.get(ics_path(w))).events[0]
    assert str(after["UID"]) == str(before["UID"]) == s.uid
    assert after.decoded("SEQUENCE") == before.decoded("SEQUENCE") + 1 == 1
    assert after.decoded("DTSTART").hour == 15
    assert after.decoded("DTSTART").astimezone(UTC) == s.starts_at


def test_a_cancelled_session_is_status_cancelled_with_its_reason(world, client):
    w = world.workshop(count=2, publish=True)
    first = w.activity.sessions[0]
    services.cancel_session(first, "Corte de luz en la sala", actor=world.host_staff)
    events = {str(e["UID"]): e for e in parse(client.get(ics_path(w))).events}
    assert str(events[first.uid]["STATUS"]) == "CANCELLED"
    assert events[first.uid].decoded("SEQUENCE") == 1
    assert "Corte de luz en la sala" in str(events[first.uid]["DESCRIPTION"])
    assert str(events[w.activity.sessions[1].uid]["STATUS"]) == "CONFIRMED"


def test_a_cancelled_workshop_file_is_still_served_with_every_event_cancelled(world, client):
    w = world.workshop(count=2, publish=True)
    services.cancel(w, "Sin facilitador", actor=world.host_staff)
    cal = parse(client.get(ics_path(w)))
    assert [str(e["STATUS"]) for e in cal.events] == ["CANCELLED", "CANCELLED"]


def test_a_session_file_has_only_that_session(world, client):
    w = world.workshop(count=3, publish=True)
    s = w.activity.sessions[1]
    resp = client.get(f"/talleres/{w.activity.slug}/sesiones/{s.id}.ics")
    cal = parse(resp)
    assert [str(e["UID"]) for e in cal.events] == [s.uid]
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{w.activity.slug}-sesion-{s.id}.ics"'


def test_an_unpublished_workshop_has_no_public_file(world, client):
    w = world.workshop()
    assert client.get(ics_path(w)).status_code == 404
    assert client.get(f"/talleres/{w.activity.slug}/sesiones/{w.activity.sessions[0].id}.ics").status_code == 404
    assert client.get("/talleres/no-existe.ics").status_code == 404


def test_a_session_of_another_workshop_is_not_found_under_this_slug(world, client):
    w = world.workshop(publish=True)
    other = world.workshop(publish=True, start=local_in(12), title="Otro taller")
    assert client.get(f"/talleres/{w.activity.slug}/sesiones/{other.activity.sessions[0].id}.ics").status_code == 404


# --- VTIMEZONE, METHOD ---------------------------------------------------------------------------


def _sessions_in_every_zone(world: Any, factory: Any) -> list[ActivitySession]:
    zones = {"12101": "America/Punta_Arenas", "05201": "Pacific/Easter", "11101": "America/Coyhaique"}
    sessions = list(world.workshop().activity.sessions)
    for comuna, tz in zones.items():
        office = factory.office(comuna, name=f"OMIL {tz}")
        staff = factory.user(office=office)
        w = services.create_workshop(
            world.data(host_office_id=office.id, network_ids=[], convening_office_ids=[], facilitator_user_ids=[],
                       title=f"Taller en {tz}"),
            services.Schedule(first=session_input(local_in(8, tz=tz), tz=tz)), actor=staff, confirm_warnings=True)
        sessions += w.activity.sessions
    return sessions


def test_there_is_a_vtimezone_for_every_zone_used(world, factory):
    sessions = _sessions_in_every_zone(world, factory)
    cal = Calendar.from_ical(build_calendar(sessions, name="Todo", url_for_session=lambda s: None))
    zones = {"America/Santiago", "America/Punta_Arenas", "Pacific/Easter", "America/Coyhaique"}
    assert {str(tz["TZID"]) for tz in cal.timezones} == zones
    assert {e["DTSTART"].params["TZID"] for e in cal.events} == zones
    assert cal.get_missing_tzids() == set()
    # the VTIMEZONE itself (not zoneinfo) turns each local start back into the stored UTC
    by_id = {str(tz["TZID"]): tz.to_tz() for tz in cal.timezones}
    for ev, s in zip(cal.events, sessions, strict=True):
        naive = ev.decoded("DTSTART").replace(tzinfo=None)
        assert naive.replace(tzinfo=by_id[s.timezone]).astimezone(UTC) == s.starts_at


def test_an_invitation_is_method_request_with_the_attendee(world):
    w = world.workshop(publish=True)
    body = build_calendar(w.activity.sessions, name=w.activity.title, url_for_session=lambda s: "https://x.cl/t",
                          join_url_for_session=lambda s: s.join_url, method="REQUEST",
                          attendee=Attendee(email="ana@example.cl", name="Ana Pérez", rsvp=True))
    cal = Calendar.from_ical(body)
    assert str(cal["METHOD"]) == "REQUEST"
    ev = cal.events[0]
    assert str(ev["ATTENDEE"]) == "mailto:ana@example.cl"
    assert ev["ATTENDEE"].params["CN"] == "Ana Pérez"
    assert ev["ATTENDEE"].params["RSVP"] == "TRUE"
    assert str(ev["ORGANIZER"]) == f"mailto:{world.host.email}"
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert "https://us02web.zoom.us/j/123456789" in str(ev["DESCRIPTION"])  # the registrant's own copy


def test_a_cancellation_is_method_cancel_with_status_cancelled(world):
    w = world.workshop(publish=True)
    s = w.activity.sessions[0]
    cal = Calendar.from_ical(build_calendar([s], name="x", url_for_session=lambda s: None, method="CANCEL",
                                            attendee=Attendee(email="ana@example.cl")))
    assert str(cal["METHOD"]) == "CANCEL"
    ev = cal.events[0]
    assert str(ev["UID"]) == s.uid
    assert str(ev["STATUS"]) == "CANCELLED"
    assert str(ev["ATTENDEE"]) == "mailto:ana@example.cl"


def test_an_invitation_without_an_attendee_is_refused(world):
    w = world.workshop(publish=True)
    with pytest.raises(ValueError):
        build_calendar(w.activity.sessions, name="x", url_for_session=lambda s: None, method="REQUEST")


def test_an_office_without_email_organizes_from_the_platform_address(world, client):
    world.host.email = None
    db.session.commit()
    w = world.workshop(publish=True)
    ev = parse(client.get(ics_path(w))).events[0]
    assert str(ev["ORGANIZER"]) == "mailto:no-responder@puentelaboral.cl"
    assert ev["ORGANIZER"].params["CN"] == "OMIL Ñuñoa"


# --- conditional requests --------------------------------------------------------------------------


def test_a_public_file_carries_etag_last_modified_and_public_caching(world, client):
    w = world.workshop(publish=True)
    resp = client.get(ics_path(w))
    assert resp.headers["ETag"].startswith('"')
    assert resp.headers["Last-Modified"].endswith("GMT")
    assert resp.headers["Cache-Control"] == "public, max-age=300"


def test_a_matching_etag_gets_304_without_a_body(world, client, monkeypatch):
    w = world.workshop(publish=True)
    etag = client.get(ics_path(w)).headers["ETag"]

    def no_build(*_a: Any, **_kw: Any) -> bytes:
        raise AssertionError("a 304 must not build the calendar")

    monkeypatch.setattr("workshops.ical_views.build_calendar", no_build)
    resp = client.get(ics_path(w), headers={"If-None-Match": etag})
    assert resp.status_code == 304
    assert resp.data == b""
    assert resp.headers["ETag"] == etag


def test_if_modified_since_the_last_change_gets_304(world, client):
    w = world.workshop(publish=True)
    last_modified = client.get(ics_path(w)).headers["Last-Modified"]
    assert client.get(ics_path(w), headers={"If-Modified-Since": last_modified}).status_code == 304
    old = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert client.get(ics_path(w), headers={"If-Modified-Since": old}).status_code == 200


def test_a_change_gives_a_new_etag_and_a_full_answer(world, client):
    w = world.workshop(publish=True)
    etag = client.get(ics_path(w)).headers["ETag"]
    services.update_session(w.activity.sessions[0], session_input(local_in(9, 16)), actor=world.host_staff)
    resp = client.get(ics_path(w), headers={"If-None-Match": etag})
    assert resp.status_code == 200
    assert resp.headers["ETag"] != etag


# --- private feeds ---------------------------------------------------------------------------------


def make_feed(user: Any, scope: str, target: Any) -> CalendarFeed:
    feed, created = feeds.create_feed(user, scope, target.id)
    assert created
    return feed


def test_a_feed_with_the_right_token_is_served_privately(world, client):
    w = world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    resp = client.get(feed_path(feed))
    cal = parse(resp)
    assert [str(e["UID"]) for e in cal.events] == [w.activity.sessions[0].uid]
    assert resp.headers["Content-Type"] == ICS
    assert resp.headers["Cache-Control"] == "private, no-cache"
    assert resp.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert str(cal["X-WR-CALNAME"]) == "Puente Laboral · Red: Red Oriente"
    assert len(feeds.feed_token(feed)) == 32


def test_a_wrong_token_is_not_found(world, client):
    world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    token = feeds.feed_token(feed)
    wrong = ("A" if token[0] != "A" else "B") + token[1:]
    assert client.get(feed_path(feed, wrong)).status_code == 404
    assert client.get(f"/calendario/{feed.id}-corto.ics").status_code == 404
    assert client.get(f"/calendario/{feed.id + 1}-{token}.ics").status_code == 404


def test_a_renewed_feed_kills_the_old_address(world, client):
    feed = make_feed(world.host_staff, "network", world.network)
    old = feed_path(feed)
    feeds.renew_feed(feed, world.host_staff)
    assert client.get(old).status_code == 404
    assert client.get(feed_path(feed)).status_code == 200
    assert audit_count("calendar_feed.renew") == 1


def test_a_revoked_feed_is_not_found(world, client):
    feed = make_feed(world.host_staff, "network", world.network)
    path = feed_path(feed)
    feeds.revoke_feed(feed, world.host_staff)
    assert client.get(path).status_code == 404
    assert audit_count("calendar_feed.revoke") == 1


def test_a_feed_whose_owner_left_is_not_found(world, client):
    feed = make_feed(world.host_staff, "network", world.network)
    path = feed_path(feed)
    world.host_staff.active = False
    db.session.commit()
    assert client.get(path).status_code == 404


def test_drafts_show_in_a_private_feed_marked_as_drafts(world, client):
    draft = world.workshop()
    published = world.workshop(publish=True, start=local_in(12), title="Taller publicado")
    feed = make_feed(world.convening_staff, "network", world.network)
    summaries = {str(e["UID"]): str(e["SUMMARY"]) for e in parse(client.get(feed_path(feed))).events}
    assert summaries[draft.activity.sessions[0].uid] == f"[Borrador] {draft.activity.title}"
    assert summaries[published.activity.sessions[0].uid] == "Taller publicado"
    urls = {str(e["UID"]): str(e["URL"]) for e in parse(client.get(feed_path(feed))).events}
    assert urls[draft.activity.sessions[0].uid] == f"http://localhost/gestion/talleres/{draft.activity.id}"
    assert client.get(ics_path(draft)).status_code == 404  # never in a public file


def test_a_feed_shows_only_the_drafts_its_owner_may_see(world, factory, client):
    north = factory.network(("13",), name="Red Norte")
    shared = factory.office("13101", name="OMIL Compartida", networks=[world.other_network, north])
    shared_staff = factory.user(office=shared)
    member = factory.user(office=factory.office("13110", name="OMIL Vecina", networks=[world.other_network]))

    def draft(title: str, network: Any) -> Any:
        return services.create_workshop(
            world.data(title=title, host_office_id=shared.id, network_ids=[network.id], convening_office_ids=[],
                       facilitator_user_ids=[]),
            services.Schedule(first=session_input(local_in(10))), actor=shared_staff, confirm_warnings=True)

    seen = draft("Borrador de la Red Sur", world.other_network)
    hidden = draft("Borrador de la Red Norte", north)
    feed = make_feed(member, "office", shared)
    uids = {str(e["UID"]) for e in parse(client.get(feed_path(feed))).events}
    assert seen.activity.sessions[0].uid in uids
    assert hidden.activity.sessions[0].uid not in uids
    owner_feed = make_feed(shared_staff, "office", shared)
    assert len(parse(client.get(feed_path(owner_feed))).events) == 2


def test_an_office_feed_has_what_the_office_hosts_and_convenes(world, client):
    hosted = world.workshop(publish=True)
    feed = make_feed(world.convening_staff, "office", world.convening)
    uids = {str(e["UID"]) for e in parse(client.get(feed_path(feed))).events}
    assert uids == {hosted.activity.sessions[0].uid}  # Peñalolén convenes it
    other = make_feed(world.other_staff, "office", world.other)
    assert parse(client.get(feed_path(other))).events == []


def test_a_facilitator_feed_has_the_workshops_they_facilitate(world, client):
    mine = world.workshop(publish=True)
    world.workshop(publish=True, start=local_in(14), title="Sin Hilda", facilitator_user_ids=[])
    feed = make_feed(world.host_staff, "facilitator", world.host_staff)
    cal = parse(client.get(feed_path(feed)))
    assert [str(e["UID"]) for e in cal.events] == [mine.activity.sessions[0].uid]
    assert str(cal["X-WR-CALNAME"]) == "Puente Laboral · Facilitación: Hilda Host"


def test_a_feed_covers_thirty_days_back_to_a_year_ahead(world, client):
    recent = world.workshop(start=local_in(-20), title="Hace veinte días")
    old = world.workshop(start=local_in(-45), title="Hace mes y medio")
    far = world.workshop(start=local_in(400), title="En más de un año")
    feed = make_feed(world.host_staff, "network", world.network)
    uids = {str(e["UID"]) for e in parse(client.get(feed_path(feed))).events}
    assert recent.activity.sessions[0].uid in uids
    assert old.activity.sessions[0].uid not in uids
    assert far.activity.sessions[0].uid not in uids


def test_an_inter_network_workshop_is_in_both_network_feeds(world, client):
    w = world.workshop(publish=True, network_ids=[world.network.id, world.other_network.id])
    feed = make_feed(world.other_staff, "network", world.other_network)
    assert [str(e["UID"]) for e in parse(client.get(feed_path(feed))).events] == [w.activity.sessions[0].uid]


def test_a_feed_answers_conditional_requests(world, client):
    w = world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    first = client.get(feed_path(feed))
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert client.get(feed_path(feed), headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get(feed_path(feed), headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    services.cancel_session(w.activity.sessions[0], "Feriado", actor=world.host_staff)
    again = client.get(feed_path(feed), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert str(Calendar.from_ical(again.data).events[0]["STATUS"]) == "CANCELLED"


def test_a_new_activity_in_scope_changes_the_feed_etag(world, client):
    world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    etag = client.get(feed_path(feed)).headers["ETag"]
    world.workshop(start=local_in(20), title="Otro borrador")
    assert client.get(feed_path(feed), headers={"If-None-Match": etag}).status_code == 200


def test_a_feed_polled_again_without_a_validator_is_served_without_loading_sessions(world, client, monkeypatch):
    world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    first = client.get(feed_path(feed))

    def must_not_load(*_a, **_kw):
        raise AssertionError("sessions loaded again for an unchanged feed")

    monkeypatch.setattr(feeds, "feed_sessions", must_not_load)
    again = client.get(feed_path(feed))
    assert again.status_code == 200 and again.data == first.data


def test_a_session_moved_after_a_poll_is_in_the_next_answer(world, client):
    w = world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    before = client.get(feed_path(feed)).data
    session = w.activity.sessions[0]
    services.update_session(session, session_input(local_in(12, 16)), actor=world.host_staff)
    after = client.get(feed_path(feed)).data
    assert after != before and b"SEQUENCE:1" in after


# --- creating and managing feeds (service) ----------------------------------------------------------


def test_creating_a_feed_is_audited_and_a_repeat_returns_the_same_feed(world):
    feed, created = feeds.create_feed(world.host_staff, "network", world.network.id)
    again, created_again = feeds.create_feed(world.host_staff, "network", world.network.id)
    assert created and not created_again and again.id == feed.id
    assert count(CalendarFeed) == 1
    assert audit_count("calendar_feed.create") == 1


@pytest.mark.parametrize(("scope", "status"), [("network", 403), ("office", 403), ("facilitator", 403)])
def test_a_feed_for_a_scope_the_user_may_not_see_is_refused(world, scope, status):
    target = {"network": world.network, "office": world.host, "facilitator": world.host_staff}[scope]
    with pytest.raises(services.ActivityError) as err:
        feeds.create_feed(world.other_staff, scope, target.id)
    assert err.value.status == status
    assert count(CalendarFeed) == 0


def test_a_coordinator_may_follow_a_facilitator_of_their_network_but_a_colleague_may_not(world):
    feed, _created = feeds.create_feed(world.host_staff, "facilitator", world.convening_staff.id)
    assert feed.scope_id == world.convening_staff.id
    with pytest.raises(services.ActivityError) as err:
        feeds.create_feed(world.convening_staff, "facilitator", world.host_staff.id)
    assert err.value.status == 403


def test_renewing_or_revoking_someone_elses_feed_is_not_found(world):
    feed = make_feed(world.host_staff, "network", world.network)
    for action in (feeds.renew_feed, feeds.revoke_feed):
        with pytest.raises(services.ActivityError) as err:
            action(feed, world.convening_staff)
        assert err.value.status == 404
    assert feed.revoked_at is None


# --- the subscriptions page ----------------------------------------------------------------------------


def _csrf(client: Any) -> str:
    return csrf_from(client.get(FEEDS_PAGE).get_data(as_text=True))


def test_the_page_needs_a_login(client):
    resp = client.get(FEEDS_PAGE)
    assert resp.status_code == 302
    assert "/cuenta/ingresar" in resp.headers["Location"]


def test_the_page_offers_only_what_the_user_may_see(world, client):
    login(client, world.other_staff.email)
    html = client.get(FEEDS_PAGE).get_data(as_text=True)
    assert "Red Sur" in html
    assert "Red Oriente" not in html
    assert "OMIL La Florida" in html and "OMIL Ñuñoa" not in html
    assert "Otto Otra (usted)" in html


def test_the_page_can_preselect_a_calendar(world, client):
    login(client, world.host_staff.email)
    html = client.get(f"{FEEDS_PAGE}?scope=network&network_id={world.network.id}").get_data(as_text=True)
    assert '<input checked id="scope-0" name="scope" type="radio" value="network">' in html
    assert f'<option selected value="{world.network.id}">Red Oriente</option>' in html


def test_creating_a_feed_on_the_page_shows_its_address_and_webcal_link(world, client):
    login(client, world.host_staff.email)
    resp = client.post(FEEDS_PAGE, data={"csrf_token": _csrf(client), "scope": "network",
                                         "network_id": str(world.network.id)})
    assert resp.status_code == 302
    feed = db.session.scalar(select(CalendarFeed))
    assert feed is not None and feed.user_id == world.host_staff.id and feed.scope == "network"
    html = client.get(FEEDS_PAGE).get_data(as_text=True)
    url = f"http://localhost/calendario/{feed.id}-{feeds.feed_token(feed)}.ics"
    assert url in html
    assert url.replace("http://", "webcal://") in html
    assert "Red: Red Oriente" in html


def test_renew_and_revoke_buttons_work(world, client):
    login(client, world.host_staff.email)
    feed = make_feed(world.host_staff, "office", world.host)
    old = feed_path(feed)
    resp = client.post(f"{FEEDS_PAGE}/{feed.id}/renovar", data={"csrf_token": _csrf(client)})
    assert resp.status_code == 302
    db.session.refresh(feed)
    assert client.get(old).status_code == 404
    new = feed_path(feed)
    assert client.get(new).status_code == 200
    resp = client.post(f"{FEEDS_PAGE}/{feed.id}/revocar", data={"csrf_token": _csrf(client)})
    assert resp.status_code == 302
    assert client.get(new).status_code == 404
    assert feed.id not in [f.id for f in feeds.user_feeds(world.host_staff)]


def test_a_scope_the_user_may_not_see_is_forbidden_on_the_page(world, client):
    login(client, world.other_staff.email)
    resp = client.post(FEEDS_PAGE, data={"csrf_token": _csrf(client), "scope": "network",
                                         "network_id": str(world.network.id)})
    assert resp.status_code == 403
    assert "No tiene permiso para suscribirse a ese calendario." in resp.get_data(as_text=True)
    assert count(CalendarFeed) == 0
    assert audit_count("calendar_feed.create") == 0


@pytest.mark.parametrize(("data", "status", "message"), [
    ({}, 400, "Elija qué calendario quiere"),
    ({"scope": "galaxia", "network_id": "1"}, 400, "Elija qué calendario quiere"),
    ({"scope": "network"}, 400, "Elija la red."),
    ({"scope": "office", "office_id": "abc"}, 400, "Elija una opción de la lista."),
    ({"scope": "network", "network_id": "999999"}, 404, "No encontramos ese calendario."),
    ({"scope": "facilitator", "facilitator_id": "999999"}, 404, "No encontramos ese calendario."),
])
def test_missing_or_malformed_input_gets_a_spanish_message_and_writes_nothing(world, client, data, status,
                                                                              message):
    login(client, world.host_staff.email)
    resp = client.post(FEEDS_PAGE, data={"csrf_token": _csrf(client), **data})
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert count(CalendarFeed) == 0


def test_a_post_without_csrf_token_writes_nothing(world, client):
    login(client, world.host_staff.email)
    resp = client.post(FEEDS_PAGE, data={"scope": "network", "network_id": str(world.network.id)})
    assert resp.status_code in (400, 403)
    assert count(CalendarFeed) == 0


def test_renewing_an_unknown_feed_is_not_found(world, client):
    login(client, world.host_staff.email)
    assert client.post(f"{FEEDS_PAGE}/999999/renovar", data={"csrf_token": _csrf(client)}).status_code == 404


def test_dtstamp_is_the_last_change_so_the_same_data_gives_the_same_bytes(world, client):
    w = world.workshop(publish=True)
    first = client.get(ics_path(w)).data
    assert client.get(ics_path(w)).data == first
    ev = Calendar.from_ical(first).events[0]
    assert ev.decoded("DTSTAMP") <= datetime.now(UTC) + timedelta(seconds=1)


def test_renaming_the_host_office_refreshes_the_file(world, client):
    w = world.workshop(publish=True)
    etag = client.get(ics_path(w)).headers["ETag"]
    world.host.name = "OMIL Ñuñoa Centro"
    db.session.commit()
    resp = client.get(ics_path(w), headers={"If-None-Match": etag})
    assert resp.status_code == 200
    assert Calendar.from_ical(resp.data).events[0]["ORGANIZER"].params["CN"] == "OMIL Ñuñoa Centro"


def test_offering_accessibility_later_refreshes_the_file(world, client):
    w = world.workshop(publish=True)
    etag = client.get(ics_path(w)).headers["ETag"]
    services.update_workshop(w, world.data(offers_subtitles=True), actor=world.host_staff)
    resp = client.get(ics_path(w), headers={"If-None-Match": etag})
    assert resp.status_code == 200
    assert "Accesibilidad: subtítulos." in str(Calendar.from_ical(resp.data).events[0]["DESCRIPTION"])


def test_a_feed_asks_calendar_programs_to_refresh_hourly_and_links_staff_to_the_staff_page(world, client):
    w = world.workshop(publish=True)
    feed = make_feed(world.host_staff, "network", world.network)
    body = client.get(feed_path(feed)).data
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in body
    ev = Calendar.from_ical(body).events[0]
    staff_page = f"http://localhost/gestion/talleres/{w.activity.id}"
    assert str(ev["URL"]) == staff_page
    assert f"Ficha en Puente Laboral: {staff_page}" in str(ev["DESCRIPTION"])
    assert b"zoom.us" not in body


def test_ids_too_large_for_the_database_are_not_found(world, client):
    assert client.get("/calendario/99999999999-abcdefghijklmnopqrstuvwxyz012345.ics").status_code == 404
    w = world.workshop(publish=True)
    assert client.get(f"/talleres/{w.activity.slug}/sesiones/99999999999.ics").status_code == 404
    login(client, world.host_staff.email)
    resp = client.post(FEEDS_PAGE, data={"csrf_token": _csrf(client), "scope": "network",
                                         "network_id": "99999999999"})
    assert resp.status_code == 400
    assert count(CalendarFeed) == 0
    with pytest.raises(services.ActivityError) as err:
        feeds.create_feed(world.host_staff, "office", 2**40)
    assert err.value.status == 404
