"""Workshops in calendar programs: .ics files, private subscription feeds and their page.

- ``/talleres/<slug>.ics`` and ``/talleres/<slug>/sesiones/<id>.ics``: a public workshop's
  sessions (404 unless the workshop is public); ``Cache-Control: public, max-age=300``.
- ``/calendario/<id>-<token>.ics``: a private feed (a network's, an office's or a
  facilitator's activities as its owner may see them, drafts marked); ``private, no-cache``.
- ``/gestion/calendario/suscripciones``: the owner's feeds, their addresses, create, renew,
  revoke.

Every .ics answer carries an ETag and Last-Modified computed before the body is built
(``app.calendar.calendar_version``), so a conditional repeat gets a 304 without building.

This module also tells the core what only workshops know: the public page of a workshop,
the description lines about topic, audience and accessibility, and who facilitates what.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, SelectField

from app.accounts.models import Role, User
from app.accounts.policy import can, coordinated_network_ids, manageable_offices, visible_networks, visible_offices
from app.activities import feeds
from app.activities.models import Activity, ActivityKind, ActivitySession, CalendarFeed
from app.activities.services import ActivityError
from app.calendar import (
    KindHooks,
    build_calendar,
    calendar_version,
    callbacks_for,
    ics_response,
    register_kind,
)
from app.extensions import db
from app.registration.certificate import register_subject_lines
from app.territory.forms import show_error
from app.territory.models import Office
from app.urls import external_url
from workshops.models import Facilitator, Workshop

bp = Blueprint("workshops_ical", __name__)

PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-cache"
FEED_REFRESH = timedelta(hours=1)


# --- what the core's calendar needs to know about workshops -----------------------------------


def _page_url(activity: Activity) -> str:
    return external_url("workshops.detail", slug=activity.slug)


def _details(activities: Sequence[Activity]) -> Mapping[int, Sequence[str]]:
    """Topic, audience and accessibility lines for a batch of workshops (one query)."""
    ids = [a.id for a in activities]
    out: dict[int, list[str]] = {}
    for w in db.session.scalars(select(Workshop).where(Workshop.activity_id.in_(ids))).unique():
        lines = [_("Tema: %(topic)s", topic=w.topic.name)]
        if w.audience.strip():
            lines.append(_("Dirigido a: %(audience)s", audience=w.audience.strip()))
        offered = []
        if w.offers_subtitles:
            offered.append(_("subtítulos"))
        if w.offers_sign_language:
            offered.append(_("intérprete de lengua de señas chilena"))
        if w.offers_materials_in_advance:
            offered.append(_("materiales con anticipación"))
        if offered:
            lines.append(_("Accesibilidad: %(list)s.", list=", ".join(offered)))
        if w.accessibility_notes.strip():
            lines.append(w.accessibility_notes.strip())
        out[w.activity_id] = lines
    return out


def _facilitated(user_id: int) -> Select[tuple[int]]:
    return select(Facilitator.workshop_id).where(Facilitator.user_id == user_id)


def _staff_url(activity: Activity) -> str:
    return external_url("workshops_staff.detail", workshop_id=activity.id)


register_kind(ActivityKind.WORKSHOP, KindHooks(page_url=_page_url, staff_url=_staff_url, details=_details))
feeds.register_facilitated_activities("workshops", _facilitated)


# --- public files ------------------------------------------------------------------------------


def _public_workshop(slug: str) -> Activity:
    activity = db.session.scalar(
        select(Activity).where(Activity.slug == slug, Activity.kind == ActivityKind.WORKSHOP)
        .options(joinedload(Activity.host_office).joinedload(Office.comuna),
                 selectinload(Activity.sessions).joinedload(ActivitySession.comuna)))
    if activity is None or not activity.is_public:
        abort(404)
    return activity


def _ics(sessions: list[ActivitySession], *, name: str, salt: str, filename: str, private: bool) -> Response:
    callbacks = callbacks_for(sessions, private=private)
    version = calendar_version(sessions, salt=f"{salt}|{name}", extra=sorted(callbacks.details_by_activity.items()))

    def build() -> bytes:
        return build_calendar(sessions, name=name, url_for_session=callbacks.url_for_session,
                              details=callbacks.details, refresh=FEED_REFRESH if private else None, staff=private)

    response = ics_response(version, build, filename=filename,
                            cache_control=PRIVATE_CACHE if private else PUBLIC_CACHE,
                            disposition="inline" if private else "attachment")
    if private:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/talleres/<slug>.ics")
def workshop_file(slug: str) -> ResponseReturnValue:
    activity = _public_workshop(slug)
    return _ics(list(activity.sessions), name=activity.title, salt=f"workshop:{activity.id}",
                filename=f"{activity.slug}.ics", private=False)


@bp.get("/talleres/<slug>/sesiones/<int(max=2147483647):session_id>.ics")
def session_file(slug: str, session_id: int) -> ResponseReturnValue:
    activity = _public_workshop(slug)
    session = next((s for s in activity.sessions if s.id == session_id), None)
    if session is None:
        abort(404)
    return _ics([session], name=activity.title, salt=f"session:{session.id}",
                filename=f"{activity.slug}-sesion-{session.id}.ics", private=False)


# --- private feeds -----------------------------------------------------------------------------


def feed_url(feed: CalendarFeed) -> str:
    return external_url("workshops_ical.feed", feed_id=feed.id, token=feeds.feed_token(feed))


def webcal_url(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]


class _BodyCache:
    """Built feed bodies by version (ETag), newest kept, bounded in bytes. Calendar programs
    often poll without a validator; the same version is then served without rebuilding."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        from collections import OrderedDict
        from threading import Lock

        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._max = max_bytes
        self._lock = Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self._max:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self._size += len(body)
            while self._size > self._max:
                _old, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)


_FEED_BODIES = _BodyCache()


@bp.get("/calendario/<int(max=2147483647):feed_id>-<token>.ics")
def feed(feed_id: int, token: str) -> ResponseReturnValue:
    found = feeds.feed_from_token(feed_id, token)
    if found is None:
        abort(404)
    label, whose = feeds.describe_feed(found)
    name = f"Puente Laboral · {label}: {whose}"
    # A cheap version first: a conditional repeat is answered without loading the sessions.
    version = feeds.feed_version(found, salt=name)

    def build() -> bytes:
        cached = _FEED_BODIES.get(version.etag)
        if cached is not None:
            return cached
        sessions = feeds.feed_sessions(found)
        callbacks = callbacks_for(sessions, private=True)
        body = build_calendar(sessions, name=name, url_for_session=callbacks.url_for_session,
                              details=callbacks.details, refresh=FEED_REFRESH, staff=True)
        _FEED_BODIES.put(version.etag, body)
        return body

    response = ics_response(version, build, filename="puente-laboral.ics", cache_control=PRIVATE_CACHE,
                            disposition="inline")
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the subscriptions page --------------------------------------------------------------------


class FeedForm(FlaskForm):
    """Which calendar: the scope, and the network, office or person in it. Choices are
    filled in by the view; the service decides permission (403) and existence (404)."""

    scope = RadioField(_l("¿Qué calendario quiere seguir?"), validate_choice=False, choices=[
        SelectChoice("network", _l("El de una red")),
        SelectChoice("office", _l("El de una oficina")),
        SelectChoice("facilitator", _l("El de una persona facilitadora")),
    ])
    network_id = SelectField(_l("Red"), validate_choice=False)
    office_id = SelectField(_l("Oficina"), validate_choice=False)
    facilitator_id = SelectField(_l("Persona facilitadora"), validate_choice=False)


def _me() -> User:
    user = cast(User, current_user._get_current_object())  # type: ignore[attr-defined]
    if not can(user, "gestion.enter"):
        abort(403)
    return user


def _facilitator_candidates(me: User) -> list[User]:
    """Me, and for a coordinator or national admin the staff who facilitate a workshop in the
    offices they manage."""
    people: list[User] = [me] if me.role == Role.OFFICE_STAFF else []
    if me.role == Role.SENCE_NATIONAL or coordinated_network_ids(me):
        offices = select(manageable_offices(me).subquery().c.id)
        people += db.session.scalars(
            select(User).where(User.role == Role.OFFICE_STAFF, User.active.is_(True), User.id != me.id,
                               User.office_id.in_(offices),
                               User.id.in_(select(Facilitator.user_id).where(Facilitator.user_id.isnot(None))))
            .order_by(User.name)).all()
    return feeds.facilitator_choices(me, people)


def _fill_choices(form: FeedForm, me: User) -> None:
    pick = [SelectChoice("", _("Elija una opción"))]
    form.network_id.choices = pick + [SelectChoice(str(n.id), n.name) for n in db.session.scalars(visible_networks(me))]
    form.office_id.choices = pick + [SelectChoice(str(o.id), o.name) for o in db.session.scalars(visible_offices(me))]
    form.facilitator_id.choices = pick + [
        SelectChoice(str(u.id), _("%(name)s (usted)", name=u.name) if u.id == me.id
                     else f"{u.name} ({u.office.name if u.office else ''})") for u in _facilitator_candidates(me)]


def _render(me: User, form: FeedForm | None = None, errors: list[str] | None = None,
            status: int = 200) -> ResponseReturnValue:
    if form is None:
        form = FeedForm(formdata=None)
    _fill_choices(form, me)
    rows = []
    for f in feeds.user_feeds(me):
        label, whose = feeds.describe_feed(f)
        url = feed_url(f)
        rows.append({"feed": f, "label": label, "name": whose, "url": url, "webcal": webcal_url(url)})
    return render_template("workshops/feeds.html", form=form, rows=rows, errors=errors or []), status


@bp.get("/gestion/calendario/suscripciones")
@login_required
def feeds_page() -> ResponseReturnValue:
    """The user's feeds; ``?scope=network&network_id=3`` preselects a calendar in the form."""
    data: dict[str, str] = {}
    scope = request.args.get("scope", "")
    if scope in feeds.SCOPES:
        data["scope"] = scope
        field = feeds.SCOPE_FIELDS[scope]
        if request.args.get(field, "").isdecimal():
            data[field] = request.args[field]
    return _render(_me(), FeedForm(formdata=None, data=data))


def _parse_id(raw: object) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdecimal() and len(text) <= 9 else None


@bp.post("/gestion/calendario/suscripciones")
@login_required
def create_feed() -> ResponseReturnValue:
    me = _me()
    form = FeedForm()
    if not form.validate():  # the CSRF token
        return _render(me, form, status=400)
    scope = form.scope.data if form.scope.data in feeds.SCOPES else None
    raw = request.form.get(feeds.SCOPE_FIELDS[scope]) if scope else None
    scope_id = _parse_id(raw)
    if scope is not None and raw and scope_id is None:
        err = ActivityError(_("Elija una opción de la lista."), field=feeds.SCOPE_FIELDS[scope])
        return _render(me, form, show_error(form, err), status=400)
    try:
        created_feed, created = feeds.create_feed(me, scope, scope_id)
    except ActivityError as err:
        return _render(me, form, show_error(form, err), status=err.status)
    label, whose = feeds.describe_feed(created_feed)
    if created:
        flash(_("Listo: copie la dirección del calendario «%(name)s» en su programa de calendario.",
                name=whose), "success")
    else:
        flash(_("Ya tenía una suscripción al calendario «%(name)s»; es la que aparece abajo.", name=whose),
              "success")
    return redirect(url_for(".feeds_page") + f"#suscripcion-{created_feed.id}")


@bp.post("/gestion/calendario/suscripciones/<int(max=2147483647):feed_id>/renovar")
@login_required
def renew_feed(feed_id: int) -> ResponseReturnValue:
    me = _me()
    try:
        renewed = feeds.renew_feed(db.session.get(CalendarFeed, feed_id), me)
    except ActivityError as err:
        if err.status == 404:
            abort(404)
        return _render(me, errors=[err.message], status=err.status)
    flash(_("Renovamos la dirección: la anterior ya no funciona. Actualícela en su programa de calendario."),
          "success")
    return redirect(url_for(".feeds_page") + f"#suscripcion-{renewed.id}")


@bp.post("/gestion/calendario/suscripciones/<int(max=2147483647):feed_id>/revocar")
@login_required
def revoke_feed(feed_id: int) -> ResponseReturnValue:
    me = _me()
    try:
        feeds.revoke_feed(db.session.get(CalendarFeed, feed_id), me)
    except ActivityError as err:
        if err.status == 404:
            abort(404)
        return _render(me, errors=[err.message], status=err.status)
    flash(_("Revocamos la suscripción: su dirección ya no funciona."), "success")
    return redirect(url_for(".feeds_page"))


def _certificate_lines(activity: Activity) -> list[str]:
    workshop = db.session.get(Workshop, activity.id)
    return [_("Tema: %(topic)s", topic=workshop.topic.name)] if workshop is not None else []


register_subject_lines(ActivityKind.WORKSHOP, _certificate_lines)
