"""Forms of the dissemination pages (staff). Checks live in ``services.clean_campaign``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Optional

from app.dissemination.models import ChannelKind
from app.dissemination.services import CampaignInput

PLACEHOLDER_HINT = _l("Puede usar {titulo}, {fecha}, {hora}, {lugar} y {enlace} (el enlace de inscripción "
                      "de cada canal, que cuenta de dónde llegó cada persona).")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def channel_choices() -> list[SelectChoice]:
    return [
        SelectChoice(ChannelKind.EMAIL.value, _l("Correo a los contactos que aceptaron avisos")),
        SelectChoice(ChannelKind.WHATSAPP.value, _l("WhatsApp a los contactos (plantilla aprobada)")),
        SelectChoice(ChannelKind.SMS.value, _l("SMS a los contactos")),
        SelectChoice(ChannelKind.FACEBOOK.value, _l("Publicación en la página de Facebook de la oficina")),
        SelectChoice(ChannelKind.WHATSAPP_SHARE.value, _l("Texto para reenviar en grupos de WhatsApp")),
        SelectChoice(ChannelKind.WEB.value, _l("Widget y feeds para sitios web municipales")),
        SelectChoice(ChannelKind.POSTER.value, _l("Afiche para imprimir y para redes (con QR)")),
        SelectChoice(ChannelKind.RADIO.value, _l("Guion para radio local")),
    ]


class CampaignForm(FlaskForm):
    name = StringField(_l("Nombre de la campaña (solo para el equipo)"))
    session_id = SelectField(_l("Sesión que se anuncia"), validate_choice=False)
    scope = RadioField(_l("¿A quién llega?"), choices=[
        SelectChoice("office", _l("A los contactos de mi oficina")),
        SelectChoice("network", _l("A los contactos de toda la red (oficina coordinadora)"))],
        default="office", validate_choice=False)
    network_id = SelectField(_l("Red"), validate_choice=False)
    message_short = TextAreaField(_l("Mensaje corto (SMS, WhatsApp)"))
    message_long = TextAreaField(_l("Mensaje largo (correo, Facebook)"))
    channels = MultiCheckboxField(_l("Canales"), choices=channel_choices(), validate_choice=False)
    schedule = RadioField(_l("¿Cuándo se envía?"), choices=[
        SelectChoice("now", _l("Ahora, al iniciar la campaña")),
        SelectChoice("at", _l("En una fecha y hora")),
        SelectChoice("sequence", _l("En secuencia: anuncio, «quedan cupos» y última llamada"))],
        default="now", validate_choice=False)
    send_at = DateTimeLocalField(_l("Anuncio: fecha y hora"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    seats_left_at = DateTimeLocalField(_l("«Quedan cupos»: fecha y hora (solo si quedan)"), format="%Y-%m-%dT%H:%M",
                                       validators=[Optional()])
    last_call_at = DateTimeLocalField(_l("Última llamada: fecha y hora"), format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])
    audience_comunas = SelectMultipleField(_l("Solo personas de estas comunas (opcional)"), validate_choice=False)
    audience_attended = RadioField(_l("Asistencia anterior"), choices=[
        SelectChoice("any", _l("Da lo mismo")),
        SelectChoice("yes", _l("Solo quienes ya asistieron a alguna actividad")),
        SelectChoice("no", _l("Solo quienes aún no han asistido"))], default="any", validate_choice=False)
    audience_interests = StringField(_l("Intereses (opcional, separados por comas)"))
    exclude_registered = BooleanField(_l("No enviar a quienes ya están inscritos en esta actividad"), default=True)

    def to_input(self, activity_id: int) -> CampaignInput:
        def as_int(value: Any) -> int | None:
            text = str(value or "").strip()
            return int(text) if text.isdecimal() and len(text) < 12 else None

        return CampaignInput(
            name=self.name.data or "", activity_id=activity_id, session_id=as_int(self.session_id.data),
            scope=self.scope.data or "office", network_id=as_int(self.network_id.data),
            message_short=self.message_short.data or "", message_long=self.message_long.data or "",
            channels=list(self.channels.data or []), schedule=self.schedule.data or "",
            send_at=self.send_at.data, seats_left_at=self.seats_left_at.data, last_call_at=self.last_call_at.data,
            audience_comunas=list(self.audience_comunas.data or []),
            audience_attended=self.audience_attended.data or "any",
            audience_interests=self.audience_interests.data or "",
            exclude_registered=bool(self.exclude_registered.data))


class ActionForm(FlaskForm):
    """A button that changes the campaign (start, pause, resume, cancel, test send)."""

    action = HiddenField()


class ContactUploadForm(FlaskForm):
    file = FileField(_l("Archivo CSV de contactos"), validators=[FileRequired(_l("Elija un archivo CSV."))])


class ContactConfirmForm(FlaskForm):
    token = HiddenField()
    col_first_names = SelectField(_l("Nombres"), validate_choice=False)
    col_last_names = SelectField(_l("Apellidos"), validate_choice=False)
    col_document = SelectField(_l("RUT o documento"), validate_choice=False)
    col_email = SelectField(_l("Correo"), validate_choice=False)
    col_phone = SelectField(_l("Celular"), validate_choice=False)
    col_comuna = SelectField(_l("Comuna"), validate_choice=False)
    col_consent = SelectField(_l("Consentimiento (sí/no o fecha)"), validate_choice=False)
    col_interests = SelectField(_l("Intereses"), validate_choice=False)
    col_channel = SelectField(_l("Canal preferido"), validate_choice=False)


class FacebookPageForm(FlaskForm):
    page_id = StringField(_l("Identificador de la página de Facebook"))
    token = StringField(_l("Token de acceso de la página"))
