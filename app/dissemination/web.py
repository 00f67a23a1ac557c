"""The web channel: a widget municipal websites embed, and Atom feeds of upcoming activities.

Public, no login, no JavaScript needed:

- ``/widget/oficina/<id or slug>``, ``/widget/red/<id or slug>``, ``/widget/region/<code>``: a
  tiny self-contained page (Spanish, its own few styles, no script) listing the next published
  sessions with a registration link each (opens in a new tab), meant for an ``<iframe>``.
  These are the only views other sites may frame: they carry their own Content-Security-
  Policy (``frame-ancestors`` from ``WIDGET_FRAME_ANCESTORS``, any http(s) site by default)
  and are marked with ``app.security.allow_framing`` so no X-Frame-Options is added. Every
  other page keeps ``frame-ancestors 'none'``.
- ``static/js/widget.js``: a site adds ``<script src=".../static/js/widget.js"
  data-oficina="omil-nunoa" async></script>`` (or ``data-red``, ``data-region``) and the
  script puts the iframe right after itself. ``/widget/oficina/<ref>/insertar`` (and red,
  region) shows both snippets to copy, a preview and the feed's address.
- ``/feeds/oficina/<ref>.atom``, ``/feeds/red/<ref>.atom``, ``/feeds/region/<code>.atom``:
  Atom 1.0 (RFC 4287) built with the standard library's ElementTree (``feedgen`` 1.0 drops
  the ``rel`` of entry links, lkiesow/python-feedgen#135, which turns a "related" link into
  a second "alternate"; Atom is small enough to write directly): one entry per upcoming session (id, title,
  updated, published, the registration link as ``alternate``, the activity's page as
  ``related``, a plain-text summary with day, time, place, host office and accessibility).

Which sessions: of published activities (every kind), scheduled, not started yet, in start
order; an office's are those it hosts or convenes for, a network's those planned for it, a
region's those hosted by an office of the region or held in one of its comunas. Unknown,
inactive or malformed references answer 404.

Conditional requests: a version (ETag and Last-Modified) is computed from two small queries
(the shown sessions' ids, sequences and update times, and the scope's latest change or start)
without building anything, and a repeat gets 304. Campaigns can give the widget and the feed
tracked links: the web channel's code of a running campaign about the activity.
"""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds XML, never parses it
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import joinedload
from werkzeug.http import is_resource_modified
from werkzeug.routing import BuildError

from app.activities.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    SessionStatus,
    activity_convening_offices,
    activity_networks,
)
from app.calendar import callbacks_for
from app.dbtypes import MAX_ROW_ID
from app.dissemination.announcement import Announcement, announcement_for_session, day_text, place_label, time_text
from app.dissemination.services import web_codes, web_links_version
from app.extensions import db
from app.i18n import zone_name
from app.security import allow_framing
from app.territory.models import Comuna, Network, Office, Region
from app.timeutil import utcnow
from app.urls import base_url, external_url

bp = Blueprint("dissemination_web", __name__)

LOCALE = "es_CL"  # the widget and the feeds are for the public of Chilean municipalities
FORMAT_VERSION = "1"  # raise when the output's layout changes, so every ETag changes too
FEED_LIMIT = 50
WIDGET_LIMIT = 5
WIDGET_MAX = 20
CHANGE_WINDOW = timedelta(days=90)
MAX_REF = 180
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
CACHE_CONTROL = "public, max-age=300"
SCOPE_KINDS = ("oficina", "red", "region")

WIDGET_CSS = (
    "body{margin:0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b1b1b;"
    "background:#fff}main{padding:.75rem}h1{font-size:1.1rem;margin:0 0 .5rem;color:#0b5394}"
    "ul{list-style:none;margin:0;padding:0}li{border-top:1px solid #d0d7de;padding:.6rem 0}"
    "h2{font-size:1rem;margin:0 0 .2rem}p{margin:0 0 .2rem}.meta{color:#444}"
    "a{color:#0b5394;font-weight:600}a:focus{outline:3px solid #ffbf47;outline-offset:2px}"
    ".vh{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap}.more{margin-top:.6rem;font-size:.95rem}"
)
WIDGET_CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(WIDGET_CSS.encode()).digest()).decode()


# --- tracked links ---------------------------------------------------------------------------


def registration_url(session: ActivitySession, codes: dict[int, str]) -> str:
    """The web channel's tracked link while a campaign about the activity runs (``codes``, from
    ``services.web_codes``), else the registration form itself."""
    code = codes.get(session.activity_id)
    if code is not None:
        return external_url("dissemination_public.track", code=code)
    return external_url("registration.register", session_id=session.id)


# --- scopes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # oficina, red, region, pais
    ref: str  # what URLs carry: a slug or a region code
    name: str  # "OMIL Ñuñoa", "Red Oriente", "Región Metropolitana de Santiago"
    clause: Any  # condition on sessions joined to activities
    since: datetime  # when the scope began (an empty feed's date)
    listing: tuple[str, dict[str, str]] | None  # (endpoint, args) of the public listing, if any

    @property
    def heading(self) -> str:
        if self.kind == "region":
            return _("Próximas actividades en la %(name)s", name=self.name)
        if self.kind == "pais":
            return _("Próximas actividades en todo Chile")
        return _("Próximas actividades de %(name)s", name=self.name)


def region_title(name: str) -> str:
    """"Región de Valparaíso", "Región del Maule", "Región Metropolitana de Santiago"."""
    if name.startswith("Metropolitana"):
        return _("Región %(name)s", name=name)
    if name.startswith(("Libertador", "Maule", "Biobío")):
        return _("Región del %(name)s", name=name)
    return _("Región de %(name)s", name=name)


def _by_ref(model: Any, ref: str) -> Any:
    if not ref or len(ref) > MAX_REF:
        return None
    if ref.isdecimal():
        return db.session.get(model, int(ref)) if 0 < int(ref) <= MAX_ROW_ID else None
    return db.session.scalar(select(model).where(model.slug == ref))


def _region(code: str) -> Region | None:
    code = code.strip()
    if code.isdecimal() and len(code) <= 2:
        return db.session.get(Region, code.zfill(2))
    if code.upper().startswith("CL-") and len(code) <= 6:
        return db.session.scalar(select(Region).where(Region.iso_code == code.upper()))
    return None


def office_clause(office_id: int) -> Any:
    return or_(Activity.host_office_id == office_id,
               Activity.id.in_(select(activity_convening_offices.c.activity_id)
                               .where(activity_convening_offices.c.office_id == office_id)))


def network_clause(network_id: int) -> Any:
    return Activity.id.in_(select(activity_networks.c.activity_id).where(activity_networks.c.network_id == network_id))


def region_clause(region_code: str) -> Any:
    in_region = select(Comuna.code).where(Comuna.region_code == region_code)
    return or_(Activity.host_office_id.in_(select(Office.id).where(Office.comuna_code.in_(in_region))),
               ActivitySession.comuna_code.in_(in_region))


def find_scope(kind: str, ref: str) -> Scope | None:
    """The office, network or region a URL names; None if there is none (or it is inactive)."""
    if kind == "oficina":
        office = _by_ref(Office, ref)
        if office is None or not office.active:
            return None
        return Scope("oficina", office.slug, office.name, office_clause(office.id), office.created_at,
                     ("workshops.index", {"comuna": office.comuna_code}))
    if kind == "red":
        network = _by_ref(Network, ref)
        if network is None or not network.active:
            return None
        return Scope("red", network.slug, network.name, network_clause(network.id), network.created_at,
                     ("workshops.index", {"network": network.slug}))
    if kind == "pais":
        return Scope("pais", "chile", "Chile", true(), EPOCH, ("workshops.index", {})) if ref == "chile" else None
    if kind == "region":
        region = _region(ref)
        if region is None:
            return None
        return Scope("region", region.code, region_title(region.name), region_clause(region.code), EPOCH,
                     ("workshops.index", {"region": region.code}))
    return None


def _scope_or_404(kind: str, ref: str) -> Scope:
    scope = find_scope(kind, ref)
    if scope is None:
        abort(404)
    return scope


def _upcoming_clause(now: datetime) -> Any:
    return and_(Activity.status == ActivityStatus.PUBLISHED, Activity.published_at.is_not(None),
                ActivitySession.status == SessionStatus.SCHEDULED, ActivitySession.starts_at > now)


# --- what is shown, and its version ---------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    etag: str
    last_modified: datetime
    ids: tuple[int, ...]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def version(scope: Scope, *, limit: int, salt: str, now: datetime | None = None) -> Version:
    """What the body is made of, from two small queries and nothing built."""
    now = now or utcnow()
    rows = db.session.execute(
        select(ActivitySession.id, ActivitySession.sequence, ActivitySession.updated_at, Activity.updated_at,
               Office.name)
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .join(Office, Office.id == Activity.host_office_id)
        .where(_upcoming_clause(now), scope.clause)
        .order_by(ActivitySession.starts_at, ActivitySession.id).limit(limit)).all()
    # The latest change in the scope (a session cancelled or moved, an activity unpublished)
    # and the latest start (a session leaves the list when it starts).
    latest = db.session.execute(
        select(func.max(ActivitySession.updated_at), func.max(Activity.updated_at),
               func.max(case((ActivitySession.starts_at <= now, ActivitySession.starts_at))))
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .where(scope.clause, ActivitySession.starts_at > now - CHANGE_WINDOW)).one()
    times = [t for t in (_aware(x) for x in latest) if t is not None]
    times += [t for row in rows for t in (_aware(row[2]), _aware(row[3])) if t is not None]
    last = max([*times, _aware(scope.since) or EPOCH]).replace(microsecond=0)
    h = hashlib.sha256(
        f"v{FORMAT_VERSION}|{salt}|{scope.kind}:{scope.ref}:{scope.name}|{base_url()}|"
        f"{web_links_version()}|{last.isoformat()}|"
        f"{[(r[0], r[1], str(r[2]), str(r[3]), r[4]) for r in rows]}".encode())
    return Version(etag=h.hexdigest()[:40], last_modified=last, ids=tuple(r[0] for r in rows))


def load_sessions(ids: Sequence[int]) -> list[ActivitySession]:
    if not ids:
        return []
    stmt = (select(ActivitySession).where(ActivitySession.id.in_(ids))
            .options(joinedload(ActivitySession.activity).joinedload(Activity.host_office).joinedload(Office.comuna),
                     joinedload(ActivitySession.comuna))
            .order_by(ActivitySession.starts_at, ActivitySession.id))
    return list(db.session.scalars(stmt).unique())


@dataclass(frozen=True)
class Item:
    session: ActivitySession
    announcement: Announcement
    when: str
    place: str
    page_url: str | None
    details: tuple[str, ...]


def when_text(a: Announcement) -> str:
    """"martes 3 de diciembre, 10:00 a 12:00 (hora de Chile continental)"."""
    return _("%(day)s, %(start)s a %(end)s (%(zone)s)", day=day_text(a.starts_at.date(), locale=LOCALE),
             start=time_text(a.starts_at), end=time_text(a.ends_at), zone=zone_name(a.timezone))


def items_for(sessions: list[ActivitySession]) -> list[Item]:
    callbacks = callbacks_for(sessions, private=False)
    out = []
    codes = web_codes([s.activity_id for s in sessions])
    for s in sessions:
        a = announcement_for_session(s, registration_url(s, codes), locale=LOCALE)
        place = place_label(a, capitalised=True)
        out.append(Item(session=s, announcement=a, when=when_text(a), place=place[:1].upper() + place[1:],
                        page_url=callbacks.url_for_session(s), details=tuple(callbacks.details(s))))
    return out


# --- HTTP ----------------------------------------------------------------------------------------


def _conditional(v: Version, build: Callable[[], bytes | str], content_type: str,
                 headers: dict[str, str] | None = None) -> Response:
    if not is_resource_modified(request.environ, etag=v.etag, last_modified=v.last_modified):
        response = Response(status=304)
    else:
        response = Response(build(), content_type=content_type)
    response.set_etag(v.etag)
    response.last_modified = v.last_modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def widget_csp() -> str:
    ancestors = current_app.config.get("WIDGET_FRAME_ANCESTORS") or "'self' https: http:"
    return "; ".join([
        "default-src 'none'",
        f"style-src '{WIDGET_CSS_HASH}'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        f"frame-ancestors {ancestors}",
    ])


def _listing_url(scope: Scope) -> str:
    if scope.listing is not None:
        endpoint, args = scope.listing
        try:
            return external_url(endpoint, **args)
        except BuildError:
            pass
    return external_url("public.home")


def _widget_limit() -> int:
    raw = (request.args.get("limite") or "").strip()
    if raw.isdecimal() and 1 <= int(raw) <= WIDGET_MAX:
        return int(raw)
    return WIDGET_LIMIT


def _widget_page(kind: str, ref: str) -> Response:
    headers = {"Content-Security-Policy": widget_csp(), "X-Robots-Tag": "noindex"}
    with force_locale(LOCALE):
        scope = find_scope(kind, ref)
        if scope is None:
            body = render_template("dissemination/widget.html", scope=None, items=[], css=Markup(WIDGET_CSS),  # noqa: S704 - a constant
                                   more_url=external_url("public.home"))
            response = Response(body, status=404, content_type="text/html; charset=utf-8")
            response.headers.update(headers)
            return response
        limit = _widget_limit()
        v = version(scope, limit=limit, salt=f"widget:{limit}")

        def build() -> str:
            return render_template("dissemination/widget.html", scope=scope,
                                   items=items_for(load_sessions(v.ids)),
                                   css=Markup(WIDGET_CSS), more_url=_listing_url(scope))  # noqa: S704 - a constant

        return _conditional(v, build, "text/html; charset=utf-8", headers)


@bp.get("/widget/oficina/<ref>")
@allow_framing
def office_widget(ref: str) -> ResponseReturnValue:
    return _widget_page("oficina", ref)


@bp.get("/widget/red/<ref>")
@allow_framing
def network_widget(ref: str) -> ResponseReturnValue:
    return _widget_page("red", ref)


@bp.get("/widget/region/<ref>")
@allow_framing
def region_widget(ref: str) -> ResponseReturnValue:
    return _widget_page("region", ref)


WIDGET_ENDPOINTS = {"oficina": "office_widget", "red": "network_widget", "region": "region_widget"}
FEED_ENDPOINTS = {"oficina": "office_feed", "red": "network_feed", "region": "region_feed", "pais": "national_feed"}
SCRIPT_ATTRIBUTES = {"oficina": "data-oficina", "red": "data-red", "region": "data-region"}


def widget_url(scope: Scope) -> str:
    if scope.kind not in WIDGET_ENDPOINTS:  # the national feed's page is the public listing
        return _listing_url(scope)
    return external_url(f"dissemination_web.{WIDGET_ENDPOINTS[scope.kind]}", ref=scope.ref)


def feed_url(scope: Scope) -> str:
    if scope.kind == "pais":
        return external_url("dissemination_web.national_feed")
    return external_url(f"dissemination_web.{FEED_ENDPOINTS[scope.kind]}", ref=scope.ref)


@bp.get("/widget/<any(oficina, red, region):kind>/<ref>/insertar")
def snippet(kind: str, ref: str) -> ResponseReturnValue:
    """The code a municipal website pastes, a preview, and the feed's address."""
    scope = _scope_or_404(kind, ref)
    script_url = external_url("static", filename="js/widget.js")
    frame_title = scope.heading + " · Puente Laboral"
    script_snippet = f'<script src="{script_url}" {SCRIPT_ATTRIBUTES[kind]}="{scope.ref}" async></script>'
    iframe_snippet = (f'<iframe src="{widget_url(scope)}" title="{Markup.escape(frame_title)}" '
                      f'width="100%" height="420" style="border:0" loading="lazy"></iframe>')
    return render_template("dissemination/widget_snippet.html", scope=scope, script_snippet=script_snippet,
                           iframe_snippet=iframe_snippet, frame_title=frame_title,
                           preview_url=url_for(f".{WIDGET_ENDPOINTS[kind]}", ref=scope.ref),
                           feed_url=feed_url(scope))


# --- Atom ------------------------------------------------------------------------------------------


def _tag_host() -> str:
    from urllib.parse import urlsplit

    return urlsplit(base_url()).hostname or "localhost"


def entry_id(session: ActivitySession) -> str:
    """A permanent Atom id (RFC 4151 tag URI) for a session."""
    return f"tag:{_tag_host()},2025:puente-laboral/sesion/{session.id}"


ATOM_NS = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    """Text XML 1.0 can carry: control characters are dropped."""
    return _NOT_XML.sub("", value)


def _atom_time(value: datetime) -> str:
    """RFC 3339, in UTC, to the second: 2030-12-03T13:00:00Z."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _author(parent: ET.Element, name: str, uri: str | None = None) -> None:
    author = _add(parent, "author")
    _add(author, "name", name)
    if uri:
        _add(author, "uri", uri)


def build_feed(scope: Scope, v: Version) -> bytes:
    """The Atom document (RFC 4287): built with the standard library's ElementTree."""
    items = items_for(load_sessions(v.ids))
    home_url = base_url()
    self_url = feed_url(scope)
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "es-CL"})
    _add(feed, "id", self_url)
    _add(feed, "title", scope.heading + " · Puente Laboral")
    _add(feed, "subtitle", _("Talleres de apresto laboral y ferias laborales gratuitas de las OMIL, con su enlace "
                             "de inscripción."))
    _add(feed, "updated", _atom_time(v.last_modified))
    _author(feed, scope.name if scope.kind not in ("region", "pais") else "Puente Laboral", home_url)
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=widget_url(scope))
    _add(feed, "generator", "Puente Laboral", uri=home_url)
    for item in items:
        a, s = item.announcement, item.session
        entry = _add(feed, "entry")
        _add(entry, "id", entry_id(s))
        _add(entry, "title", a.title)
        updated = max(t for t in (_aware(s.updated_at), _aware(s.activity.updated_at)) if t is not None)
        _add(entry, "updated", _atom_time(updated))
        published = _aware(s.activity.published_at)
        if published is not None:
            _add(entry, "published", _atom_time(published))
        _author(entry, a.office_name)
        _add(entry, "link", rel="alternate", type="text/html", href=a.registration_url, title=_("Inscribirse"))
        if item.page_url:
            _add(entry, "link", rel="related", type="text/html", href=item.page_url)
        _add(entry, "category", term=s.activity.kind.value)
        lines = [item.when, _("Lugar: %(place)s", place=item.place),
                 _("Organiza: %(office)s, %(comuna)s", office=a.office_name, comuna=a.office_comuna)]
        if a.accessibility:
            lines.append(_("Accesibilidad: %(offered)s", offered="; ".join(a.accessibility)))
        lines += [d for d in item.details if d not in lines]
        lines.append(_("Inscripción gratuita: %(url)s", url=a.registration_url))
        _add(entry, "summary", "\n".join(lines), type="text")
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _feed(kind: str, ref: str) -> Response:
    with force_locale(LOCALE):
        scope = _scope_or_404(kind, ref)
        v = version(scope, limit=FEED_LIMIT, salt="feed")
        return _conditional(v, lambda: build_feed(scope, v), "application/atom+xml; charset=utf-8")


@bp.get("/feeds/oficina/<ref>.atom")
def office_feed(ref: str) -> ResponseReturnValue:
    return _feed("oficina", ref)


@bp.get("/feeds/red/<ref>.atom")
def network_feed(ref: str) -> ResponseReturnValue:
    return _feed("red", ref)


@bp.get("/feeds/region/<ref>.atom")
def region_feed(ref: str) -> ResponseReturnValue:
    return _feed("region", ref)


@bp.get("/feeds/chile.atom")
def national_feed() -> ResponseReturnValue:
    """Upcoming activities in the whole country (the next FEED_LIMIT), announced on /talleres."""
    return _feed("pais", "chile")
