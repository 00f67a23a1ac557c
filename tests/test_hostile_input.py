"""Every public and staff form and JSON endpoint that saves a name or a title, tried with every
hostile text of ``tests/hostile.py``: a 4xx with a clear message or a normalised save, never a
5xx, nothing half-written. A new form or endpoint (fairs, recordings) adds a ``Target`` here."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.activities.models import Activity, ActivitySession
from app.dissemination.models import Campaign, ContactImport
from app.extensions import db
from app.files_models import StoredFile
from app.people.models import Person
from app.territory.models import Network, Office
from tests.conftest import csrf_from, get_csrf, login, table_counts
from tests.hostile import Hostile, check_outcome, form_body, is_clean_line, json_body
from tests.registration.conftest import make_rut
from tests.storage.samples import PDF
from tests.workshops.conftest import WorkshopWorld, local_in, topic
from workshops.models import Material

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def world(factory: Any) -> WorkshopWorld:
    return WorkshopWorld(factory)


def _newest(model: Any, column: Any) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(column).order_by(model.id.desc()).limit(1))


def _bearer(user: Any) -> dict[str, str]:
    from app.accounts.services import create_api_token

    _token, secret = create_api_token(user, "pruebas")
    return {"Authorization": f"Bearer {secret}"}


def _staff_form(client: Any, user: Any, page: str) -> str:
    assert login(client, user.email).status_code == 302
    return get_csrf(client, page)


def _workshop_form(world: WorkshopWorld, **overrides: Any) -> dict[str, Any]:
    day = local_in(7)
    data: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo", "topic_id": str(topic().id),
        "description": "Practicamos preguntas frecuentes.", "audience": "", "language": "es",
        "host_office_id": str(world.host.id), "network_ids": [str(world.network.id)],
        "convening_office_ids": [str(world.convening.id)], "facilitator_user_ids": [str(world.host_staff.id)],
        "guest_facilitators": "", "date": f"{day:%Y-%m-%d}", "start_time": "10:00", "end_time": "12:00",
        "modality": "remote", "capacity": "80", "venue_name": "", "address": "", "comuna_code": "",
        "join_url": "https://us02web.zoom.us/j/123456789", "count": "1",
    }
    data.update(overrides)
    return data


def _api_workshop(world: WorkshopWorld, **overrides: Any) -> dict[str, Any]:
    start = local_in(7)
    body: dict[str, Any] = {
        "title": "Cómo enfrentar una entrevista de trabajo", "topic_id": topic().id,
        "host_office_id": world.host.id, "network_ids": [world.network.id],
        "session": {"start_local": f"{start:%Y-%m-%dT%H:%M}", "end_local": f"{start:%Y-%m-%d}T12:00",
                    "modality": "in_person", "capacity": 30, "venue_name": "Sala OMIL",
                    "address": "Av. Irarrázaval 3550", "comuna_code": "13120"},
    }
    body.update(overrides)
    return body


# --- the targets: (prepare, send) -> (response, the value stored, if any) ---------------------

def registration_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    session = world.workshop(publish=True, start=local_in(10)).activity.sessions[0]
    url = f"/inscripcion/sesion/{session.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    data = {"first_names": value, "last_names": "Rojas", "document_type": "rut", "document_number": make_rut(1),
            "email": "camila@example.cl", "phone": "", "comuna_code": "13120", "preferred_channel": "email",
            "connectivity": "good", "consent_data": "y", "csrf_token": token}
    before = table_counts()
    resp = client.post(url, data=form_body(data), content_type=FORM)
    return resp, before, lambda: _newest(Person, Person.first_names)


def registration_api(client: Any, world: WorkshopWorld, value: str) -> Any:
    session = world.workshop(publish=True, start=local_in(10)).activity.sessions[0]
    body = {"session_id": session.id, "person": {
        "first_names": value, "last_names": "Rojas", "document_type": "rut", "document_number": make_rut(2),
        "email": "camila@example.cl", "comuna_code": "13120", "preferred_channel": "email", "consent_data": True}}
    before = table_counts()
    resp = client.post("/api/v1/registrations", data=json_body(body), content_type="application/json")
    return resp, before, lambda: _newest(Person, Person.first_names)


def workshop_create_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    token = _staff_form(client, world.host_staff, "/gestion/talleres/nuevo")
    before = table_counts()
    resp = client.post("/gestion/talleres/nuevo", data=form_body({**_workshop_form(world, title=value),
                                                                   "csrf_token": token}), content_type=FORM)
    return resp, before, lambda: _newest(Activity, Activity.title)


def workshop_edit_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    w = world.workshop()
    token = _staff_form(client, world.host_staff, f"/gestion/talleres/{w.activity_id}/editar")
    before = table_counts()
    resp = client.post(f"/gestion/talleres/{w.activity_id}/editar",
                       data=form_body({**_workshop_form(world, title=value), "csrf_token": token}), content_type=FORM)
    if resp.status_code < 400 and resp.status_code != 302:  # shown again with the error: nothing changed
        assert _newest(Activity, Activity.title) == "Cómo enfrentar una entrevista de trabajo"
    return resp, before, lambda: _newest(Activity, Activity.title)


def workshop_venue_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    token = _staff_form(client, world.host_staff, "/gestion/talleres/nuevo")
    data = _workshop_form(world, modality="in_person", venue_name=value, address="Av. Irarrázaval 3550",
                          comuna_code="13120", join_url="")
    before = table_counts()
    resp = client.post("/gestion/talleres/nuevo", data=form_body({**data, "csrf_token": token}), content_type=FORM)
    return resp, before, lambda: _newest(ActivitySession, ActivitySession.venue_name)


def workshop_create_api(client: Any, world: WorkshopWorld, value: str) -> Any:
    headers = _bearer(world.host_staff)
    before = table_counts()
    resp = client.post("/api/v1/workshops", data=json_body(_api_workshop(world, title=value)),
                       content_type="application/json", headers=headers)
    return resp, before, lambda: _newest(Activity, Activity.title)


def workshop_patch_api(client: Any, world: WorkshopWorld, value: str) -> Any:
    w = world.workshop()
    headers = _bearer(world.host_staff)
    before = table_counts()
    resp = client.patch(f"/api/v1/workshops/{w.activity_id}", data=json_body({"title": value}),
                        content_type="application/json", headers=headers)
    return resp, before, lambda: _newest(Activity, Activity.title)


def venue_api(client: Any, world: WorkshopWorld, value: str) -> Any:
    body = _api_workshop(world)
    body["session"]["venue_name"] = value
    headers = _bearer(world.host_staff)
    before = table_counts()
    resp = client.post("/api/v1/workshops", data=json_body(body), content_type="application/json", headers=headers)
    return resp, before, lambda: _newest(ActivitySession, ActivitySession.venue_name)


def office_create_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    token = _staff_form(client, world.sence_rm, "/gestion/oficinas/nueva")
    data = {"name": value, "kind": "omil", "category": "avanzada", "comuna_code": "13123",
            "email": "omil@providencia.cl", "csrf_token": token}
    before = table_counts()
    resp = client.post("/gestion/oficinas/nueva", data=form_body(data), content_type=FORM)
    return resp, before, lambda: _newest(Office, Office.name)


def network_create_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    token = _staff_form(client, world.sence_rm, "/gestion/redes/nueva")
    before = table_counts()
    resp = client.post("/gestion/redes/nueva", data=form_body({"name": value, "regions": ["13"], "csrf_token": token}),
                       content_type=FORM)
    return resp, before, lambda: _newest(Network, Network.name)


def campaign_create_form(client: Any, world: WorkshopWorld, value: str) -> Any:
    activity = world.workshop(publish=True, start=local_in(10)).activity
    url = f"/gestion/difusion/nueva?actividad={activity.id}"
    token = _staff_form(client, world.host_staff, url)
    data = {"name": value, "session_id": "", "scope": "office", "message_short": "{titulo}: {fecha} {hora}. {enlace}",
            "message_long": "Le invitamos a {titulo}. {enlace}", "channels": ["email", "poster"],
            "schedule": "now", "audience_attended": "any", "exclude_registered": "y", "csrf_token": token}
    before = table_counts()
    return client.post(url, data=form_body(data), content_type=FORM), before, lambda: _newest(Campaign, Campaign.name)


def material_upload(client: Any, world: WorkshopWorld, value: str) -> Any:
    w = world.workshop()
    url = f"/gestion/talleres/{w.activity_id}/materiales"
    token = _staff_form(client, world.host_staff, f"/gestion/talleres/{w.activity_id}")
    before = table_counts()
    name = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # multipart needs UTF-8
    resp = client.post(url, data={"csrf_token": token, "material-title": "",
                                  "material-file": (io.BytesIO(PDF), name)}, content_type="multipart/form-data")

    def stored() -> str | None:
        names = (_newest(Material, Material.title) or "") + (_newest(StoredFile, StoredFile.filename) or "")
        return names or None

    return resp, before, stored


@dataclass(frozen=True)
class Target:
    id: str
    send: Callable[[Any, WorkshopWorld, str], Any]
    one_line: bool = True  # False: a value that is cleaned rather than refused (a file's name)


TARGETS = (
    Target("registration-form", registration_form),
    Target("registration-api", registration_api),
    Target("workshop-create-form", workshop_create_form),
    Target("workshop-edit-form", workshop_edit_form),
    Target("workshop-venue-form", workshop_venue_form),
    Target("workshop-create-api", workshop_create_api),
    Target("workshop-patch-api", workshop_patch_api),
    Target("venue-api", venue_api),
    Target("office-create-form", office_create_form),
    Target("network-create-form", network_create_form),
    Target("campaign-create-form", campaign_create_form),
    Target("material-upload", material_upload, one_line=False),
)


@pytest.mark.parametrize("target", TARGETS, ids=[t.id for t in TARGETS])
def test_hostile_text_is_refused_with_a_message_or_saved_clean(client, world, target, hostile: Hostile):
    resp, before, stored = target.send(client, world, hostile.value)
    saved = stored() if resp.status_code < 400 and table_counts() != before else None
    check_outcome(resp, before, hostile, stored=saved, one_line=target.one_line)


def test_superscript_digits_in_a_web_address_are_read_out_not_a_crash():
    from app.dissemination.radio import spoken_url

    assert "²" in spoken_url("https://omil.cl/oficina²")


def test_a_contact_file_with_a_hostile_name_is_imported_under_a_clean_name(client, world, hostile: Hostile):
    csv = ("Nombres;Apellidos;RUT;Correo;Celular;Comuna;Acepta avisos\n"
           f"Ana;Pérez;{make_rut(8001)};ana@example.cl;;Ñuñoa;sí\n")
    token = _staff_form(client, world.host_staff, "/gestion/difusion/contactos")
    name = hostile.value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # multipart needs UTF-8
    preview = client.post("/gestion/difusion/contactos", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(csv.encode()), name)})
    assert preview.status_code < 500
    html = preview.get_data(as_text=True)
    found = re.search(r'name="token" (?:type="hidden" )?value="([^"]+)"', html)
    if preview.status_code != 200 or found is None:
        return  # refused with a message: nothing to import
    data = {"csrf_token": csrf_from(html), "token": found.group(1), "step": "import"}
    for field, index in (("first_names", 0), ("last_names", 1), ("document", 2), ("email", 3), ("phone", 4),
                         ("comuna", 5), ("consent", 6)):
        data[f"col_{field}"] = str(index)
    assert client.post("/gestion/difusion/contactos", data=data).status_code == 303
    stored = db.session.scalar(select(ContactImport.filename))
    assert stored and is_clean_line(stored) and len(stored) <= 200
