"""Staff workshop pages under /gestion/talleres: list, create, the staff page, edit, sessions,
publish and cancel, notes, materials, the topic catalogue; bad input and permissions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.policy import can, visible_activities
from app.activities import services as core
from app.activities.models import (
    Activity,
    ActivityChange,
    ActivityKind,
    ActivitySeries,
    ActivitySession,
    ActivityStatus,
    Modality,
    SessionStatus,
)
from app.extensions import db
from app.files_models import StoredFile
from app.outbox.models import OutboxMessage
from tests.conftest import count, get_csrf, login
from tests.storage.samples import PDF
from tests.workshops.conftest import WorkshopWorld, local_in, topic
from workshops.models import Material, StaffNote, Topic, Workshop

BASE = "/gestion/talleres"


@pytest.fixture
def post(client: Any) -> Any:
    def _post(url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return client.post(url, data={**(data or {}), "csrf_token": get_csrf(client, "/gestion/")}, **kw)

    return _post


@pytest.fixture
def as_user(client: Any) -> Any:
    """Log an existing user in (the world's staff)."""

    def _as(user: Any) -> Any:
        assert login(client, user.email).status_code == 302
        return user

    return _as


def _text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def _form(world: WorkshopWorld, **overrides: Any) -> dict[str, Any]:
    """A valid "Nuevo taller" submission: one remote session a week from now."""
    day = local_in(7)
    data: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo",
        "topic_id": str(topic().id),
        "description": "Practicamos preguntas frecuentes.",
        "audience": "Personas que buscan empleo",
        "language": "es",
        "host_office_id": str(world.host.id),
        "network_ids": [str(world.network.id)],
        "convening_office_ids": [str(world.convening.id)],
        "facilitator_user_ids": [str(world.host_staff.id)],
        "guest_facilitators": "Paula Invitada\n",
        "offers_sign_language": "y",
        "date": f"{day:%Y-%m-%d}",
        "start_time": "10:00",
        "end_time": "12:00",
        "modality": "remote",
        "capacity": "80",
        "venue_name": "",
        "address": "",
        "comuna_code": "",
        "join_url": "https://us02web.zoom.us/j/123456789",
        "count": "1",
    }
    data.update(overrides)
    return data


def _only_workshop() -> Workshop:
    workshop = db.session.scalar(select(Workshop))
    assert workshop is not None
    return workshop


# --- the list and the scoped query ------------------------------------------------------------


def test_gestion_home_links_to_the_workshops(client, logged_in):
    logged_in()
    assert f'href="{BASE}/"' in _text(client.get("/gestion/"))


def test_visible_activities_agrees_with_the_view_rule(world, factory):
    mine = world.workshop()
    convened_elsewhere = world.workshop(title="Taller de otra red", start=local_in(9), host_office_id=world.other.id,
                                        network_ids=[world.other_network.id], convening_office_ids=[world.convening.id],
                                        facilitator_user_ids=[], actor=world.other_staff)
    valpo = factory.office("05101", name="OMIL Valparaíso")
    valpo_net = factory.network(("05",), offices=[valpo], coordinator=valpo)
    valpo_staff = factory.user(office=valpo)
    far = world.workshop(title="Taller en Valparaíso", start=local_in(11), host_office_id=valpo.id,
                         network_ids=[valpo_net.id], convening_office_ids=[], facilitator_user_ids=[],
                         actor=valpo_staff)
    national = factory.user("sence_national")
    everyone = [world.host_staff, world.convening_staff, world.other_staff, world.sence_rm, valpo_staff, national]
    activities = [mine.activity, convened_elsewhere.activity, far.activity]
    for user in everyone:
        seen = {a.id for a in db.session.scalars(visible_activities(user, kind=ActivityKind.WORKSHOP))}
        assert seen == {a.id for a in activities if can(user, "activity.view", a)}, user.name
    assert {a.id for a in db.session.scalars(visible_activities(world.sence_rm))} == {
        mine.activity_id, convened_elsewhere.activity_id}


def test_the_list_shows_only_workshops_the_user_may_see(client, world, as_user):
    world.workshop()
    world.workshop(title="Taller de la Red Sur", start=local_in(9), host_office_id=world.other.id,
                   network_ids=[world.other_network.id], convening_office_ids=[], facilitator_user_ids=[],
                   actor=world.other_staff)
    as_user(world.convening_staff)
    body = _text(client.get(f"{BASE}/"))
    assert "Cómo enfrentar una entrevista de trabajo" in body
    assert "Taller de la Red Sur" not in body
    assert "Nuevo taller" in body


def test_sence_regional_sees_the_list_without_a_new_button(client, world, as_user):
    world.workshop()
    as_user(world.sence_rm)
    resp = client.get(f"{BASE}/")
    assert resp.status_code == 200
    assert "Cómo enfrentar una entrevista de trabajo" in _text(resp)
    assert "Nuevo taller" not in _text(resp)


def test_the_list_filters_by_status_and_topic(client, world, as_user):
    world.workshop(publish=True)
    world.workshop(title="Currículum que se lee", start=local_in(9), topic_id=topic("elaboracion-de-curriculum").id)
    as_user(world.host_staff)
    body = _text(client.get(f"{BASE}/?status=published"))
    assert "Cómo enfrentar" in body and "Currículum que se lee" not in body
    body = _text(client.get(f"{BASE}/?topic={topic('elaboracion-de-curriculum').id}"))
    assert "Cómo enfrentar" not in body and "Currículum que se lee" in body


def test_an_unknown_status_filter_is_explained(client, world, as_user):
    as_user(world.host_staff)
    resp = client.get(f"{BASE}/?status=perdido")
    assert resp.status_code == 400
    assert "Elija un estado de la lista." in _text(resp)


def test_the_list_is_paginated_newest_first(client, world, as_user):
    for n in range(26):
        world.workshop(title=f"Taller número {n:02d}", start=local_in(30 + n), facilitator_user_ids=[])
    as_user(world.host_staff)
    first = _text(client.get(f"{BASE}/"))
    assert "Taller número 25" in first and "Taller número 01" in first
    assert "Taller número 00" not in first
    assert "Página 1 de 2" in first
    assert "Taller número 00" in _text(client.get(f"{BASE}/?page=2"))


# --- create -----------------------------------------------------------------------------------


def test_the_new_page_preselects_the_users_office_and_its_networks(client, world, as_user):
    as_user(world.host_staff)
    resp = client.get(f"{BASE}/nuevo")
    assert resp.status_code == 200
    body = _text(resp)
    assert f'<option selected value="{world.host.id}">' in body
    assert f'value="{world.network.id}" checked' in body
    assert "Hora de Chile continental (Santiago)" in body
    assert '<optgroup label="Metropolitana de Santiago">' in body
    assert 'type="date"' in body and 'type="time"' in body
    assert "Hilda Host" in body


def test_the_new_page_is_forbidden_to_sence_regional(client, world, as_user):
    as_user(world.sence_rm)
    assert client.get(f"{BASE}/nuevo").status_code == 403


def test_creating_a_single_session_workshop(client, world, as_user, post):
    as_user(world.host_staff)
    resp = post(f"{BASE}/nuevo", _form(world))
    assert resp.status_code == 302, _text(resp)[:2000]
    workshop = _only_workshop()
    assert resp.headers["Location"].endswith(f"{BASE}/{workshop.activity_id}")
    activity = workshop.activity
    assert activity.status == ActivityStatus.DRAFT
    assert [o.name for o in activity.convening_offices] == ["OMIL Peñalolén"]
    assert sorted(f.display_name for f in workshop.facilitators) == ["Hilda Host", "Paula Invitada"]
    assert workshop.offers_sign_language and not workshop.offers_subtitles
    [session] = activity.sessions
    assert session.local_start.hour == 10 and session.timezone == "America/Santiago"
    assert session.capacity == 80 and session.series_id is None
    page = _text(client.get(resp.headers["Location"]))
    assert "Se creó el taller «Cómo enfrentar una entrevista de trabajo» en borrador" in page
    assert "Borrador" in page and "Hora de Chile continental (Santiago)" in page


def test_creating_a_weekly_series_of_four(client, world, as_user, post):
    as_user(world.host_staff)
    resp = post(f"{BASE}/nuevo", _form(world, count="4"))
    assert resp.status_code == 302, _text(resp)[:2000]
    sessions = _only_workshop().activity.sessions
    assert len(sessions) == 4 and count(ActivitySeries) == 1
    starts = [s.local_start for s in sessions]
    assert {b - a for a, b in zip(starts, starts[1:], strict=False)} == {timedelta(days=7)}
    assert {s.local_start.hour for s in sessions} == {10}


def test_a_workshop_hosted_in_punta_arenas_uses_its_time_zone(client, factory, post, as_user, world):
    punta = factory.office("12101", name="OMIL Punta Arenas")
    staff = factory.user(office=punta)
    as_user(staff)
    assert "Hora de Punta Arenas (Magallanes)" in _text(client.get(f"{BASE}/nuevo"))
    resp = post(f"{BASE}/nuevo", _form(world, host_office_id=str(punta.id), network_ids=[], convening_office_ids=[],
                                       facilitator_user_ids=[str(staff.id)]))
    assert resp.status_code == 302, _text(resp)[:2000]
    [session] = _only_workshop().activity.sessions
    assert session.timezone == "America/Punta_Arenas"
    assert session.starts_at.hour == 13  # 10:00 at UTC-3, all year


def test_an_in_person_session_with_a_known_comuna(client, world, as_user, post):
    as_user(world.host_staff)
    resp = post(f"{BASE}/nuevo", _form(world, modality="in_person", venue_name="Sala OMIL",
                                       address="Av. Irarrázaval 3550", comuna_code="13120", join_url=""))
    assert resp.status_code == 302, _text(resp)[:2000]
    [session] = _only_workshop().activity.sessions
    assert session.modality == Modality.IN_PERSON and session.comuna_code == "13120"


BAD_INPUT = [
    pytest.param({"end_time": "09:00"}, "El término debe ser después del inicio.", "09:00", id="end-before-start"),
    pytest.param({"date": "31-02-2027"}, "La fecha no es válida", "31-02-2027", id="not-a-date"),
    pytest.param({"date": "mañana"}, "La fecha no es válida", "mañana", id="words-for-a-date"),
    pytest.param({"start_time": "25:99"}, "La hora de inicio no es válida", "25:99", id="not-a-time"),
    pytest.param({"capacity": "0"}, "El cupo debe ser un número mayor que cero.", 'value="0"', id="capacity-0"),
    pytest.param({"capacity": "-5"}, "El cupo debe ser un número mayor que cero.", 'value="-5"',
                 id="capacity-negative"),
    pytest.param({"capacity": "muchos"}, "Escriba el cupo como un número entero", 'value="muchos"',
                 id="capacity-not-a-number"),
    pytest.param({"capacity": "1000000000"}, "El cupo no puede superar", 'value="1000000000"', id="capacity-1e9"),
    pytest.param({"modality": "in_person", "venue_name": "Sala OMIL", "address": "Calle 1", "comuna_code": "99999",
                  "join_url": ""}, "Elija una comuna de la lista.", "Sala OMIL", id="unknown-comuna"),
    pytest.param({"join_url": "http://zoom.us/j/1"}, "debe ser una dirección https://", "http://zoom.us/j/1",
                 id="http-link"),
    pytest.param({"topic_id": "999999"}, "Elija un tema de la lista.", "Cómo enfrentar", id="unknown-topic"),
    pytest.param({"topic_id": "abc"}, "Elija un tema de la lista.", "Cómo enfrentar", id="topic-not-a-number"),
    pytest.param({"host_office_id": "999999"}, "Elija la oficina que dicta el taller.", "Cómo enfrentar",
                 id="unknown-host-office"),
    pytest.param({"convening_office_ids": ["999999"]}, "Una de las oficinas convocantes no existe.", "Cómo enfrentar",
                 id="unknown-convening-office"),
    pytest.param({"title": "x" * 10_000}, "El título no puede superar 200 caracteres.", "x" * 10_000,
                 id="title-10000"),
    pytest.param({"title": "   "}, "Escriba un título.", "Practicamos preguntas frecuentes.", id="missing-title"),
    pytest.param({"count": "60"}, "Escriba un número de semanas entre 1 y 52.", 'value="60"', id="series-too-long"),
    pytest.param({"modality": "teletransporte"}, "Elija si la sesión es remota, presencial o híbrida.",
                 "Cómo enfrentar", id="unknown-modality"),
]


@pytest.mark.parametrize(("overrides", "message", "kept"), BAD_INPUT)
def test_bad_input_is_explained_kept_and_nothing_is_written(client, world, as_user, post, overrides, message, kept):
    as_user(world.host_staff)
    resp = post(f"{BASE}/nuevo", _form(world, **overrides))
    assert 400 <= resp.status_code < 500
    body = _text(resp)
    assert message in body
    assert kept in body
    assert 'class="error-summary"' in body
    assert count(Activity) == 0 and count(ActivitySession) == 0 and count(Workshop) == 0


def test_a_facilitator_from_an_office_outside_the_workshop_is_refused(client, world, as_user, post):
    as_user(world.host_staff)
    resp = post(f"{BASE}/nuevo", _form(world, facilitator_user_ids=[str(world.other_staff.id)]))
    assert resp.status_code == 400
    body = _text(resp)
    assert "Otto Otra no pertenece a la oficina que dicta ni a una convocante" in body
    assert f'value="{world.other_staff.id}" checked' in body
    assert count(Activity) == 0


def test_a_host_office_the_user_may_not_use_is_forbidden(client, world, as_user, post):
    as_user(world.convening_staff)
    resp = post(f"{BASE}/nuevo", _form(world, facilitator_user_ids=[]))
    assert resp.status_code == 403
    assert "No tiene permiso para hacer esto." in _text(resp)
    assert count(Activity) == 0


def test_a_post_without_csrf_token_is_refused(client, world, as_user):
    as_user(world.host_staff)
    resp = client.post(f"{BASE}/nuevo", data=_form(world))
    assert resp.status_code == 400
    assert count(Activity) == 0


def test_updating_the_lists_saves_nothing(client, world, as_user, post):
    as_user(world.host_staff)
    resp = post(f"{BASE}/nuevo", _form(world, refresh="1", facilitator_user_ids=[]))
    assert resp.status_code == 200
    assert "Carla Convoca" in _text(resp)  # staff of the ticked convening office are offered
    assert count(Activity) == 0


# --- conflicts --------------------------------------------------------------------------------


def test_a_facilitator_double_booking_needs_the_checkbox(client, world, as_user, post):
    world.workshop(title="Taller ya planificado")
    as_user(world.host_staff)
    data = _form(world, title="Otro taller", topic_id=str(topic("habilidades-blandas").id))
    first = post(f"{BASE}/nuevo", data)
    assert first.status_code == 409
    body = _text(first)
    assert "Hilda Host ya facilita «Taller ya planificado»" in body
    assert 'name="confirm_warnings" value="1"' in body
    assert 'name="confirm_facilitator"' in body and "Guardar de todos modos" in body
    assert 'value="Otro taller"' in body
    assert count(Activity) == 1

    second = post(f"{BASE}/nuevo", {**data, "confirm_warnings": "1"})
    assert second.status_code == 409
    assert "Marque la casilla para confirmar" in _text(second)
    assert count(Activity) == 1

    third = post(f"{BASE}/nuevo", {**data, "confirm_warnings": "1", "confirm_facilitator": "y"})
    assert third.status_code == 302
    assert count(Activity) == 2


def test_a_venue_clash_only_needs_the_second_click(client, world, as_user, post):
    world.workshop(title="Taller en la sala", facilitator_user_ids=[], session={"modality": Modality.IN_PERSON})
    as_user(world.host_staff)
    data = _form(world, title="Currículum en la sala", topic_id=str(topic("elaboracion-de-curriculum").id),
                 facilitator_user_ids=[], modality="in_person", venue_name="Sala de capacitación OMIL",
                 address="Av. Irarrázaval 3550", comuna_code="13120", join_url="")
    first = post(f"{BASE}/nuevo", data)
    assert first.status_code == 409
    body = _text(first)
    assert "ya está ocupado por «Taller en la sala»" in body
    assert 'name="confirm_facilitator"' not in body
    assert count(Activity) == 1
    second = post(f"{BASE}/nuevo", {**data, "confirm_warnings": "1"})
    assert second.status_code == 302
    assert count(Activity) == 2


# --- the staff page ---------------------------------------------------------------------------


def test_the_staff_page_shows_the_workshop(client, world, as_user):
    w = world.workshop(count=2)
    as_user(world.host_staff)
    resp = client.get(f"{BASE}/{w.activity_id}")
    assert resp.status_code == 200
    body = _text(resp)
    for expected in ("Cómo enfrentar una entrevista de trabajo", "Red Oriente", "OMIL Ñuñoa", "OMIL Peñalolén",
                     "Hilda Host", "Borrador", "Publicar", "Agregar sesiones", "Cancelar taller",
                     'th scope="col"', "Hora de Chile continental (Santiago)"):
        assert expected in body, expected
    first = w.activity.sessions[0]
    assert f"{BASE}/{w.activity_id}/sesiones/{first.id}/editar" in body
    assert "/talleres/" + w.activity.slug not in body  # not public yet


def test_sence_regional_reads_the_staff_page_but_cannot_act(client, world, as_user, post):
    w = world.workshop()
    as_user(world.sence_rm)
    resp = client.get(f"{BASE}/{w.activity_id}")
    assert resp.status_code == 200
    assert "Publicar" not in _text(resp) and "Agregar nota" not in _text(resp)
    assert post(f"{BASE}/{w.activity_id}/editar", _form(world, title="Cambiado")).status_code == 403
    assert post(f"{BASE}/{w.activity_id}/publicar").status_code == 403
    assert post(f"{BASE}/{w.activity_id}/notas", {"note-text": "hola"}).status_code == 403
    db.session.expire_all()
    assert w.activity.title == "Cómo enfrentar una entrevista de trabajo"
    assert w.activity.status == ActivityStatus.DRAFT and count(StaffNote) == 0


def test_staff_of_another_network_may_not_see_or_edit(client, world, as_user, post):
    w = world.workshop()
    session = w.activity.sessions[0]
    as_user(world.other_staff)
    assert client.get(f"{BASE}/{w.activity_id}").status_code == 403
    assert client.get(f"{BASE}/{w.activity_id}/editar").status_code == 403
    assert post(f"{BASE}/{w.activity_id}/editar", _form(world, title="Cambiado")).status_code == 403
    assert post(f"{BASE}/{w.activity_id}/sesiones/{session.id}/editar", _form(world)).status_code == 403
    assert post(f"{BASE}/{w.activity_id}/cancelar", {"cancel-reason": "no"}).status_code == 403
    db.session.expire_all()
    assert w.activity.title == "Cómo enfrentar una entrevista de trabajo"
    assert w.activity.status == ActivityStatus.DRAFT


def test_unknown_ids_and_fairs_are_not_found(client, world, as_user):
    w = world.workshop()
    fair = core.new_activity(kind=ActivityKind.FAIR, title="Feria laboral", description="", host_office=world.host,
                             networks=[world.network], convening_offices=[], created_by=world.host_staff)
    db.session.commit()
    as_user(world.host_staff)
    assert client.get(f"{BASE}/999999").status_code == 404
    assert client.get(f"{BASE}/{fair.id}").status_code == 404
    assert client.get(f"{BASE}/{w.activity_id}/sesiones/999999/editar").status_code == 404


# --- edit -------------------------------------------------------------------------------------


def test_editing_the_details(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}/editar"))
    assert 'value="Cómo enfrentar una entrevista de trabajo"' in page
    assert 'name="host_office_id"' in page  # the coordinator may move the host
    resp = post(f"{BASE}/{w.activity_id}/editar", _form(world, title="Entrevistas sin miedo",
                                                         offers_subtitles="y", guest_facilitators=""))
    assert resp.status_code == 302, _text(resp)[:2000]
    db.session.expire_all()
    assert w.activity.title == "Entrevistas sin miedo" and w.offers_subtitles
    assert [f.display_name for f in w.facilitators] == ["Hilda Host"]
    assert count(ActivitySession) == 1


def test_the_host_office_is_not_offered_to_staff_who_may_not_assign_it(client, world, as_user, post):
    w = world.workshop(host_office_id=world.convening.id, facilitator_user_ids=[world.convening_staff.id],
                       convening_office_ids=[], actor=world.convening_staff)
    as_user(world.convening_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}/editar"))
    assert 'name="host_office_id"' not in page
    assert "solo la coordinación de la red puede cambiarla" in page
    resp = post(f"{BASE}/{w.activity_id}/editar", _form(world, host_office_id=str(world.host.id),
                                                         convening_office_ids=[],
                                                         facilitator_user_ids=[str(world.convening_staff.id)]))
    assert resp.status_code == 302
    db.session.expire_all()
    assert w.activity.host_office_id == world.convening.id


def test_an_edit_with_a_missing_title_keeps_what_was_typed(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/editar", _form(world, title="", audience="Jóvenes de 18 a 29 años"))
    assert resp.status_code == 400
    assert "Escriba un título." in _text(resp) and "Jóvenes de 18 a 29 años" in _text(resp)
    db.session.expire_all()
    assert w.activity.title == "Cómo enfrentar una entrevista de trabajo"


# --- sessions ---------------------------------------------------------------------------------


def _session_form(start: Any, **overrides: Any) -> dict[str, Any]:
    data = {"date": f"{start:%Y-%m-%d}", "start_time": f"{start:%H:%M}", "end_time": "18:00", "modality": "remote",
            "capacity": "60", "join_url": "https://meet.google.com/abc-defg-hij", "venue_name": "", "address": "",
            "comuna_code": ""}
    data.update(overrides)
    return data


def test_adding_a_weekly_series_to_a_workshop(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}/sesiones/nueva"))
    assert 'name="count"' in page and "Hora de Chile continental (Santiago)" in page
    resp = post(f"{BASE}/{w.activity_id}/sesiones/nueva", {**_session_form(local_in(20, 15)), "count": "3"})
    assert resp.status_code == 302, _text(resp)[:2000]
    assert count(ActivitySession) == 4 and count(ActivitySeries) == 1


def test_adding_a_session_that_ends_before_it_starts_is_refused(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/sesiones/nueva", {**_session_form(local_in(20, 15), end_time="14:00"),
                                                            "count": "1"})
    assert resp.status_code == 400
    assert "El término debe ser después del inicio." in _text(resp)
    assert count(ActivitySession) == 1


def test_editing_one_session_of_a_series(client, world, as_user, post):
    w = world.workshop(count=3)
    second = w.activity.sessions[1]
    as_user(world.host_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}/sesiones/{second.id}/editar"))
    assert "Solo esta sesión" in page and "Esta y todas las siguientes de la serie" in page
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{second.id}/editar",
                {**_session_form(second.local_start.replace(hour=16)), "scope": "one"})
    assert resp.status_code == 302, _text(resp)[:2000]
    db.session.expire_all()
    assert [s.local_start.hour for s in w.activity.sessions] == [10, 16, 10]


def test_editing_this_and_the_following_sessions_of_a_series(client, world, as_user, post):
    w = world.workshop(count=4)
    second = w.activity.sessions[1]
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{second.id}/editar",
                {**_session_form(second.local_start.replace(hour=16)), "scope": "series"})
    assert resp.status_code == 302, _text(resp)[:2000]
    db.session.expire_all()
    assert [s.local_start.hour for s in w.activity.sessions] == [10, 16, 16, 16]
    assert {s.capacity for s in w.activity.sessions[1:]} == {60}


def test_editing_the_whole_series_from_its_first_session(client, world, as_user, post):
    w = world.workshop(count=3)
    first = w.activity.sessions[0]
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{first.id}/editar",
                {**_session_form(first.local_start.replace(hour=16)), "scope": "series"})
    assert resp.status_code == 302, _text(resp)[:2000]
    db.session.expire_all()
    assert {s.local_start.hour for s in w.activity.sessions} == {16}
    dates = [s.local_start.date() for s in w.activity.sessions]
    assert {b - a for a, b in zip(dates, dates[1:], strict=False)} == {timedelta(days=7)}


def test_moving_a_published_session_warns_and_tells_the_people_affected(client, world, as_user, post):
    w = world.workshop(publish=True)
    session = w.activity.sessions[0]
    as_user(world.host_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}/sesiones/{session.id}/editar"))
    assert "se avisa a las personas afectadas" in page
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{session.id}/editar",
                _session_form(session.local_start.replace(hour=15), join_url=session.join_url))
    assert resp.status_code == 302
    assert [c.kind for c in db.session.scalars(select(ActivityChange))] == ["time"]
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "session_change")) is not None


def test_an_edited_session_with_a_bad_time_keeps_what_was_typed(client, world, as_user, post):
    w = world.workshop()
    session = w.activity.sessions[0]
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{session.id}/editar",
                _session_form(session.local_start, start_time="7 de la tarde"))
    assert resp.status_code == 400
    assert "La hora de inicio no es válida" in _text(resp) and 'value="7 de la tarde"' in _text(resp)
    db.session.expire_all()
    assert session.local_start.hour == 10


def test_cancelling_a_session_needs_a_reason(client, world, as_user, post):
    w = world.workshop(count=2, publish=True)
    first = w.activity.sessions[0]
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{first.id}/cancelar", {"cancel-reason": " "})
    assert resp.status_code == 400
    assert "Escriba el motivo de la cancelación" in _text(resp)
    resp = post(f"{BASE}/{w.activity_id}/sesiones/{first.id}/cancelar", {"cancel-reason": "Corte de luz"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert [s.status for s in w.activity.sessions] == [SessionStatus.CANCELLED, SessionStatus.SCHEDULED]
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "session_change")) is not None


# --- publish, done, cancel --------------------------------------------------------------------


def test_publishing_makes_the_public_link_appear(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/publicar")
    assert resp.status_code == 302
    db.session.expire_all()
    assert w.activity.status == ActivityStatus.PUBLISHED
    body = _text(client.get(f"{BASE}/{w.activity_id}"))
    assert f'href="/talleres/{w.activity.slug}"' in body
    assert "Marcar como realizado" in body


def test_publishing_with_a_past_session_is_refused_with_a_message(client, world, as_user, post):
    w = world.workshop(start=local_in(-3))
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/publicar")
    assert resp.status_code == 409
    assert "No se puede publicar: la sesión del" in _text(resp)
    db.session.expire_all()
    assert w.activity.status == ActivityStatus.DRAFT


def test_marking_as_done_before_the_last_session_is_refused(client, world, as_user, post):
    w = world.workshop(publish=True)
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/realizado")
    assert resp.status_code == 409
    assert "La actividad aún tiene sesiones por realizar." in _text(resp)


def test_cancelling_a_workshop_needs_a_reason(client, world, as_user, post):
    w = world.workshop(publish=True)
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/cancelar", {"cancel-reason": ""})
    assert resp.status_code == 400
    assert "Escriba el motivo de la cancelación" in _text(resp)
    db.session.expire_all()
    assert w.activity.status == ActivityStatus.PUBLISHED and count(ActivityChange) == 0


def test_cancelling_a_published_workshop(client, world, as_user, post):
    w = world.workshop(count=2, publish=True)
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/cancelar", {"cancel-reason": "Falla en el edificio"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert w.activity.status == ActivityStatus.CANCELLED
    assert count(ActivityChange) == 2
    body = _text(client.get(f"{BASE}/{w.activity_id}"))
    assert "Falla en el edificio" in body and "Publicar" not in body


# --- notes and materials ----------------------------------------------------------------------


def test_convening_staff_add_a_note(client, world, as_user, post):
    w = world.workshop()
    as_user(world.convening_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}"))
    assert "Agregar nota" in page and "Subir material" not in page
    resp = post(f"{BASE}/{w.activity_id}/notas", {"note-text": "Llevaremos 10 personas"})
    assert resp.status_code == 302
    assert "Llevaremos 10 personas" in _text(client.get(f"{BASE}/{w.activity_id}"))


def test_an_empty_note_is_explained(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/notas", {"note-text": "  "})
    assert resp.status_code == 400
    assert "Escriba la nota." in _text(resp)
    assert count(StaffNote) == 0


def test_uploading_a_material_and_downloading_it(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/materiales",
                {"material-title": "Presentación", "material-file": (_bytes(PDF), "presentacion.pdf")},
                content_type="multipart/form-data")
    assert resp.status_code == 302, _text(resp)[:2000]
    assert count(Material) == 1
    page = _text(client.get(f"{BASE}/{w.activity_id}"))
    link = re.search(r'href="(/archivos/[^"]+)">Presentación</a>', page)
    assert link, page
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.data == PDF


def test_a_pdf_that_is_random_bytes_is_refused(client, world, as_user, post):
    import os

    w = world.workshop()
    as_user(world.host_staff)
    resp = post(f"{BASE}/{w.activity_id}/materiales",
                {"material-title": "Falso", "material-file": (_bytes(os.urandom(2048)), "guia.pdf")},
                content_type="multipart/form-data")
    assert resp.status_code == 415
    assert "No reconocemos el tipo de «guia.pdf»" in _text(resp)
    assert 'value="Falso"' in _text(resp)
    assert count(Material) == 0 and count(StoredFile) == 0


def test_removing_a_material(client, world, as_user, post):
    w = world.workshop()
    as_user(world.host_staff)
    post(f"{BASE}/{w.activity_id}/materiales", {"material-file": (_bytes(PDF), "guia.pdf")},
         content_type="multipart/form-data")
    material = db.session.scalar(select(Material))
    assert material is not None and material.title == "guia.pdf"
    resp = post(f"{BASE}/{w.activity_id}/materiales/{material.id}/eliminar")
    assert resp.status_code == 302
    assert count(Material) == 0


def _bytes(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


# --- topics -----------------------------------------------------------------------------------


@pytest.fixture
def retire() -> Iterator[Any]:
    """Take a topic out of the catalogue; topics are reference data, so it is put back after."""
    retired: list[Topic] = []

    def _retire(t: Topic) -> Topic:
        t.active = False
        db.session.commit()
        retired.append(t)
        return t

    yield _retire
    db.session.rollback()
    for t in retired:
        t.active = True
    db.session.commit()


@pytest.fixture
def topics_restored() -> Iterator[None]:
    """Topics are reference data the suite does not empty: remove the ones a test adds."""
    before = set(db.session.scalars(select(Topic.id)))
    yield
    db.session.rollback()
    for t in db.session.scalars(select(Topic).where(Topic.id.not_in(before))):
        db.session.delete(t)
    db.session.commit()


def test_only_admins_manage_topics(client, world, as_user):
    as_user(world.host_staff)
    assert client.get(f"{BASE}/temas").status_code == 403
    assert client.get(f"{BASE}/temas/nuevo").status_code == 403


def test_an_admin_adds_and_deactivates_a_topic(client, logged_in, post, topics_restored):
    logged_in(role="sence_national")
    assert "Entrevista de trabajo" in _text(client.get(f"{BASE}/temas"))
    resp = post(f"{BASE}/temas/nuevo", {"name": "Alfabetización digital", "description": "Correo y portales",
                                         "active": "y"})
    assert resp.status_code == 302
    new = db.session.scalar(select(Topic).where(Topic.name == "Alfabetización digital"))
    assert new is not None and new.active
    resp = post(f"{BASE}/temas/{new.id}/editar", {"name": "Alfabetización digital", "description": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    assert not new.active


def test_a_duplicate_topic_name_is_explained(client, logged_in, post, topics_restored):
    logged_in(role="sence_national")
    before = count(Topic)
    resp = post(f"{BASE}/temas/nuevo", {"name": topic().name, "active": "y"})
    assert resp.status_code == 409
    assert "Ya existe un tema con ese nombre." in _text(resp)
    assert count(Topic) == before



def test_a_workshop_whose_topic_was_deactivated_can_still_be_edited(client, world, as_user, post, retire):
    w = world.workshop(topic_id=topic("emprendimiento").id)
    retire(w.topic)
    as_user(world.host_staff)
    page = _text(client.get(f"{BASE}/{w.activity_id}/editar"))
    assert f'<option selected value="{w.topic_id}">' in page
    resp = post(f"{BASE}/{w.activity_id}/editar", _form(world, title="Entrevistas, segunda edición",
                                                         topic_id=str(w.topic_id)))
    assert resp.status_code == 302, _text(resp)[:2000]
    # ...but a new workshop may not take it
    resp = post(f"{BASE}/nuevo", _form(world, topic_id=str(w.topic_id)))
    assert resp.status_code == 400
    assert "Ese tema ya no está disponible." in _text(resp)


def test_adding_a_session_that_double_books_the_facilitator_needs_the_checkbox(client, world, as_user, post):
    w = world.workshop()
    other = world.workshop(title="Taller de la tarde", start=local_in(14, 15),
                           topic_id=topic("derechos-laborales").id)
    busy = other.activity.sessions[0].local_start
    as_user(world.host_staff)
    data = {**_session_form(busy, end_time="17:00"), "count": "1"}
    first = post(f"{BASE}/{w.activity_id}/sesiones/nueva", data)
    assert first.status_code == 409
    assert "Hilda Host ya facilita «Taller de la tarde»" in _text(first)
    assert 'name="confirm_facilitator"' in _text(first)
    assert count(ActivitySession) == 2
    second = post(f"{BASE}/{w.activity_id}/sesiones/nueva", {**data, "confirm_warnings": "1",
                                                              "confirm_facilitator": "y"})
    assert second.status_code == 302
    assert count(ActivitySession) == 3
