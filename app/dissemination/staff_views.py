"""Staff pages of dissemination: campaigns, their previews and report, contacts, the Facebook page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms import SelectChoice

from app.accounts.guards import current_account, require
from app.accounts.policy import (
    can,
    coordinated_network_ids,
    visible_activities,
    visible_campaigns,
    visible_networks,
    visible_offices,
)
from app.activities.models import Activity, ActivityStatus, SessionStatus
from app.dissemination import contacts, messages, services
from app.dissemination.forms import (
    PLACEHOLDER_HINT,
    ActionForm,
    CampaignForm,
    ContactConfirmForm,
    ContactUploadForm,
    FacebookPageForm,
)
from app.dissemination.models import Campaign, CampaignStatus, ChannelKind, StepKind
from app.extensions import db
from app.storage import get_backend, new_key
from app.territory.models import Comuna, Network, Office
from app.territory.search import spanish_key
from app.text import file_name
from app.timeutil import utcnow

bp = Blueprint("dissemination", __name__, url_prefix="/gestion/difusion")

PER_PAGE = 50
MAX_PAGE = 10_000
IMPORT_MAX_AGE = 3600


def _campaign_or_404(campaign_id: int, action: str = "campaign.view") -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    require(action, campaign)
    return campaign


def status_label(status: str) -> str:
    labels = {"draft": _("Borrador"), "active": _("En curso"), "paused": _("En pausa"), "done": _("Terminada"),
              "cancelled": _("Cancelada"), "scheduled": _("Programado"), "queuing": _("Encolándose"),
              "queued": _("En cola de envío"), "skipped": _("Omitido")}
    return str(labels.get(str(status), str(status)))


def _helpers() -> dict[str, Any]:
    return {"status_label": status_label, "channel_label": services.channel_label,
            "step_label": services.step_label}


# --- list -----------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    require("campaign.view")
    me = current_account()
    raw = request.args.get("page", "1").strip()
    page = int(raw) if raw.isdecimal() and 1 <= int(raw) <= MAX_PAGE else 1
    pagination = db.paginate(visible_campaigns(me), page=page, per_page=PER_PAGE, max_per_page=PER_PAGE,
                             error_out=False)
    return render_template("dissemination/index.html", campaigns=list(pagination.items), pagination=pagination,
                           may_create=can(me, "campaign.create"), may_import=can(me, "contacts.import"),
                           **_helpers())


# --- creating and editing -------------------------------------------------------------------------


def _candidate_activities() -> list[Activity]:
    me = current_account()
    rows = db.session.scalars(visible_activities(me).where(
        Activity.status.in_((ActivityStatus.PUBLISHED, ActivityStatus.DRAFT))).limit(300))
    now = utcnow()
    return [a for a in rows if can(me, "campaign.create", a)
            and any(s.status == SessionStatus.SCHEDULED and s.starts_at > now for s in a.sessions)]


def _prepare(form: CampaignForm, activity: Activity) -> None:
    me = current_account()
    now = utcnow()
    sessions = [s for s in activity.sessions if s.status == SessionStatus.SCHEDULED and s.starts_at > now]
    form.session_id.choices = [SelectChoice("", _("La próxima sesión (cambia sola cuando pase)"))] + [
        SelectChoice(str(s.id), s.local_start.strftime("%d-%m-%Y %H:%M")) for s in sessions]
    nets = coordinated_network_ids(me)
    form.network_id.choices = [SelectChoice("", _("Elija la red"))] + [
        SelectChoice(str(n.id), n.name) for n in db.session.scalars(
            select(Network).where(Network.id.in_(nets or {-1})).order_by(Network.name))]
    region = me.office.comuna.region_code if me.office is not None else None
    comunas = sorted(db.session.scalars(select(Comuna).where(Comuna.region_code == region)),
                     key=lambda c: spanish_key(c.name))  # Ñuñoa after Nogales, whatever the database collation
    form.audience_comunas.choices = [SelectChoice(c.code, c.name) for c in comunas]


def _render_form(form: CampaignForm, activity: Activity, *, campaign: Campaign | None = None,
                 errors: list[str] | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("dissemination/form.html", form=form, activity=activity, campaign=campaign,
                           errors=errors or [], placeholder_hint=PLACEHOLDER_HINT,
                           may_network=bool(coordinated_network_ids(current_account())),
                           facebook_ready=services.facebook_page(current_account().office_id or -1) is not None,
                           **_helpers()), status


def _apply_errors(form: CampaignForm, err: services.CampaignError) -> list[str]:
    loose: list[str] = []
    for name, message in err.errors.items():
        target = getattr(form, name, None) if name not in ("activity_id", "status") else None
        if target is not None:
            target.errors = [message]
        else:
            loose.append(message)
    return loose


@bp.route("/nueva", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    require("campaign.create")
    raw = request.args.get("actividad", "").strip()
    activity = db.session.get(Activity, int(raw)) if raw.isdecimal() and len(raw) < 10 else None
    if activity is None:
        if raw:
            flash(_("Esa actividad no existe."), "error")
        return render_template("dissemination/pick.html", activities=_candidate_activities()), (404 if raw else 200)
    require("campaign.create", activity)
    form = CampaignForm()
    _prepare(form, activity)
    if request.method == "GET":
        form.name.data = activity.title
        form.message_short.data = _("{titulo}: {fecha} a las {hora}, {lugar}. Inscríbase gratis: {enlace}")
        form.message_long.data = _("Le invitamos a «{titulo}», el {fecha} a las {hora} ({lugar}).\n\n"
                                   "Es gratuito. Inscríbase aquí: {enlace}")
        form.channels.data = [ChannelKind.EMAIL.value, ChannelKind.WHATSAPP.value, ChannelKind.SMS.value]
        return _render_form(form, activity)
    if not form.validate_on_submit():
        return _render_form(form, activity, errors=[_("El formulario caducó. Revise los datos y envíelo de nuevo.")]
                            if form.csrf_token.errors else [], status=400)
    try:
        campaign = services.create_campaign(form.to_input(activity.id), current_account())
    except services.CampaignError as err:
        db.session.rollback()
        return _render_form(form, activity, errors=_apply_errors(form, err), status=err.status)
    flash(_("La campaña quedó guardada como borrador. Revise la vista previa de cada canal y iníciela."), "success")
    return redirect(url_for("dissemination.detail", campaign_id=campaign.id), 303)


@bp.route("/<int:campaign_id>/editar", methods=["GET", "POST"])
@login_required
def edit(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id, "campaign.manage")
    activity = campaign.activity
    if campaign.status != CampaignStatus.DRAFT:
        flash(_("Solo se puede editar una campaña en borrador."), "error")
        return redirect(url_for("dissemination.detail", campaign_id=campaign.id), 303)
    form = CampaignForm(obj=None if request.method == "POST" else campaign)
    _prepare(form, activity)
    if request.method == "GET":
        tz = services.target_session(activity, campaign.session_id)
        zone = tz.timezone if tz is not None else "America/Santiago"
        from zoneinfo import ZoneInfo

        form.session_id.data = str(campaign.session_id or "")
        form.scope.data = "network" if campaign.network_id else "office"
        form.network_id.data = str(campaign.network_id or "")
        form.channels.data = campaign.channel_kinds
        form.audience_comunas.data = [c for c in campaign.audience_comunas.split(",") if c]
        steps = {s.kind.value: s for s in campaign.steps}
        form.schedule.data = services.schedule_of(campaign)
        for key, field_name in (("announcement", "send_at"), ("seats_left", "seats_left_at"),
                                ("last_call", "last_call_at")):
            if key in steps and form.schedule.data != "now":
                getattr(form, field_name).data = steps[key].send_at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        return _render_form(form, activity, campaign=campaign)
    if not form.validate_on_submit():
        return _render_form(form, activity, campaign=campaign, status=400)
    try:
        services.update_campaign(campaign, form.to_input(activity.id), current_account())
    except services.CampaignError as err:
        db.session.rollback()
        return _render_form(form, activity, campaign=campaign, errors=_apply_errors(form, err), status=err.status)
    flash(_("Cambios guardados."), "success")
    return redirect(url_for("dissemination.detail", campaign_id=campaign.id), 303)


# --- the campaign page ----------------------------------------------------------------------------


@bp.get("/<int:campaign_id>")
@login_required
def detail(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    me = current_account()
    report = services.campaign_report(campaign)
    top = max([max(r.sent, r.clicks, r.registrations, r.failed) for r in report] + [1])
    return render_template(
        "dissemination/detail.html", campaign=campaign, previews=messages.previews(campaign), report=report,
        top=top, audience=services.audience_size(campaign), may_manage=can(me, "campaign.manage", campaign),
        action_form=ActionForm(), actions=services.available_actions(campaign),
        session=services.target_session(campaign.activity, campaign.session_id),
        facebook=services.facebook_page(campaign.office_id), **_helpers())


@bp.post("/<int:campaign_id>/accion")
@login_required
def action(campaign_id: int) -> ResponseReturnValue:
    from app.dissemination.tasks import kick_campaigns
    from app.outbox.tasks import kick_delivery

    campaign = _campaign_or_404(campaign_id, "campaign.manage")
    form = ActionForm()
    back = redirect(url_for("dissemination.detail", campaign_id=campaign.id), 303)
    if not form.validate_on_submit():
        flash(_("El formulario caducó. Intente de nuevo."), "error")
        return back
    me = current_account()
    what = form.action.data
    try:
        if what == "start":
            services.start_campaign(campaign, me)
            kick_campaigns()
            flash(_("La campaña está en curso: cada envío sale a su hora."), "success")
        elif what == "pause":
            n = services.pause_campaign(campaign, me)
            flash(_("Campaña en pausa: %(n)s mensajes retenidos hasta que la reanude.", n=n), "success")
        elif what == "resume":
            services.resume_campaign(campaign, me)
            kick_campaigns()
            flash(_("Campaña reanudada."), "success")
        elif what == "cancel":
            services.cancel_campaign(campaign, me)
            flash(_("Campaña cancelada: no saldrán más mensajes."), "success")
        elif what == "test":
            if not services.send_test(campaign, me):
                flash(_("Su cuenta no tiene correo: no se pudo enviar la prueba."), "error")
                return back
            kick_delivery()
            flash(_("Le enviamos la prueba a su correo (%(email)s). Revísela en «Mensajes enviados» si usa el "
                    "visor de mensajes.", email=me.email), "success")
        else:
            abort(400)
    except services.CampaignError as err:
        db.session.rollback()
        for message in err.errors.values():
            flash(message, "error")
    return back


@bp.get("/<int:campaign_id>/correo.html")
@login_required
def email_preview(campaign_id: int) -> ResponseReturnValue:
    """The email as its recipients see it, for a sandboxed frame on the campaign page."""
    from app.outbox.rendering import NothingToSend
    from app.outbox.views import HTML_BODY_CSP

    campaign = _campaign_or_404(campaign_id)
    channel = campaign.channel(ChannelKind.EMAIL)
    if channel is None:
        abort(404)
    try:
        a = messages.announcement(campaign, channel)
    except NothingToSend:
        abort(410)
    _subject, _text, html = messages.email_parts(campaign, a, kind=StepKind.ANNOUNCEMENT,
                                                 unsubscribe=messages.sample_unsubscribe_url())
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = HTML_BODY_CSP
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _downloads() -> dict[str, tuple[ChannelKind, str, Any]]:
    """file name -> (channel, content type, builder of the bytes from the announcement)."""
    from app.dissemination.poster import poster_pdf, poster_png
    from app.dissemination.radio import radio_pdf, radio_text

    return {
        "afiche.pdf": (ChannelKind.POSTER, "application/pdf", poster_pdf),
        "afiche.png": (ChannelKind.POSTER, "image/png", poster_png),
        "radio.txt": (ChannelKind.RADIO, "text/plain; charset=utf-8", lambda a: radio_text(a).encode("utf-8")),
        "radio.pdf": (ChannelKind.RADIO, "application/pdf", radio_pdf),
    }


@bp.get("/<int:campaign_id>/<any('afiche.pdf', 'afiche.png', 'radio.txt', 'radio.pdf'):name>")
@login_required
def download(campaign_id: int, name: str) -> ResponseReturnValue:
    """The poster (PDF, PNG) and the radio script (text, PDF), built with the channel's link."""
    from app.outbox.rendering import NothingToSend

    campaign = _campaign_or_404(campaign_id)
    kind, mimetype, build = _downloads()[name]
    channel = campaign.channel(kind)
    if channel is None:
        abort(404)
    try:
        body = build(messages.announcement(campaign, channel))
    except NothingToSend:
        abort(410)
    stem, ext = name.split(".")
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{stem}-campana-{campaign.id}.{ext}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# --- contacts -------------------------------------------------------------------------------------


def _import_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="contact-import")


def _mapping(form: ContactConfirmForm, width: int) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in contacts.FIELDS:
        raw = str(getattr(form, f"col_{name}").data or "")
        out[name] = int(raw) if raw.isdecimal() and int(raw) < width else None
    return out


def _column_choices(form: ContactConfirmForm, parsed: contacts.ParsedFile) -> None:
    choices = [SelectChoice("", _("(ninguna)"))] + [
        SelectChoice(str(i), h or _("Columna %(n)s", n=i + 1)) for i, h in enumerate(parsed.header)]
    for name in contacts.FIELDS:
        getattr(form, f"col_{name}").choices = choices


@bp.route("/contactos", methods=["GET", "POST"])
@login_required
def import_contacts() -> ResponseReturnValue:
    me = current_account()
    office = me.office
    if office is None:
        abort(403)
    require("contacts.import", office)
    upload = ContactUploadForm()
    ctx: dict[str, Any] = {"office": office, "max_mb": contacts.MAX_BYTES // 2**20, "max_rows": contacts.MAX_ROWS}
    if request.method == "GET":
        return render_template("dissemination/contacts.html", upload=ContactUploadForm(formdata=None), **ctx)
    if "token" in request.form:
        return _confirm_contacts(office, ctx)
    if not upload.validate_on_submit():
        return render_template("dissemination/contacts.html", upload=upload, **ctx), 400
    storage_file = upload.file.data
    data = storage_file.stream.read(contacts.MAX_BYTES + 1)
    try:
        parsed = contacts.parse(data)
    except contacts.ContactFileError as err:
        upload.file.errors = [err.message]  # type: ignore[misc]
        return render_template("dissemination/contacts.html", upload=upload, **ctx), 400
    key = new_key("contact-imports")
    get_backend().put(key, data, content_type="text/csv")
    filename = file_name(storage_file.filename, "contactos.csv")[:200]
    confirm = ContactConfirmForm(formdata=None, token=_import_signer().dumps(
        {"k": key, "u": me.id, "o": office.id, "f": filename}))
    _column_choices(confirm, parsed)
    for name, index in parsed.guessed.items():
        getattr(confirm, f"col_{name}").data = "" if index is None else str(index)
    return _contacts_preview(confirm, parsed, office, ctx)


def _contacts_preview(confirm: ContactConfirmForm, parsed: contacts.ParsedFile, office: Office,
                      ctx: dict[str, Any], status: int = 200) -> ResponseReturnValue:
    plan: contacts.ImportPlan | None = None
    errors: list[str] = []
    try:
        plan = contacts.plan_import(parsed, _mapping(confirm, len(parsed.header)), office.id)
    except contacts.ContactFileError as err:
        errors.append(err.message)
        status = 400
    return render_template("dissemination/contacts.html", upload=ContactUploadForm(formdata=None), confirm=confirm,
                           parsed=parsed, plan=plan, errors=errors, **ctx), status


def _confirm_contacts(office: Office, ctx: dict[str, Any]) -> ResponseReturnValue:
    me = current_account()
    confirm = ContactConfirmForm()
    try:
        data = _import_signer().loads(confirm.token.data or "", max_age=IMPORT_MAX_AGE)
        if data["u"] != me.id or data["o"] != office.id:
            raise BadSignature("other user")
        raw = get_backend().read(str(data["k"]))
        parsed = contacts.parse(raw)
    except (BadSignature, KeyError, TypeError, ValueError, LookupError, OSError):
        return render_template("dissemination/contacts.html", upload=ContactUploadForm(formdata=None),
                               errors=[_("La vista previa venció o no es válida. Suba el archivo otra vez.")],
                               **ctx), 400
    _column_choices(confirm, parsed)
    if not confirm.validate_on_submit() or request.form.get("step") != "import":
        return _contacts_preview(confirm, parsed, office, ctx, status=200 if request.form.get("step") else 400)
    try:
        result = contacts.run_import(parsed, _mapping(confirm, len(parsed.header)), office_id=office.id, actor=me,
                                     filename=str(data.get("f") or "contactos.csv"), source_key=str(data["k"]))
    except contacts.AlreadyImported as err:
        db.session.rollback()
        return render_template("dissemination/contacts.html", upload=ContactUploadForm(formdata=None),
                               errors=[err.message], **ctx), 409
    except contacts.ContactFileError:
        db.session.rollback()
        return _contacts_preview(confirm, parsed, office, ctx, status=400)
    try:
        get_backend().delete(str(data["k"]))
    except Exception:  # the file is only a leftover now
        current_app.logger.warning("could not delete contact import file %s", data["k"])
    flash(_("Importación lista: %(c)s contactos nuevos, %(u)s actualizados, %(e)s excluidos.",
            c=result.created, u=result.updated, e=result.excluded), "success")
    return redirect(url_for("dissemination.import_contacts"), 303)


# --- the office's Facebook page -------------------------------------------------------------------


@bp.route("/facebook", methods=["GET", "POST"])
@login_required
def facebook() -> ResponseReturnValue:
    me = current_account()
    office = me.office
    if office is None:
        abort(403)
    require("office.facebook", office)
    page = services.facebook_page(office.id)
    form = FacebookPageForm()
    if request.method == "GET":
        form = FacebookPageForm(formdata=None, page_id=page.page_id if page else "")
        return render_template("dissemination/facebook.html", form=form, page=page, office=office)
    if not form.validate_on_submit():
        return render_template("dissemination/facebook.html", form=form, page=page, office=office), 400
    if request.form.get("remove"):
        if services.remove_facebook_page(office, actor=me):
            flash(_("Se quitó la página de Facebook de la oficina."), "success")
        return redirect(url_for("dissemination.facebook"), 303)
    try:
        saved = services.set_facebook_page(office, form.page_id.data or "", form.token.data or "", actor=me)
    except services.CampaignError as err:
        db.session.rollback()
        for name, message in err.errors.items():
            getattr(form, name).errors = [message]
        form.token.data = ""  # a secret is never sent back
        return render_template("dissemination/facebook.html", form=form, page=page, office=office), err.status
    flash(_("Página «%(name)s» guardada. El token queda cifrado y no se vuelve a mostrar.",
            name=saved.page_name or saved.page_id), "success")
    return redirect(url_for("dissemination.facebook"), 303)


# --- report over time -----------------------------------------------------------------------------


@bp.get("/informe")
@login_required
def report() -> ResponseReturnValue:
    require("campaign.view")
    me = current_account()
    offices = list(db.session.scalars(visible_offices(me)))
    networks = list(db.session.scalars(visible_networks(me)))
    raw = request.args.get("oficina", "").strip()
    raw_net = request.args.get("red", "").strip()
    chosen = offices
    status = 200
    if raw:
        chosen = [o for o in offices if str(o.id) == raw]
    elif raw_net:
        network = next((n for n in networks if str(n.id) == raw_net), None)
        visible = {o.id for o in offices}
        chosen = [o for o in network.offices if o.id in visible] if network is not None else []
    if (raw or raw_net) and not chosen:
        chosen, status = offices, 400
    months = 6
    since = utcnow() - timedelta(days=31 * months)
    rows = services.registrations_by_channel([o.id for o in chosen], since)
    by_month: dict[str, dict[str, int]] = {}
    channels: list[str] = []
    for month, via, n in rows:
        by_month.setdefault(month, {})[via] = n
        if via not in channels:
            channels.append(via)
    top = max([sum(v.values()) for v in by_month.values()] + [1])
    clicks: dict[str, dict[str, int]] = {}
    click_channels: list[str] = []
    for month, channel, n in services.clicks_by_channel([o.id for o in chosen], since):
        clicks.setdefault(month, {})[channel] = n
        if channel not in click_channels:
            click_channels.append(channel)
    return render_template("dissemination/report.html", offices=offices, networks=networks, chosen=raw,
                           chosen_network=raw_net, by_month=by_month, clicks=clicks, click_channels=click_channels,
                           channels=channels, top=top, invalid=status == 400, **_helpers()), status
