"""What each channel says: the worker's renderers and the staff preview, from the same code.

A campaign message is queued with only ``{"channel", "person", "step"}`` (``campaign_message``)
and written by the worker just before it is sent, so what goes out and what the preview
shows are the same text. It is not sent (``NothingToSend``) when the person opted out or was
erased since, the campaign was cancelled, or (``exclude_registered``) they registered meanwhile;
it waits on hold (``Hold``) while its campaign is paused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.activities.models import ActivitySession
from app.dissemination.announcement import Announcement, announcement_for_session, render_message
from app.dissemination.models import Campaign, CampaignChannel, CampaignStatus, CampaignStep, ChannelKind, StepKind
from app.extensions import db
from app.outbox.rendering import Hold, NothingToSend, Rendered, renderer
from app.people.models import Person
from app.registration.models import Registration, RegistrationStatus
from app.urls import external_url

UNSUBSCRIBE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def channel_url(channel: CampaignChannel) -> str:
    """The channel's tracked link: ``/c/<code>`` (a short, readable address)."""
    return external_url("dissemination_public.track", code=channel.code)


def unsubscribe_url(person_id: int) -> str:
    from app.dissemination.services import unsubscribe_token

    return external_url("dissemination_public.unsubscribe", token=unsubscribe_token(person_id))


def sample_unsubscribe_url() -> str:
    """A stand-in unsubscribe link as long as the longest real one (the largest id), so a text
    that fits here fits for every recipient."""
    from app.dbtypes import MAX_ROW_ID

    return external_url("dissemination_public.unsubscribe", token=f"{MAX_ROW_ID}-" + "X" * 12)


def sample_announcement(session: ActivitySession) -> Announcement:
    """The session's announcement with a stand-in link, to check and preview templates."""
    return announcement_for_session(session, external_url("dissemination_public.track", code="XXXXXXXX"))


def validate_template(text: str, sample: Announcement) -> str:
    """The text rendered for ``sample``; raises ``MessageTemplateError`` with a Spanish reason."""
    return render_message(text, sample)


def announcement(campaign: Campaign, channel: CampaignChannel) -> Announcement:
    from app.dissemination.services import SHORT_CODE_CHANNELS, target_session

    session = target_session(campaign.activity, campaign.session_id)
    if session is None:
        raise NothingToSend("la actividad ya no tiene sesiones por venir")
    short = channel.code if channel.channel in SHORT_CODE_CHANNELS else None
    return announcement_for_session(session, channel_url(channel), short_code=short)


def step_prefix(kind: str) -> str:
    if kind == StepKind.SEATS_LEFT:
        return _("Quedan cupos")
    if kind == StepKind.LAST_CALL:
        return _("Última llamada")
    return ""


def _with_prefix(kind: str, text: str) -> str:
    prefix = step_prefix(kind)
    return f"{prefix}: {text}" if prefix else text


def sms_text(short: str, a: Announcement, *, unsubscribe_url: str, kind: str = StepKind.ANNOUNCEMENT) -> str:
    return _with_prefix(kind, render_message(short, a)) + "\n" + _("Baja: %(url)s", url=unsubscribe_url)


def whatsapp_text(short: str, a: Announcement, *, unsubscribe_url: str, kind: str = StepKind.ANNOUNCEMENT) -> str:
    return (_with_prefix(kind, render_message(short, a)) + "\n\n"
            + _("Si no quiere recibir más avisos: %(url)s", url=unsubscribe_url))


def whatsapp_payload(text: str) -> dict[str, Any]:
    """Outside the 24-hour window the Cloud API only takes approved templates: the
    announcement template has one body parameter, the message (one line)."""
    return {"template": {"name": current_app.config.get("WHATSAPP_TEMPLATE_ANNOUNCEMENT", "anuncio_actividad"),
                         "language": current_app.config.get("WHATSAPP_TEMPLATE_LANGUAGE", "es"),
                         "body_params": [" ".join(text.split())]}}


def email_parts(campaign: Campaign, a: Announcement, *, kind: str, unsubscribe: str) -> tuple[str, str, str]:
    """(subject, text, html) of the email announcement."""
    body = render_message(campaign.message_long, a)
    subject = _with_prefix(kind, a.title)
    ctx = {"campaign": campaign, "a": a, "body": body, "unsubscribe_url": unsubscribe, "subject": subject}
    return subject, render_template("email/campaign.txt", **ctx), render_template("email/campaign.html", **ctx)


def _load(context: dict[str, Any]) -> tuple[CampaignStep, Campaign, Person]:
    step = db.session.get(CampaignStep, int(context["step"]))
    person = db.session.get(Person, int(context["person"]))
    if step is None or person is None:
        raise NothingToSend("la campaña o la persona ya no existen")
    campaign = step.campaign
    if campaign.status == CampaignStatus.CANCELLED:
        raise NothingToSend("la campaña fue cancelada")
    if campaign.status == CampaignStatus.PAUSED:
        raise Hold()
    if person.anonymised_at is not None:
        raise NothingToSend("la persona pidió eliminar sus datos")
    if person.opted_out_at is not None or not person.opt_in_future:
        raise NothingToSend("la persona se dio de baja de los avisos")
    if campaign.exclude_registered and db.session.scalar(
            select(Registration.id).join(ActivitySession)
            .where(Registration.person_id == person.id, Registration.status != RegistrationStatus.CANCELLED,
                   ActivitySession.activity_id == campaign.activity_id).limit(1)) is not None:
        raise NothingToSend("la persona ya se inscribió")
    return step, campaign, person


@renderer("campaign_message")
def render_campaign_message(context: dict[str, Any]) -> Rendered:
    step, campaign, person = _load(context)
    kind = str(context.get("channel") or "email")
    channel = campaign.channel(kind)
    if channel is None:
        raise NothingToSend("la campaña ya no usa ese canal")
    a = announcement(campaign, channel)
    unsubscribe = unsubscribe_url(person.id)
    if kind == ChannelKind.EMAIL:
        subject, text, html = email_parts(campaign, a, kind=step.kind, unsubscribe=unsubscribe)
        headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return Rendered(subject=subject, body_text=text, body_html=html, payload={"headers": headers})
    if kind == ChannelKind.WHATSAPP:
        text = whatsapp_text(campaign.message_short, a, unsubscribe_url=unsubscribe, kind=step.kind)
        return Rendered(subject=a.title, body_text=text, payload=whatsapp_payload(text))
    return Rendered(subject=a.title,
                    body_text=sms_text(campaign.message_short, a, unsubscribe_url=unsubscribe, kind=step.kind))


@renderer("campaign_facebook")
def render_campaign_facebook(context: dict[str, Any]) -> Rendered:
    campaign = db.session.get(Campaign, int(context["campaign"]))
    if campaign is None or campaign.status == CampaignStatus.CANCELLED:
        raise NothingToSend("la campaña fue cancelada")
    if campaign.status == CampaignStatus.PAUSED:
        raise Hold()
    channel = campaign.channel(ChannelKind.FACEBOOK)
    if channel is None:
        raise NothingToSend("la campaña ya no usa Facebook")
    a = announcement(campaign, channel)
    return Rendered(subject=a.title, body_text=render_message(campaign.message_long, a),
                    payload={"link": channel_url(channel)})


# --- previews for staff -----------------------------------------------------------------------


@dataclass
class ChannelPreview:
    channel: str
    label: str
    url: str
    code: str
    subject: str = ""
    text: str = ""
    html: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def previews(campaign: Campaign) -> list[ChannelPreview]:
    """Exactly what each channel will say (the person-by-person channels with a stand-in
    unsubscribe link), for the campaign page."""
    from app.channels.sms import measure
    from app.channels.whatsapp import share_text
    from app.dissemination.services import channel_label

    out: list[ChannelPreview] = []
    sample_unsubscribe = sample_unsubscribe_url()
    for channel in campaign.channels:
        kind = channel.channel
        try:
            a = announcement(campaign, channel)
        except NothingToSend as exc:
            out.append(ChannelPreview(kind.value, channel_label(kind.value), channel_url(channel), channel.code,
                                      note=str(exc)))
            continue
        p = ChannelPreview(kind.value, channel_label(kind.value), channel_url(channel), channel.code)
        if kind == ChannelKind.EMAIL:
            p.subject, p.text, p.html = email_parts(campaign, a, kind=StepKind.ANNOUNCEMENT,
                                                    unsubscribe=sample_unsubscribe)
        elif kind == ChannelKind.SMS:
            p.text = sms_text(campaign.message_short, a, unsubscribe_url=sample_unsubscribe)
            length = measure(p.text)
            p.note = _("%(n)s caracteres, %(s)s mensaje(s) SMS (%(enc)s).", n=len(p.text), s=length.segments,
                       enc=length.encoding)
        elif kind == ChannelKind.WHATSAPP:
            p.text = whatsapp_text(campaign.message_short, a, unsubscribe_url=sample_unsubscribe)
            p.note = _("Se envía como plantilla aprobada «%(name)s» (fuera de la ventana de 24 horas).",
                       name=whatsapp_payload(p.text)["template"]["name"])
        elif kind == ChannelKind.WHATSAPP_SHARE:
            p.text, p.extra["share_link"] = share_text(render_message(campaign.message_short, a),
                                                       a.registration_url)
        elif kind == ChannelKind.FACEBOOK:
            p.text = render_message(campaign.message_long, a)
        elif kind == ChannelKind.RADIO:
            from app.dissemination.radio import radio_text

            p.text = radio_text(a)
        elif kind == ChannelKind.POSTER:
            p.note = _("Afiche A4 en PDF y una imagen PNG para redes sociales, con un código QR a %(url)s.",
                       url=p.url)
        elif kind == ChannelKind.WEB:
            p.note = _("El widget y los feeds de la oficina y la red muestran la actividad mientras tenga "
                       "inscripciones abiertas; este enlace cuenta las visitas que llegan desde la web.")
        out.append(p)
    return out
