"""The public form in one short step, then optional extras: only what holds the seat, the
comuna pre-filled, a phone is enough, a series in one submission, errors focused at the top."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from app.activities.models import ActivitySession
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.outbox.rendering import render_now
from app.people.models import Channel, Connectivity, Person
from app.registration import services
from app.registration.models import Registration, RegistrationHold, RegistrationStatus
from tests.conftest import count, csrf_from
from tests.registration.conftest import make_rut, person_input
from tests.workshops.conftest import local_in

QUICK = {"first_names": "Rosa", "last_names": "Quispe Mamani", "document_type": "rut",
         "document_number": make_rut(41), "phone": "9 8765 4321", "email": "", "comuna_code": "13120",
         "consent_data": "y"}


def url(session: Any, query: str = "") -> str:
    return f"/inscripcion/sesion/{session.id}{query}"


def post(client: Any, session: Any, query: str = "", **kw: Any) -> Any:
    token = csrf_from(client.get(url(session, query)).get_data(as_text=True))
    data = {k: v for k, v in {**QUICK, **kw}.items() if v is not None}
    return client.post(url(session, query), data={**data, "csrf_token": token})


def main(resp: Any) -> str:
    return resp.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]


def received(resp: Any) -> str:
    """The one answer to every public submission: "Revise sus mensajes", no personal link."""
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    page = html.unescape(resp.get_data(as_text=True))
    assert "Revise sus mensajes" in page
    assert not re.search(r'/inscripcion/(?!sesion/)[^"/\s]+', main(resp))  # no personal link, no extras form
    assert "mas-datos" not in page and "/listo" not in page
    return page


def messages(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)))


def selected_comuna(page: str) -> str | None:
    found = re.search(r'<option selected value="(\d{5})">', page)
    return found.group(1) if found else None


@pytest.fixture
def series_dates(world: Any) -> list[Any]:
    w = world.workshop(publish=True, count=3, start=local_in(10), session={"capacity": 5})
    return list(w.activity.sessions)


# --- the first page asks only what holds the seat --------------------------------------------


def test_the_form_asks_only_what_holds_the_seat(client, published_session):
    page = client.get(url(published_session())).get_data(as_text=True)
    for name in ("first_names", "last_names", "document_number", "phone", "email", "comuna_code", "consent_data"):
        assert f'name="{name}"' in page
    for name in ("connectivity", "needs_subtitles", "soft_skills", "availability", "rural", "consent_recording",
                 "opt_in_future"):
        assert f'name="{name}"' not in page
    assert 'name="preferred_channel"' in page and "checked" not in page.split('name="preferred_channel"')[1][:40]


def test_a_phone_is_enough_and_the_notice_goes_by_whatsapp(client, published_session):
    page = received(post(client, published_session()))
    assert "+5698****4321" in page  # the typed phone, masked
    person = db.session.scalar(select(Person))
    assert person.preferred_channel == Channel.WHATSAPP and person.email is None
    [msg] = db.session.scalars(select(OutboxMessage)).all()
    assert msg.kind == "registration_confirmation"
    assert msg.channel == "whatsapp" and msg.recipient == "+56987654321"


def test_both_contacts_and_a_choice_use_the_choice(client, published_session):
    post(client, published_session(), email="rosa@example.cl", preferred_channel="email")
    assert db.session.scalar(select(Person)).preferred_channel == Channel.EMAIL


@pytest.mark.parametrize(("query", "expected"), [("?comuna=13101", "13101"), ("", "13120"),
                                                 ("?comuna=99999", "13120"), ("?comuna=%3Cb%3E", "13120")],
                         ids=["from the search", "the host office's", "unknown code", "garbage"])
def test_the_comuna_is_pre_filled_from_the_search_or_the_office(client, published_session, query, expected):
    page = client.get(url(published_session(), query)).get_data(as_text=True)
    assert selected_comuna(page) == expected


def test_a_chosen_comuna_is_kept_when_the_form_comes_back(client, published_session):
    resp = post(client, published_session(), "?comuna=13101", comuna_code="13122", first_names="")
    assert resp.status_code == 400 and selected_comuna(resp.get_data(as_text=True)) == "13122"


def test_the_search_comuna_and_campaign_survive_the_submission(client, published_session):
    """The form posts to its own address, query included, so ?c= still credits the campaign."""
    page = client.get(url(published_session(), "?comuna=13101&c=abc")).get_data(as_text=True)
    assert "<form method=\"post\" novalidate" in page and "action=" not in page.split("form-quick")[0][-200:]


def test_errors_are_summarised_at_the_top_focused_and_every_typed_value_kept(client, published_session):
    resp = post(client, published_session(), document_number="12.345.678-9", consent_data=None,
                email="rosa@example.cl")
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    main = page.split("<main", 1)[1]
    assert main.index('class="error-summary"') < main.index("<h1>")
    summary = re.search(r'<div class="error-summary"[^>]*>', page).group(0)
    assert 'tabindex="-1"' in summary and "autofocus" in summary
    assert "/static/js/error-summary.js" in page
    assert 'href="#document_number"' in page and 'href="#consent_data"' in page
    for value in ("Rosa", "Quispe Mamani", "12.345.678-9", "9 8765 4321", "rosa@example.cl"):
        assert f'value="{value}"' in page
    assert count(Person) == 0 and count(Registration) == 0


# --- a series in one submission --------------------------------------------------------------


def test_a_series_form_offers_every_date_with_the_chosen_one_marked(client, series_dates):
    page = client.get(url(series_dates[1])).get_data(as_text=True)
    boxes = re.findall(r'<input( checked)? id="sessions-\d" name="sessions" type="checkbox" value="(\d+)">', page)
    assert [int(v) for _c, v in boxes] == [s.id for s in series_dates]
    assert [bool(c) for c, _v in boxes] == [False, True, False]
    assert "Inscribirme en todas las fechas" in page
    everything = client.get(url(series_dates[1], "?todas=1")).get_data(as_text=True)
    assert everything.count('checked id="sessions-') == 3


def test_a_single_session_form_has_no_dates(client, published_session):
    page = client.get(url(published_session())).get_data(as_text=True)
    assert 'name="sessions"' not in page and "Inscribirme en todas las fechas" not in page


def test_all_dates_in_one_submission_register_every_date_and_one_message_brings_the_links(client, series_dates):
    resp = post(client, series_dates[0], fechas="todas")
    page = received(resp)
    regs = db.session.scalars(select(Registration).order_by(Registration.session_id)).all()
    assert [r.session_id for r in regs] == [s.id for s in series_dates]
    assert [r.status for r in regs] == [RegistrationStatus.CONFIRMED] * 3 and len({r.person_id for r in regs}) == 1
    for reg in regs:
        assert services.personal_token(reg) not in page  # the links travel only by message
    [msg] = db.session.scalars(select(OutboxMessage)).all()
    assert msg.kind == "registration_series" and msg.recipient == "+56987654321"
    body = render_now(msg).body_text
    for reg in regs:
        assert services.personal_url(reg) in body
    assert body.count("confirmada") == 3


def test_marked_dates_only(client, series_dates):
    resp = post(client, series_dates[0], fechas="marcadas", sessions=[str(series_dates[0].id), str(series_dates[2].id)])
    received(resp)
    assert sorted(r.session_id for r in db.session.scalars(select(Registration))) == \
        [series_dates[0].id, series_dates[2].id]


def test_only_the_date_of_the_page_is_a_single_registration_with_the_same_answer(client, series_dates):
    single = post(client, series_dates[0], fechas="marcadas", sessions=str(series_dates[0].id))
    assert [r.session_id for r in db.session.scalars(select(Registration))] == [series_dates[0].id]
    assert [m.kind for m in messages("registration_confirmation")] == ["registration_confirmation"]
    assert messages("registration_series") == []
    several = post(client, series_dates[0], fechas="todas", document_number=make_rut(42))
    received(single)
    received(several)
    assert main(single) == main(several)  # one date or several: the same answer


def test_no_date_marked_is_explained_and_nothing_written(client, series_dates):
    resp = post(client, series_dates[0], fechas="marcadas", sessions=None)
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    assert 'href="#sessions"' in page and "Marque al menos una fecha." in page
    assert 'value="Quispe Mamani"' in page
    assert count(Person) == 0 and count(Registration) == 0


def test_a_known_document_registering_a_series_gets_the_newcomers_page_and_a_hold_only(client, series_dates):
    """Whoever types a known RUT books nothing: the first open date is held and confirmed from the
    contact on file; the page is the newcomer's, naming only the phone typed."""
    known = services.register(series_dates[1].id, person_input(41, email="rosa@example.cl",
                                                               document_number=QUICK["document_number"]))
    known = known.registration
    newcomer = post(client, series_dates[0], fechas="todas", document_number=make_rut(42))
    stranger = post(client, series_dates[0], fechas="todas", first_names="Otra persona")
    assert "+5698****4321" in received(stranger) and "rosa@example.cl" not in stranger.get_data(as_text=True)
    received(newcomer)
    assert main(newcomer) == main(stranger)  # nothing tells the RUT was known
    person = db.session.get(Person, known.person_id)
    assert person.first_names == "Camila" and person.email == "rosa@example.cl" and person.phone is None
    assert [r.session_id for r in db.session.scalars(select(Registration).where(
        Registration.person_id == person.id))] == [series_dates[1].id]  # nothing booked in her name
    hold = db.session.scalars(select(RegistrationHold)).one()
    assert hold.person_id == person.id and hold.session_id == series_dates[0].id
    [msg] = messages("registration_hold")
    assert msg.recipient == "rosa@example.cl"  # the contact on file, never the phone typed
    assert [m.recipient for m in messages("registration_series")] == ["+56987654321"]  # the newcomer's only


def test_a_full_date_in_a_series_gives_a_waitlist_place(client, series_dates):
    for n in range(5):
        services.register(series_dates[2].id, person_input(60 + n))
    received(post(client, series_dates[0], fechas="todas"))
    rosa = db.session.scalars(select(Person).where(Person.first_names == "Rosa")).one()
    mine = db.session.scalars(select(Registration).where(Registration.person_id == rosa.id)
                              .order_by(Registration.session_id)).all()
    assert [(r.session_id, r.status) for r in mine] == [
        (series_dates[0].id, RegistrationStatus.CONFIRMED), (series_dates[1].id, RegistrationStatus.CONFIRMED),
        (series_dates[2].id, RegistrationStatus.WAITLISTED)]
    db.session.expire_all()
    assert db.session.get(ActivitySession, series_dates[2].id).confirmed_count == 5  # never oversold
    [msg] = messages("registration_series")
    body = render_now(msg).body_text
    assert body.count("confirmada") == 2 and "lista de espera, lugar 1" in body


# --- the optional second page ------------------------------------------------------------------


def _registered(client: Any, session: Any) -> str:
    """Register on the form, then take the personal link from the message, as the person would."""
    received(post(client, session))
    [msg] = messages("registration_confirmation")
    token = re.search(r"http://localhost/inscripcion/([^\s/]+)", render_now(msg).body_text).group(1)
    reg = db.session.scalar(select(Registration))
    assert token == services.personal_token(reg)
    return token


def test_the_confirmation_page_offers_the_extras(client, published_session):
    s = published_session()
    token = _registered(client, s)
    page = client.get(f"/inscripcion/{token}/listo?nuevo=1").get_data(as_text=True)
    assert f'action="/inscripcion/{token}/mas-datos"' in page and 'name="connectivity"' in page
    later = client.get(f"/inscripcion/{token}/listo").get_data(as_text=True)
    assert "mas-datos" not in later


def test_the_extras_are_saved_in_one_step(client, published_session):
    token = _registered(client, published_session())
    form = client.get(f"/inscripcion/{token}/mas-datos")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    data = {"csrf_token": csrf_from(form.get_data(as_text=True)), "needs_sign_language": "y",
            "connectivity": "mobile_only", "rural": "y", "availability": "Mañanas", "opt_in_future": "y",
            "accessibility_other": "", "soft_skills": ""}
    resp = client.post(f"/inscripcion/{token}/mas-datos", data=data)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/inscripcion/{token}")
    db.session.expire_all()
    person = db.session.scalar(select(Person))
    assert person.needs_sign_language and person.rural and person.connectivity == Connectivity.MOBILE_ONLY
    assert person.availability == "Mañanas" and person.opt_in_future and person.opt_in_at is not None
    assert person.phone == "+56987654321" and person.preferred_channel == Channel.WHATSAPP  # untouched


def test_bad_extras_keep_what_was_typed_and_write_nothing(client, published_session):
    token = _registered(client, published_session())
    form = client.get(f"/inscripcion/{token}/mas-datos").get_data(as_text=True)
    long = "x" * 2001
    resp = client.post(f"/inscripcion/{token}/mas-datos", data={
        "csrf_token": csrf_from(form), "soft_skills": long, "availability": "Tardes", "connectivity": "good"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Máximo 2000 caracteres." in page and 'href="#soft_skills"' in page and 'value="Tardes"' in page
    db.session.expire_all()
    assert db.session.scalar(select(Person)).availability == ""


def test_extras_without_the_security_code_come_back_with_a_message(client, published_session):
    token = _registered(client, published_session())
    resp = client.post(f"/inscripcion/{token}/mas-datos", data={"availability": "Tardes", "connectivity": "good"})
    assert resp.status_code == 400 and "El formulario caducó" in resp.get_data(as_text=True)


def test_extras_behind_a_bad_link_are_refused(client, published_session):
    published_session()
    assert client.get("/inscripcion/no-es-un-enlace/mas-datos").status_code == 404


def test_a_typed_comuna_value_is_never_markup(client, published_session):
    resp = post(client, published_session(), comuna_code='13120"><b>x</b>')
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "<b>x</b>" not in page and "selected" not in page.split('id="comuna_code"')[1].split("</select>")[0]


def test_the_comuna_list_has_every_comuna_once_grouped_by_region(client, published_session):
    page = client.get(url(published_session())).get_data(as_text=True)
    select_html = page.split('id="comuna_code"')[1].split("</select>")[0]
    assert len(re.findall(r'<option (?:selected )?value="\d{5}">', select_html)) == 346
    assert select_html.count("<optgroup") == 16 and select_html.count("selected") == 1
