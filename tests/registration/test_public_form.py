"""The public registration form: one light page, clear errors, nothing lost, nothing doubled."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db, limiter
from app.outbox.models import OutboxMessage
from app.people.models import Person
from app.registration.models import Registration
from app.timeutil import utcnow
from tests.conftest import count, csrf_from
from tests.registration.conftest import make_rut


def form_data(n: int = 1, **kw: Any) -> dict[str, str]:
    data = {
        "first_names": "Camila", "last_names": f"Rojas {n}", "document_type": "rut",
        "document_number": make_rut(n), "email": f"camila{n}@example.cl", "phone": "",
        "comuna_code": "13120", "preferred_channel": "email", "connectivity": "good", "consent_data": "y",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def url(session: Any) -> str:
    return f"/inscripcion/sesion/{session.id}"


def post(client: Any, session: Any, **kw: Any) -> Any:
    token = csrf_from(client.get(url(session)).get_data(as_text=True))
    return client.post(url(session), data={**form_data(**kw), "csrf_token": token})


def nothing_written() -> bool:
    db.session.expire_all()
    return count(Person) == 0 and count(Registration) == 0 and count(OutboxMessage) == 0


# --- showing the form ------------------------------------------------------------------------


def test_the_form_of_a_published_open_session_is_shown(client, published_session):
    s = published_session()
    resp = client.get(url(s))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Inscribirme" in page and 'name="csrf_token"' in page
    # Works without JavaScript: no inline script, a real <select> of comunas (a script only
    # turns it into a type-ahead), a plain submit button.
    assert "<script>" not in page and " onclick=" not in page
    assert '<select class="input" data-typeahead="1" id="comuna_code" name="comuna_code">' in page


def test_an_unknown_session_is_not_found(client, published_session):
    published_session()
    assert client.get("/inscripcion/sesion/999999").status_code == 404


def test_a_draft_session_is_not_found(client, world):
    draft = world.workshop().activity.sessions[0]
    assert client.get(url(draft)).status_code == 404


def test_a_cancelled_session_says_so_with_409(client, published_session, world):
    from workshops import services as workshop_services

    s = published_session()
    workshop_services.cancel_session(s, "La facilitadora está enferma", actor=world.host_staff)
    resp = client.get(url(s))
    assert resp.status_code == 409
    assert "Esta sesión fue cancelada." in resp.get_data(as_text=True)


def test_a_session_closed_for_registration_says_so_with_409_and_takes_nothing(client, published_session):
    s = published_session()
    token = csrf_from(client.get(url(s)).get_data(as_text=True))
    s.starts_at = utcnow() + timedelta(minutes=30)
    s.ends_at = s.starts_at + timedelta(hours=1)
    db.session.commit()
    resp = client.post(url(s), data={**form_data(), "csrf_token": token})
    assert resp.status_code == 409
    assert "ya cerraron" in resp.get_data(as_text=True)
    assert nothing_written()


# --- the happy path --------------------------------------------------------------------------


def test_a_registration_answers_with_a_page_naming_only_the_typed_contact_masked(client, published_session):
    s = published_session()
    resp = post(client, s)
    assert resp.status_code == 200
    text = html.unescape(resp.get_data(as_text=True))
    assert "Revise sus mensajes" in text and "Si los datos son correctos" in text
    assert "c***@example.cl" in text and "camila1@example.cl" not in text
    assert "/listo" not in text  # the personal link travels only by message
    assert 'content="noindex' in text
    assert count(Registration) == 1
    assert db.session.scalar(select(OutboxMessage.kind)) == "registration_confirmation"


def test_the_same_person_posting_twice_is_registered_once_and_gets_the_same_page(client, published_session):
    s = published_session()
    first = post(client, s)
    again = post(client, s)
    assert again.status_code == 200
    main = lambda r: r.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]  # noqa: E731
    assert main(again) == main(first)  # nothing says "already registered"
    assert count(Registration) == 1 and count(Person) == 1
    kinds = sorted(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["registration_confirmation", "registration_links"]  # their links, to the contact on file


# --- bad input -------------------------------------------------------------------------------

LONG = "Ñ" * 10_000

BAD_INPUT = {
    "invalid RUT": ({"document_number": "12.345.678-9"}, "document_number", "El dígito verificador no corresponde"),
    "passport too short": ({"document_type": "passport", "document_number": "AB12"}, "document_number",
                           "entre 5 y 20 letras o números"),
    "invalid email": ({"email": "camila@"}, "email", "Escriba un correo válido"),
    "invalid phone": ({"phone": "123", "preferred_channel": "whatsapp"}, "phone", "Escriba un celular de 9 dígitos"),
    "no contact at all": ({"email": "", "phone": ""}, "email", "Deje al menos un correo o un celular"),
    "no consent": ({"consent_data": None}, "consent_data", "debe aceptar el uso de sus datos"),
    "unknown comuna": ({"comuna_code": "99999"}, "comuna_code", "Elija una comuna de la lista."),
    "10,000-character names": ({"first_names": LONG, "last_names": LONG}, "first_names", "Máximo 120 caracteres."),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_answers_400_with_the_message_at_the_field_and_in_the_summary(client, published_session, case):
    changes, field, message = BAD_INPUT[case]
    s = published_session()
    resp = post(client, s, **changes)
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    summary = page[page.index('class="error-summary"'):]
    summary = summary[:summary.index("</div>")]
    assert f'href="#{field}"' in summary and message in summary
    at_field = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', page, re.S)
    assert at_field and message in at_field.group(1)


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_keeps_what_was_typed_and_writes_nothing(client, published_session, case):
    changes, _field, _message = BAD_INPUT[case]
    s = published_session()
    resp = post(client, s, **changes)
    page = html.unescape(resp.get_data(as_text=True))
    for name, value in form_data(**changes).items():
        if name in ("first_names", "last_names", "document_number", "email", "phone") and value:
            assert f'value="{value}"' in page
    if changes.get("comuna_code", "13120") == "13120":
        assert '<option selected value="13120">' in page
    assert nothing_written()


def test_a_missing_security_code_keeps_the_form_and_what_was_typed(client, published_session):
    s = published_session()
    client.get(url(s))
    resp = client.post(url(s), data=form_data(first_names="Ñandú"))
    assert resp.status_code == 400
    page = html.unescape(resp.get_data(as_text=True))
    assert "El formulario caducó" in page and 'class="error-summary"' in page
    assert 'value="Ñandú"' in page
    assert 'name="csrf_token"' in page  # a fresh code to send it again
    assert nothing_written()


def test_a_flood_from_one_address_gets_429_with_retry_after(app, client, published_session, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_RATE_LIMIT", "3 per minute")
    limiter.reset()
    s = published_session()
    token = csrf_from(client.get(url(s)).get_data(as_text=True))
    answers = [client.post(url(s), data={**form_data(n), "csrf_token": token}) for n in range(1, 5)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429
    assert int(answers[3].headers["Retry-After"]) > 0
    assert "Demasiados intentos" in answers[3].get_data(as_text=True)
    assert count(Registration) == 3


def test_a_stranger_typing_someone_elses_email_is_a_new_person_and_sees_the_same_page(client, published_session):
    first, other = published_session(), published_session()
    camila = post(client, first)  # Camila, with her own RUT and camila1@example.cl
    # Someone else types her email, their own RUT, and another session.
    resp = post(client, other, document_number=make_rut(77), first_names="Intruso")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Location" not in resp.headers
    assert "Si los datos son correctos" in page and "camila1@example.cl" not in page
    assert "/listo" not in page and "/datos" not in page and "/cancelar" not in page
    assert camila.get_data(as_text=True).count("c***@example.cl") == page.count("c***@example.cl")
    assert sorted(db.session.scalars(select(Person.first_names))) == ["Camila", "Intruso"]
