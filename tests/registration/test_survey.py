"""The satisfaction survey: who may answer, what is accepted, the invitations, the results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.people.models import Channel
from app.registration import services, survey
from app.registration.models import Attendance, Registration, RegistrationStatus, SurveyResponse
from app.registration.tasks import send_survey_invitations
from app.timeutil import utcnow
from tests.conftest import count, csrf_from, get_csrf, login
from tests.registration.conftest import person_input, register_as_person

H = timedelta(hours=1)
D = timedelta(days=1)


# --- helpers ------------------------------------------------------------------------------


def register(session: Any, n: int = 1, **kw: Any) -> Registration:
    return register_as_person(session.id, person_input(n, **kw))


def end(session: Any, ago: timedelta = 2 * H, hours: float = 2) -> Any:
    """Move a session into the past: it ended ``ago``."""
    session.ends_at = utcnow() - ago
    session.starts_at = session.ends_at - timedelta(hours=hours)
    db.session.commit()
    return session


def attend(reg: Registration, how: str = "present") -> Registration:
    if how == "present":
        reg.attendance = Attendance.PRESENT
    elif how == "joined":
        reg.joined_at = reg.session.starts_at + timedelta(minutes=2)
    db.session.commit()
    return reg


@pytest.fixture
def attendee(published_session: Callable[..., Any]) -> Callable[..., Registration]:
    """A registration of a person who attended a session that ended (``ago``) before now."""

    def _make(n: int = 1, ago: timedelta = 2 * H, how: str = "present", session: Any = None,
              **kw: Any) -> Registration:
        s = session or published_session()
        reg = register(s, n, **kw)
        end(s, ago)
        return attend(reg, how)

    return _make


def page(reg: Registration) -> str:
    return f"/inscripcion/{services.personal_token(reg)}/encuesta"


def post(client: Any, reg: Registration, rating: Any = "4", comment: str = "", *, csrf: bool = True) -> Any:
    data: dict[str, Any] = {"rating": rating, "comment": comment}
    if csrf:
        data["csrf_token"] = csrf_from(client.get(page(reg)).get_data(as_text=True))
    return client.post(page(reg), data=data)


def answers() -> list[SurveyResponse]:
    db.session.expire_all()
    return list(db.session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))


def invitations() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_survey")
                                   .order_by(OutboxMessage.id)))


# --- who attended ------------------------------------------------------------------------


def test_present_or_joined_counts_as_attended_and_absent_outweighs_a_click(attendee):
    assert survey.attended(attendee(1, how="present"))
    joined = attendee(2, how="joined")
    assert survey.attended(joined)
    joined.attendance = Attendance.ABSENT
    db.session.commit()
    assert not survey.attended(joined)
    assert not survey.attended(attendee(3, how="none"))
    ids = set(db.session.scalars(select(Registration.id).where(survey.attended_clause())))
    assert ids == {r.id for r in db.session.scalars(select(Registration)) if survey.attended(r)}


def test_a_waitlisted_or_cancelled_registration_did_not_attend(published_session):
    s = published_session(capacity=1)
    first, waiting = register(s, 1), register(s, 2)
    services.cancel(first)
    end(s)
    for reg in (first, attend(waiting, "joined")):
        db.session.refresh(reg)
    first.joined_at = first.session.starts_at
    db.session.commit()
    assert waiting.status == RegistrationStatus.CONFIRMED and survey.attended(waiting)
    assert first.status == RegistrationStatus.CANCELLED and not survey.attended(first)


# --- the form --------------------------------------------------------------------------------


def test_the_form_asks_one_question_with_words_for_each_value(client, attendee):
    reg = attendee()
    resp = client.get(page(reg))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<fieldset id="rating"' in html and "¿Qué tan útil le resultó el taller?</legend>" in html
    for value, word in ((1, "Nada útil"), (3, "Más o menos útil"), (5, "Muy útil")):
        assert f'id="rating-{value}" value="{value}"' in html
        assert f'<label for="rating-{value}">{value}: {word}</label>' in html
    assert 'maxlength="2000"' in html
    assert resp.headers["Cache-Control"] == "no-store" and "noindex" in resp.headers["X-Robots-Tag"]


def test_an_answer_is_stored_and_the_person_is_thanked(client, attendee):
    reg = attendee()
    resp = post(client, reg, "5", "  Me sirvió para preparar mi CV.\r\nGracias.  ")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/inscripcion/{services.personal_token(reg)}")
    [a] = answers()
    assert (a.registration_id, a.rating, a.comment) == (reg.id, 5, "Me sirvió para preparar mi CV.\nGracias.")
    assert "¡Gracias por responder!" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_the_comment_is_optional(client, attendee):
    reg = attendee()
    assert post(client, reg, "3").status_code == 303
    assert [(a.rating, a.comment) for a in answers()] == [(3, "")]


@pytest.mark.parametrize("bad", ["0", "6", "x", "", "4.5", "-1"])
def test_a_rating_outside_1_to_5_is_refused_next_to_the_field_keeping_the_comment(client, attendee, bad):
    reg = attendee()
    resp = post(client, reg, bad, "Buen taller")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="rating-error"' in html and "Elija una opción, de 1 (nada útil) a 5 (muy útil)." in html
    assert 'href="#rating"' in html  # the summary at the top points to the question
    assert ">Buen taller</textarea>" in html
    assert answers() == []


def test_a_missing_rating_is_refused(client, attendee):
    reg = attendee()
    token = csrf_from(client.get(page(reg)).get_data(as_text=True))
    resp = client.post(page(reg), data={"csrf_token": token})
    assert resp.status_code == 400 and answers() == []


def test_a_comment_over_2000_characters_is_refused_and_kept(client, attendee):
    reg = attendee()
    long = "a" * 2001
    resp = post(client, reg, "4", long)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "hasta 2.000 caracteres; el suyo tiene 2.001" in html and 'aria-invalid="true"' in html
    assert f">{long}</textarea>" in html and 'value="4" checked' in html
    assert answers() == []
    assert post(client, reg, "4", "b" * 2000).status_code == 303
    assert len(answers()[0].comment) == 2000


def test_without_its_security_code_the_form_comes_back_with_what_was_typed(client, attendee):
    reg = attendee()
    resp = post(client, reg, "2", "Muy largo", csrf=False)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "El formulario caducó o le falta su código de seguridad" in html
    assert ">Muy largo</textarea>" in html and 'value="2" checked' in html
    assert answers() == []


def test_someone_who_did_not_attend_is_told_why_and_cannot_answer(client, attendee):
    reg = attendee(how="none")
    resp = client.get(page(reg))
    assert resp.status_code == 403
    assert "La encuesta es para las personas que participaron" in resp.get_data(as_text=True)
    assert "OMIL Ñuñoa" in resp.get_data(as_text=True)
    resp = client.post(page(reg), data={"rating": "5", "csrf_token": get_csrf(client)})
    assert resp.status_code == 403 and answers() == []


def test_the_survey_opens_when_the_session_ends(client, published_session):
    s = published_session()
    reg = register(s)
    reg.joined_at = utcnow()
    db.session.commit()
    resp = client.get(page(reg))
    assert resp.status_code == 409
    assert "La encuesta se abre cuando termine la sesión" in resp.get_data(as_text=True)
    with pytest.raises(survey.SurveyError) as err:
        survey.answer(reg, 5, "", now=s.ends_at - timedelta(minutes=1))
    assert err.value.status == 409
    survey.answer(reg, 5, "", now=s.ends_at)
    assert len(answers()) == 1


def test_the_survey_closes_30_days_after_the_session(client, attendee):
    reg = attendee(ago=29 * D)
    assert post(client, reg, "4").status_code == 303
    with pytest.raises(survey.SurveyError) as err:
        survey.answer(reg, 1, "", now=reg.session.ends_at + 30 * D + timedelta(seconds=1))
    assert err.value.status == 410 and "cerró" in err.value.message
    assert answers()[0].rating == 4
    late = attendee(2, ago=30 * D + H)
    assert client.get(page(late)).status_code == 410  # the personal link itself has expired too


def test_a_cancelled_session_has_no_survey(client, attendee):
    from app.activities.models import SessionStatus

    reg = attendee()
    reg.session.status = SessionStatus.CANCELLED
    db.session.commit()
    assert client.get(page(reg)).status_code == 409


def test_answering_again_replaces_the_answer_there_is_still_one(client, attendee):
    reg = attendee()
    assert post(client, reg, "2", "Regular").status_code == 303
    html = client.get(page(reg)).get_data(as_text=True)
    assert "Ya respondió esta encuesta" in html and 'value="2" checked' in html and ">Regular</textarea>" in html
    resp = post(client, reg, "4", "Lo pensé mejor")
    assert resp.status_code == 303
    assert "Guardamos su nueva respuesta" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert [(a.rating, a.comment) for a in answers()] == [(4, "Lo pensé mejor")]


def test_the_database_holds_one_answer_per_registration(attendee):
    from sqlalchemy.exc import IntegrityError

    reg = attendee()
    survey.answer(reg, 3, "")
    db.session.add(SurveyResponse(registration_id=reg.id, rating=5, comment=""))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert count(SurveyResponse) == 1


# --- the personal page --------------------------------------------------------------------


def personal_html(client: Any, reg: Registration) -> str:
    return client.get(f"/inscripcion/{services.personal_token(reg)}").get_data(as_text=True)


def test_the_personal_page_offers_survey_and_certificate_only_after_attending(client, published_session,
                                                                               attendee):
    s = published_session()
    before = register(s, 5)
    assert "Después de la sesión" not in personal_html(client, before)
    assert "Después de la sesión" not in personal_html(client, attendee(2, how="none"))
    reg = attendee(3)
    html = personal_html(client, reg)
    assert "Responder la encuesta" in html and f'href="{page(reg)}"' in html
    assert "certificado.pdf" in html and "Descargue su certificado antes del" in html
    survey.answer(reg, 4, "")
    assert "Ver o cambiar mi respuesta a la encuesta" in personal_html(client, reg)


# --- invitations -------------------------------------------------------------------------


def test_attendees_are_invited_once_an_hour_after_the_end(attendee):
    reg = attendee(ago=timedelta(0))
    ended = reg.session.ends_at
    assert survey.send_due_invitations(ended + 59 * timedelta(minutes=1)) == 0
    assert survey.send_due_invitations(ended + H) == 1
    assert survey.send_due_invitations(ended + H) == 0  # a restarted worker
    assert survey.send_due_invitations(ended + 3 * D) == 0  # later runs
    [msg] = invitations()
    assert msg.dedupe_key == f"registration:{reg.id}:survey"
    assert msg.recipient == "camila1@example.cl" and msg.channel == "email"
    assert survey.survey_url(reg) in msg.body_text and services.personal_url(reg) in msg.body_text
    assert "«Cómo enfrentar una entrevista de trabajo»" in msg.subject
    assert msg.body_html is not None and survey.survey_url(reg) in msg.body_html


def test_people_who_did_not_attend_are_not_invited(attendee):
    attendee(1, how="none")
    joined = attendee(2, how="joined")
    absent = attendee(3, how="joined")
    absent.attendance = Attendance.ABSENT
    db.session.commit()
    assert survey.send_due_invitations(utcnow()) == 1
    assert [m.dedupe_key for m in invitations()] == [f"registration:{joined.id}:survey"]


def test_a_session_that_ended_over_7_days_ago_gets_no_invitations(attendee):
    attendee(1, ago=7 * D + H)
    assert survey.send_due_invitations(utcnow()) == 0


def test_attendance_taken_days_later_still_brings_an_invitation(attendee):
    reg = attendee(how="none", ago=3 * D)
    assert survey.send_due_invitations(utcnow()) == 0
    attend(reg)
    assert survey.send_due_invitations(utcnow()) == 1


def test_people_who_asked_to_be_deleted_get_nothing(attendee):
    reg = attendee()
    services.erase_personal_data(reg)
    assert survey.send_due_invitations(utcnow()) == 0
    assert invitations() == []


def test_a_cancelled_session_sends_no_invitations(attendee):
    from app.activities.models import SessionStatus

    reg = attendee()
    reg.session.status = SessionStatus.CANCELLED
    db.session.commit()
    assert survey.send_due_invitations(utcnow()) == 0


def test_the_invitation_goes_on_the_persons_channel(attendee):
    reg = attendee(phone="9 8765 4321", email="", preferred_channel=Channel.WHATSAPP.value)
    assert survey.send_due_invitations(utcnow()) == 1
    [msg] = invitations()
    assert msg.channel == "whatsapp" and msg.recipient == "+56987654321"
    assert msg.body_html is None and survey.survey_url(reg) in msg.body_text and len(msg.body_text) < 600


def test_erasing_ones_data_wipes_the_invitation_too(attendee):
    reg = attendee()
    survey.send_due_invitations(utcnow())
    assert invitations()[0].id in [m.id for m in services.person_messages(reg.person)]  # "Mis datos" lists it
    services.erase_personal_data(reg)
    [msg] = invitations()
    assert msg.recipient == services.ERASED and reg.person.first_names not in msg.body_text


def test_the_worker_runs_the_invitations_every_ten_minutes(attendee):
    reg = attendee()
    task = send_survey_invitations
    schedule = task.task_class()
    assert schedule.validate_datetime(datetime(2026, 3, 2, 10, 20))
    assert not schedule.validate_datetime(datetime(2026, 3, 2, 10, 25))
    assert task.call_local() == 1 and task.call_local() == 0
    assert invitations()[0].dedupe_key == f"registration:{reg.id}:survey"


# --- results for staff ---------------------------------------------------------------------


@pytest.fixture
def answered(world) -> Any:
    """Two ended sessions of one workshop, with answers: (activity, first session, second)."""
    w = world.workshop(publish=True, count=2, session={"capacity": 10})
    s1, s2 = w.activity.sessions
    ratings = [(s1, 5, "Muy práctico"), (s1, 4, ""), (s1, 2, "Se cortó el audio"), (s2, 5, "Excelente")]
    regs = [register(s, n) for n, (s, _r, _c) in enumerate(ratings, start=1)]
    register(s1, 9)  # registered, did not come
    end(s1, ago=3 * D)
    end(s2, ago=2 * H)
    for reg, (_s, rating, comment) in zip(regs, ratings, strict=True):
        survey.answer(attend(reg), rating, comment)
    return w.activity, s1, s2


def test_staff_see_count_average_distribution_and_comments_of_a_session_without_names(client, world, answered):
    _activity, s1, _s2 = answered
    login(client, world.host_staff.email)
    resp = client.get(f"/gestion/encuestas/sesion/{s1.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<dt>Respuestas</dt><dd>3</dd>" in html
    assert "<dt>Asistentes</dt><dd>3 (respondió el 100 %)</dd>" in html
    assert "<dt>Promedio (1 a 5)</dt><dd>3,7</dd>" in html
    assert '<th scope="row">5: Muy útil</th><td>1</td><td>33 %</td>' in html
    assert '<th scope="row">3: Más o menos útil</th><td>0</td><td>0 %</td>' in html
    assert "Muy práctico" in html and "Se cortó el audio" in html and "Excelente" not in html
    assert "Camila" not in html and "Rojas" not in html


def test_the_workshop_page_adds_up_every_session(client, world, answered):
    activity, s1, s2 = answered
    login(client, world.host_staff.email)
    html = client.get(f"/gestion/encuestas/taller/{activity.id}").get_data(as_text=True)
    assert "<dt>Respuestas</dt><dd>4</dd>" in html and "<dt>Promedio (1 a 5)</dt><dd>4,0</dd>" in html
    assert "Excelente" in html and "Muy práctico" in html
    assert f"/gestion/encuestas/sesion/{s1.id}" in html and f"/gestion/encuestas/sesion/{s2.id}" in html
    results, rows = survey.activity_results(activity)
    assert [(r.attendees, r.responses, r.average) for r in rows] == [(3, 3, 3.7), (1, 1, 5.0)]
    assert [b.count for b in results.distribution] == [2, 1, 0, 1, 0]


def test_comments_of_people_who_asked_to_be_deleted_are_no_longer_shown(answered):
    _activity, s1, _s2 = answered
    reg = db.session.scalar(select(Registration).join(SurveyResponse, SurveyResponse.registration_id == Registration.id)
                            .where(SurveyResponse.comment == "Muy práctico"))
    services.erase_personal_data(reg)
    results = survey.session_results(s1)
    assert results.responses == 3 and "Muy práctico" not in [c.text for c in results.comments]


def test_who_may_read_the_results_is_the_registration_view_policy(app, client, world, answered):
    activity, s1, _s2 = answered
    urls = (f"/gestion/encuestas/sesion/{s1.id}", f"/gestion/encuestas/taller/{activity.id}")
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 302 and "/cuenta/ingresar" in resp.headers["Location"]
    for user, expected in ((world.convening_staff, 200), (world.sence_rm, 200), (world.other_staff, 403)):
        staff = app.test_client()
        login(staff, user.email)
        assert [staff.get(url).status_code for url in urls] == [expected, expected], user.name
    assert staff.get("/gestion/encuestas/sesion/999999").status_code == 404


def test_a_session_without_answers_says_so(client, world, published_session):
    s = published_session()
    login(client, world.host_staff.email)
    html = client.get(f"/gestion/encuestas/sesion/{s.id}").get_data(as_text=True)
    assert "Todavía no hay respuestas." in html and "<dd>–</dd>" in html
