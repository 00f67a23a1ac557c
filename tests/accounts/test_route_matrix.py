"""Walk every staff URL as each demo role against another office's, network's and region's objects.

The routes come from ``app.url_map``: every rule under /gestion (HTML) and /api/v1 (API) must
be classified in ``ROUTES`` below, so a new route cannot be forgotten. The world is the demo
(``seed_demo``) plus private things of the Magallanes side (a registrant, a note, a material, a
campaign, a message, invitations, a calendar feed, a token). The actors work in the
Metropolitan or Valparaíso regions, or are not staff at all:

- every GET of an object route is 403 or 404 (anonymous: the login page, or 401 on the API);
- a GET of a list or form page is 200 (or 403 where the role may not open it) and shows none
  of Magallanes' private things (``MARKERS``);
- every unsafe method is sent once per role with a valid CSRF token and a body that would
  change something: refused with 403 or 404 (a create aimed at Magallanes: also 400/422 from
  its validation), and the database is byte-for-byte what it was;
- SENCE national is the control: every object and list GET answers 200, so the refusals
  above come from the policy and not from a wrong URL;
- no 5xx anywhere (the fixtures fail the test on any).
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from app.accounts.models import Invitation, Role, User
from app.demo import DEMO_PASSWORD, seed_demo
from app.extensions import db
from tests.conftest import csrf_from, login
from tests.storage.samples import JPEG, PDF

# --- what each route is --------------------------------------------------------------------

OBJECT = "object"  # about one Magallanes object: refused to everyone but national
LIST = "list"  # a page or list every staff member may open (or a form they may be refused): rows are scoped
PUBLIC = "public"  # open to anyone (reference data, published workshops): nothing private in it
CREATE = "create"  # a write whose target is in the body: aimed at Magallanes, it is refused
SKIP = "skip"  # not walked here; ``why`` says where it is covered


@dataclass(frozen=True)
class Route:
    get: str | None = None
    write: str | None = None
    body: dict[str, Any] = field(default_factory=dict)  # added to the generic body of a write
    args: dict[str, str] = field(default_factory=dict)  # URL arguments that differ from ``ARGS``
    query: str = ""
    why: str = ""
    control: int = 200  # what SENCE national gets on GET


_SENCE = {"inv_id": "unit_invitation", "user_id": "sence_user"}

ROUTES: dict[str, Route] = {
    # /api/v1: reference data and the caller's own account
    "api_v1.comunas": Route(get=PUBLIC), "api_v1.regions": Route(get=PUBLIC),
    "api_v1.region_comunas": Route(get=PUBLIC), "api_v1.ping": Route(get=PUBLIC),
    "openapi.spec": Route(get=PUBLIC), "api_v1.me": Route(get=LIST),
    "api_v1.networks": Route(get=LIST), "api_v1.offices": Route(get=LIST), "api_v1.office": Route(get=OBJECT),
    # /api/v1/registrations
    "registration_api.register": Route(write=CREATE, why="anonymous: a public registration (tests/registration)",
                                       body={"session_id": "session", "person": {
                                           "first_names": "Ana", "last_names": "Matriz", "document_type": "rut",
                                           "document_number": "12.345.678-5", "email": "ana@example.cl",
                                           "comuna_code": "13120", "consent_data": True}}),
    "registration_api.registrants": Route(get=OBJECT, query="session_id={session}"),
    "registration_api.attendance": Route(write=OBJECT, body={"attendance": "present"}),
    "registration_api.mine": Route(get=SKIP, why="a jobseeker's own registration token, not staff"),
    "registration_api.cancel_mine": Route(write=SKIP, why="a jobseeker's own registration token, not staff"),
    # /api/v1/workshops
    "workshops_api.list_workshops": Route(get=LIST), "workshops_api.topics": Route(get=PUBLIC),
    "workshops_api.create_workshop": Route(write=CREATE, body={"title": "Cambiado", "topic_id": "topic_id",
                                                               "host_office_id": "office"}),
    "workshops_api.get_workshop": Route(get=PUBLIC),  # published: public, without staff notes or registrants
    "workshops_api.update_workshop": Route(write=OBJECT, body={"title": "Cambiado"}),
    "workshops_api.cancel_workshop": Route(write=OBJECT, body={"reason": "Cambiado"}),
    "workshops_api.publish_workshop": Route(write=OBJECT),
    "workshops_api.add_sessions": Route(write=OBJECT, body={
        "start_local": "2030-03-04T10:00", "end_local": "2030-03-04T12:00", "modality": "remote", "capacity": 5,
        "join_url": "https://us02web.zoom.us/j/123456789"}),
    "workshops_api.update_session": Route(write=OBJECT, body={"capacity": 5}),
    "workshops_api.cancel_session": Route(write=OBJECT, body={"reason": "Cambiado"}),
    # /gestion
    "public.gestion_home": Route(get=LIST), "audit.index": Route(get=LIST),
    "workshops_calendar.index": Route(get=LIST), "workshops_calendar.network": Route(get=OBJECT),
    "workshops_ical.feeds_page": Route(get=LIST),
    "workshops_ical.create_feed": Route(write=CREATE, body={"scope": "office", "scope_id": "office"}),
    "workshops_ical.renew_feed": Route(write=OBJECT), "workshops_ical.revoke_feed": Route(write=OBJECT),
    "dissemination.index": Route(get=LIST), "dissemination.detail": Route(get=OBJECT),
    "dissemination.download": Route(get=OBJECT), "dissemination.action": Route(write=OBJECT),
    "dissemination.email_preview": Route(get=OBJECT), "dissemination.edit": Route(get=OBJECT, write=OBJECT),
    # an office's own contact list and Facebook page: national, who has no office, is refused too
    "dissemination.import_contacts": Route(get=LIST, write=SKIP, control=403,
                                           why="imports into the caller's own office (tests/dissemination)"),
    "dissemination.facebook": Route(get=LIST, write=SKIP, control=403,
                                    why="the caller's own office's page (tests/dissemination)"),
    "dissemination.report": Route(get=LIST),
    "dissemination.new": Route(get=OBJECT, write=OBJECT, query="actividad={workshop}"),
    "registration_after.session_results": Route(get=OBJECT),
    "registration_after.activity_results": Route(get=OBJECT),
    "registration_staff.detail": Route(get=OBJECT), "registration_staff.attendance": Route(write=OBJECT),
    "registration_staff.cancel": Route(write=OBJECT), "registration_staff.move": Route(get=OBJECT, write=OBJECT),
    "registration_staff.person_edit": Route(get=OBJECT, write=OBJECT),
    "registration_staff.session_list": Route(get=OBJECT),
    "registration_staff.attendance_import": Route(get=OBJECT, write=OBJECT),
    "registration_staff.export": Route(get=OBJECT), "registration_staff.new": Route(get=OBJECT, write=OBJECT),
    "outbox.index": Route(get=LIST), "outbox.detail": Route(get=OBJECT), "outbox.html_body": Route(get=OBJECT),
    "outbox.requeue": Route(write=OBJECT),
    "territory.offices": Route(get=LIST), "territory.office_detail": Route(get=OBJECT),
    "territory.office_edit": Route(get=OBJECT, write=OBJECT),
    "territory.office_new": Route(get=LIST, write=CREATE, body={"comuna_code": "12101"}),
    "territory.networks": Route(get=LIST), "territory.network_detail": Route(get=OBJECT),
    "territory.network_coordination": Route(write=OBJECT), "territory.network_edit": Route(get=OBJECT, write=OBJECT),
    "territory.network_add_office": Route(write=OBJECT), "territory.network_remove_office": Route(write=OBJECT),
    "territory.network_new": Route(get=LIST, write=CREATE, body={"region_codes": "12"}),
    # the office's logo on the public workshop pages: asks office.edit on that office
    "branding.edit_logo": Route(get=OBJECT, write=OBJECT, body={"action": "remove", "alt": "Cambiado"}),
    "staff.office_team": Route(get=OBJECT), "staff.office_invite": Route(write=OBJECT),
    "staff.office_revoke": Route(write=OBJECT), "staff.office_resend": Route(write=OBJECT),
    "staff.office_deactivate": Route(write=OBJECT),
    "staff.sence_team": Route(get=OBJECT), "staff.sence_invite": Route(write=OBJECT),
    "staff.sence_revoke": Route(write=OBJECT, args=_SENCE), "staff.sence_resend": Route(write=OBJECT, args=_SENCE),
    "staff.sence_deactivate": Route(write=OBJECT, args=_SENCE),
    "conferencing_staff.office_credentials": Route(get=OBJECT),
    "conferencing_staff.clear_credentials": Route(write=OBJECT), "conferencing_staff.save_google": Route(write=OBJECT),
    "conferencing_staff.save_default": Route(write=OBJECT), "conferencing_staff.save_zoom": Route(write=OBJECT),
    "conferencing_staff.host": Route(get=OBJECT), "conferencing_staff.joined_fragment": Route(get=OBJECT),
    "conferencing_staff.set_provider": Route(write=OBJECT), "conferencing_staff.retry": Route(write=OBJECT),
    "workshops_staff.index": Route(get=LIST), "workshops_staff.detail": Route(get=OBJECT),
    "workshops_staff.cancel": Route(write=OBJECT), "workshops_staff.edit": Route(get=OBJECT, write=OBJECT),
    "workshops_staff.add_material": Route(write=OBJECT), "workshops_staff.remove_material": Route(write=OBJECT),
    "workshops_staff.add_note": Route(write=OBJECT), "workshops_staff.publish": Route(write=OBJECT),
    "workshops_staff.mark_done": Route(write=OBJECT), "workshops_staff.cancel_session": Route(write=OBJECT),
    "workshops_staff.edit_session": Route(get=OBJECT, write=OBJECT),
    "workshops_staff.add_sessions": Route(get=OBJECT, write=OBJECT),
    "workshops_staff.new": Route(get=LIST, write=CREATE, body={"host_office_id": "office"}),
    "workshops_staff.topics": Route(get=LIST), "workshops_staff.topic_edit": Route(get=OBJECT, write=OBJECT),
    "workshops_staff.topic_new": Route(get=LIST, write=CREATE),
}

STAFF_PREFIXES = ("/gestion", "/api/v1")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# Private things of the Magallanes side: none may appear in a page a Metropolitan or Valparaíso
# actor sees. (The published Magallanes workshop's title is public, so it is no marker.)
MARKERS = ("Zapallar Privado", "privado.magallanes@example.cl", "16.111.111-", "16111111",
           "Nota privada de Magallanes", "Campaña privada de Magallanes", "Asunto privado de Magallanes",
           "invitada.magallanes@example.cl", "Emprender en Última Esperanza")

# Roles that walk the routes: (demo account or "employer"/"anonymous", expectation).
ACTORS = {
    "coordinator": "coordinacion.oriente",  # coordinates Red Oriente (Metropolitan) this year
    "office_staff": "omil.penalolen",  # a member of Red Oriente
    "no_network": "omil.isladepascua",  # an office in no network, in the Valparaíso region
    "sence_regional": "sence.metropolitana",
    "employer": None,
    "anonymous": None,
}


# --- the world -----------------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, Any]  # URL argument name -> a Magallanes value; also names used in bodies and queries
    users: dict[str, User]


def _user(local: str) -> User:
    user = db.session.scalar(select(User).where(User.email.like(f"{local}@%")))
    assert user is not None, local
    return user


def build_world(factory: Any) -> World:
    """The demo, plus private things of the Magallanes side made through the services."""
    from app.accounts.services import create_api_token, invite_staff
    from app.activities import feeds
    from app.activities.models import Activity
    from app.dissemination import services as dissemination
    from app.outbox.services import enqueue_email
    from app.people.services import PersonInput
    from app.registration import services as registration
    from app.territory.branding import set_logo
    from app.territory.models import Network, Office, SenceUnit
    from workshops import services as workshops
    from workshops.models import Topic, Workshop

    seed_demo()
    coord = _user("coordinacion.magallanes")
    office = db.session.scalar(select(Office).where(Office.comuna_code == "12101"))
    network = db.session.scalar(select(Network).where(Network.name == "Red OMIL Magallanes"))
    activity = db.session.scalar(select(Activity).where(Activity.title == "Derechos laborales en Magallanes"))
    assert office is not None and network is not None and activity is not None
    workshop = db.session.get(Workshop, activity.id)
    session = max(activity.sessions, key=lambda s: s.starts_at)  # upcoming (the demo may move one into the past)
    result = registration.register(session.id, PersonInput(
        first_names="Rosa", last_names="Zapallar Privado", document_type="rut", document_number="16.111.111-2",
        email="privado.magallanes@example.cl", phone="", comuna_code="12101", preferred_channel="email",
        connectivity="good", rural=False, consent_data=True, opt_in_future=False))
    reg = result.registration
    workshops.add_note(workshop, "Nota privada de Magallanes", actor=coord)
    material = workshops.add_material(workshop, BytesIO(PDF), filename="guia.pdf", title="Guía de Magallanes",
                                      actor=coord)
    campaign = dissemination.create_campaign(dissemination.CampaignInput(
        name="Campaña privada de Magallanes", activity_id=activity.id, message_short="{titulo} {enlace}",
        message_long="{titulo} {enlace}", channels=["email", "poster", "radio"]), coord)
    set_logo(office, BytesIO(JPEG), "logo.jpg", "Municipalidad de Punta Arenas", actor=coord)
    message = enqueue_email(dedupe_key="matriz-magallanes", to="alguien@example.cl",
                            subject="Asunto privado de Magallanes", body_text="x", body_html="<p>x</p>",
                            kind="test", office_id=office.id)
    db.session.commit()
    invitation = invite_staff(inviter=coord, email="invitada.magallanes@example.cl", name="Invitada",
                              role=Role.OFFICE_STAFF, office=office)
    sence_mag = _user("sence.magallanes")
    unit = db.session.scalar(select(SenceUnit).where(SenceUnit.region_code == "12"))
    unit_invitation = invite_staff(inviter=sence_mag, email="sence.invitada.magallanes@example.cl",
                                   name="Invitada SENCE", role=Role.SENCE_REGIONAL, sence_unit=unit)
    feed, _created = feeds.create_feed(coord, "network", network.id)
    token, _secret = create_api_token(coord, "Magallanes")
    topic = db.session.scalar(select(Topic).order_by(Topic.id))
    assert isinstance(invitation, Invitation) and topic is not None and unit is not None
    ids = {
        "workshop_id": activity.id, "activity_id": activity.id, "session_id": session.id, "reg_id": reg.id,
        "registration_id": reg.id, "person_id": reg.person_id, "material_id": material.id,
        "campaign_id": campaign.id, "name": "radio.txt", "message_id": message.id, "office_id": office.id,
        "network_id": network.id, "inv_id": invitation.id, "user_id": coord.id, "unit_id": unit.id,
        "unit_invitation": unit_invitation.id, "sence_user": sence_mag.id, "provider": "zoom",
        "feed_id": feed.id, "token_id": token.id, "topic_id": topic.id, "code": "12",
        # for bodies and queries
        "workshop": activity.id, "session": session.id, "office": office.id,
    }
    users = {role: _user(local) for role, local in ACTORS.items() if local}
    users["employer"] = factory.user("employer")
    users["national"] = _user("sence.nacional")
    return World(ids, users)


def staff_rules(app: Flask) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(STAFF_PREFIXES)),
                  key=lambda r: (r.rule, r.endpoint))


def _url(rule: Any, route: Route, world: World) -> str:
    from flask import url_for

    names = {arg: route.args.get(arg, arg) for arg in rule.arguments}
    unknown = sorted(n for n in names.values() if n not in world.ids)
    assert not unknown, f"{rule.endpoint}: give {unknown} a Magallanes value in build_world's ids"
    values = {arg: world.ids[name] for arg, name in names.items()}
    url = url_for(rule.endpoint, **values)
    return f"{url}?{route.query.format(**world.ids)}" if route.query else url


def fingerprint() -> dict[str, str]:
    """Every row of every table, hashed per table (order-independent)."""
    db.session.expire_all()
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {table.name}")))  # noqa: S608
            out[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


# --- the walk ------------------------------------------------------------------------------


def _body(route: Route, world: World, is_api: bool) -> dict[str, Any]:
    """A body that would change something if the request were let through: on the API the
    route's own (the schema refuses unknown fields), on a form also the usual field names."""
    body: dict[str, Any] = {} if is_api else {
        "title": "Cambiado", "reason": "Cambiado", "text": "Cambiado", "name": "Cambiado",
        "email": "matriz@example.cl", "capacity": "5", "attendance": "present", "status": "present"}
    for key, value in route.body.items():
        body[key] = world.ids.get(value, value) if isinstance(value, str) else value
    return body if is_api else {k: str(v) for k, v in body.items()}


def _is_login_redirect(resp: Any) -> bool:
    return resp.status_code == 302 and "/cuenta/ingresar" in resp.headers.get("Location", "")


def _leaks(resp: Any) -> list[str]:
    body = html.unescape(resp.get_data(as_text=True))
    return [m for m in MARKERS if m in body]


def walk(app: Flask, client: Any, world: World, role: str) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()  # the markers the control saw: each must show somewhere, or it proves nothing
    user = world.users.get(role)
    if user is not None:
        assert login(client, user.email, DEMO_PASSWORD if role != "employer" else
                     "clave-de-prueba-123").status_code == 302
    csrf = csrf_from(client.get("/cuenta/ingresar" if user is None else "/cuenta/").get_data(as_text=True))
    rules = staff_rules(app)
    with app.test_request_context():
        urls = {(r.rule, r.endpoint): _url(r, ROUTES[r.endpoint], world) for r in rules}

    def denied(resp: Any, is_api: bool) -> bool:
        if role == "anonymous":
            return resp.status_code == 401 if is_api else _is_login_redirect(resp)
        return resp.status_code in (403, 404)

    for rule in rules:
        route, url, is_api = ROUTES[rule.endpoint], urls[(rule.rule, rule.endpoint)], rule.rule.startswith("/api/")
        if "GET" not in rule.methods or route.get in (None, SKIP):
            continue
        resp = client.get(url)
        where = f"{role}: GET {url} ({rule.endpoint}, {route.get}) -> {resp.status_code}"
        if role == "national":
            if resp.status_code != route.control:
                problems.append(f"{where}: the control expected {route.control}")
            seen.update(_leaks(resp))
            continue
        if route.get == OBJECT and not denied(resp, is_api):
            problems.append(f"{where}: expected a refusal")
        elif route.get == LIST and not (resp.status_code in (200, 403) or denied(resp, is_api)
                                        or (role != "anonymous" and resp.status_code in (302, 303))):
            problems.append(f"{where}: expected 200, 403, a redirect or a refusal")
        if leaked := _leaks(resp):
            problems.append(f"{where}: shows Magallanes' {leaked}")

    if role == "national":
        unseen = [m for m in MARKERS if m not in seen]
        return problems + ([f"national: no page shows the markers {unseen}; fix MARKERS"] if unseen else [])
    before = fingerprint()
    for rule in rules:
        route, url, is_api = ROUTES[rule.endpoint], urls[(rule.rule, rule.endpoint)], rule.rule.startswith("/api/")
        if route.write in (None, SKIP) or (role == "anonymous" and route.why.startswith("anonymous")):
            continue
        for method in sorted(set(rule.methods) & set(UNSAFE)):
            body = _body(route, world, is_api)
            if is_api:
                resp = client.open(url, method=method, json=body, headers={"X-CSRFToken": csrf})
            else:
                resp = client.open(url, method=method, data={**body, "csrf_token": csrf})
            where = f"{role}: {method} {url} ({rule.endpoint}, {route.write}) -> {resp.status_code}"
            ok = denied(resp, is_api) or (route.write == CREATE and resp.status_code in (400, 403, 404, 422))
            if not ok:
                problems.append(f"{where}: expected a refusal ({resp.get_data(as_text=True)[:200]!r})")
            if leaked := _leaks(resp):
                problems.append(f"{where}: shows Magallanes' {leaked}")
    after = fingerprint()
    changed = sorted(t for t in before if before[t] != after[t])
    if changed:
        problems.append(f"{role}: refused writes changed the tables {changed}")
    return problems


# --- the tests -----------------------------------------------------------------------------


def test_every_staff_route_is_classified_in_this_test(app: Flask) -> None:
    endpoints = {r.endpoint for r in staff_rules(app)}
    missing = sorted(f"{r.endpoint} ({r.rule})" for r in staff_rules(app) if r.endpoint not in ROUTES)
    assert not missing, (
        "These staff routes are not in the authorization matrix. Classify each in ROUTES in "
        "tests/accounts/test_route_matrix.py (OBJECT, LIST, PUBLIC, CREATE, or SKIP with where it "
        f"is covered); a new URL argument also needs a Magallanes value in build_world's ids: {missing}")
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"ROUTES lists endpoints that no longer exist: {stale}"
    for endpoint, route in ROUTES.items():
        rule = next(r for r in staff_rules(app) if r.endpoint == endpoint)
        if "GET" in rule.methods:
            assert route.get is not None, f"{endpoint}: say what its GET is"
        if set(rule.methods) & set(UNSAFE):
            assert route.write is not None, f"{endpoint}: say what its {set(rule.methods) & set(UNSAFE)} is"
        if SKIP in (route.get, route.write):
            assert route.why, f"{endpoint}: say where the skipped method is covered"


def test_no_role_reaches_another_regions_objects_through_any_staff_route(app, factory):
    # One world for every role: the refused writes leave it as it was (``walk`` checks that).
    world = build_world(factory)
    problems = []
    for role in (*ACTORS, "national"):
        problems += walk(app, app.test_client(), world, role)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
