"""WhatsApp Cloud API transport against a local server speaking the Graph API."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from app.channels.errors import ChannelPermanentError, ChannelTransientError, ChannelUncertainError
from app.channels.whatsapp import WhatsAppTransport, share_text
from app.outbox.delivery import PermanentError, TransientError, UncertainError
from tests.channels.conftest import FakeProvider, Reply, message

TOKEN = "EAAG-token-de-prueba"
PHONE_ID = "106540352242922"


def transport(base: str, **kw: object) -> WhatsAppTransport:
    options: dict[str, object] = {"token": TOKEN, "phone_number_id": PHONE_ID, "api_base": base,
                                  "api_version": "v21.0", "connect_timeout": 1.0, "read_timeout": 0.5}
    options.update(kw)
    return WhatsAppTransport(**options)  # type: ignore[arg-type]


def graph_error(code: int, text: str, *, details: str | None = None, status: int = 400) -> Reply:
    error: dict[str, object] = {"message": text, "type": "OAuthException", "code": code,
                                "fbtrace_id": "AZx1Tr4ce"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Reply(status, {"error": error})


# --- the exact requests -----------------------------------------------------------------------


def test_text_message_is_posted_to_the_phone_numbers_messages_edge(graph: FakeProvider) -> None:
    sent = transport(graph.url).send(message(body_text="Hola Ñandú, ¿vienes al taller?"))

    got = graph.only()
    assert got.method == "POST"
    assert got.path == f"/v21.0/{PHONE_ID}/messages"
    assert got.query == {}
    assert got.headers["authorization"] == f"Bearer {TOKEN}"
    assert got.headers["content-type"] == "application/json"
    assert got.json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "56987654321",
        "type": "text", "text": {"preview_url": True, "body": "Hola Ñandú, ¿vienes al taller?"},
    }
    assert sent.transport == "whatsapp-cloud"
    assert sent.provider_message_id == "wamid.HBgLNTY5MTIzNDU2NzgVAgARGBI"


def test_payload_template_is_sent_as_a_template_message(graph: FakeProvider) -> None:
    payload = {"template": {"name": "anuncio_taller", "language": "es",
                            "body_params": ["Taller de currículum", "martes 3 de junio, 10:00",
                                            "https://puente.example/t/AB12"]}}
    transport(graph.url).send(message(payload=payload))

    assert graph.only().json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "56987654321",
        "type": "template",
        "template": {"name": "anuncio_taller", "language": {"code": "es"}, "components": [
            {"type": "body", "parameters": [
                {"type": "text", "text": "Taller de currículum"},
                {"type": "text", "text": "martes 3 de junio, 10:00"},
                {"type": "text", "text": "https://puente.example/t/AB12"},
            ]},
        ]},
    }


def test_template_url_button_gets_its_parameter(graph: FakeProvider) -> None:
    payload = {"template": {"name": "anuncio_taller", "body_params": ["Taller"],
                            "button_url_params": ["AB12"]}}
    transport(graph.url, template_language="es_MX").send(message(payload=payload))

    template = graph.only().json()["template"]
    assert template["language"] == {"code": "es_MX"}
    assert template["components"][1] == {"type": "button", "sub_type": "url", "index": "0",
                                         "parameters": [{"type": "text", "text": "AB12"}]}


def test_template_parameters_lose_line_breaks_and_runs_of_spaces(graph: FakeProvider) -> None:
    payload = {"template": {"name": "anuncio", "body_params": ["Taller\nde   CV\t2025"]}}
    transport(graph.url).send(message(payload=payload))
    params = graph.only().json()["template"]["components"][0]["parameters"]
    assert params == [{"type": "text", "text": "Taller de CV 2025"}]


def test_payload_stored_as_json_text_is_read_too(graph: FakeProvider) -> None:
    payload = json.dumps({"template": {"name": "recordatorio", "body_params": ["mañana"]}})
    transport(graph.url).send(message(payload=payload))
    assert graph.only().json()["template"]["name"] == "recordatorio"


def test_a_template_without_a_name_is_refused_before_calling(graph: FakeProvider) -> None:
    with pytest.raises(PermanentError, match="plantilla"):
        transport(graph.url).send(message(payload={"template": {"body_params": ["x"]}}))
    assert graph.requests == []


@pytest.mark.parametrize("typed", ["+56 9 8765 4321", "9 8765 4321", "56987654321"])
def test_recipient_goes_as_e164_digits_without_plus(graph: FakeProvider, typed: str) -> None:
    transport(graph.url).send(message(recipient=typed))
    assert graph.only().json()["to"] == "56987654321"


def test_an_invalid_number_is_refused_before_calling(graph: FakeProvider) -> None:
    with pytest.raises(PermanentError, match="no es válido"):
        transport(graph.url).send(message(recipient="12345"))
    assert graph.requests == []


def test_an_empty_text_is_refused_before_calling(graph: FakeProvider) -> None:
    with pytest.raises(PermanentError, match="vacío"):
        transport(graph.url).send(message(body_text="  \n"))
    assert graph.requests == []


# --- what the provider answers -----------------------------------------------------------------


def test_outside_the_24_hour_window_is_permanent_with_a_clear_reason(graph: FakeProvider) -> None:
    graph.script(graph_error(131047, "(#131047) Re-engagement message", details=(
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.")))
    with pytest.raises(PermanentError) as info:
        transport(graph.url).send(message())
    text = str(info.value)
    assert "24 horas" in text and "plantillas aprobadas" in text
    assert "131047" in text and "AZx1Tr4ce" in text
    assert isinstance(info.value, ChannelPermanentError) and info.value.code == "131047"


def test_other_refusal_keeps_the_providers_own_message(graph: FakeProvider) -> None:
    graph.script(graph_error(100, "(#100) Invalid parameter", details="Parameter value is not valid"))
    with pytest.raises(PermanentError) as info:
        transport(graph.url).send(message())
    assert str(info.value) == ("WhatsApp rechazó el envío: Parameter value is not valid "
                               "(código 100, fbtrace AZx1Tr4ce)")


@pytest.mark.parametrize("code", [4, 80007, 130429])
def test_graph_rate_limit_codes_are_transient_even_with_status_400(graph: FakeProvider, code: int) -> None:
    graph.script(graph_error(code, f"(#{code}) Rate limit hit"))
    with pytest.raises(TransientError) as info:
        transport(graph.url).send(message())
    assert isinstance(info.value, ChannelTransientError) and info.value.code == str(code)


def test_429_is_transient_with_the_providers_retry_after(graph: FakeProvider) -> None:
    graph.script(Reply(429, {"error": {"message": "Too many", "code": 130429}}, {"Retry-After": "7"}))
    with pytest.raises(TransientError) as info:
        transport(graph.url).send(message())
    assert isinstance(info.value, ChannelTransientError)
    assert info.value.retry_after == 7.0


def test_5xx_is_transient(graph: FakeProvider) -> None:
    graph.script(Reply(503, "<html>Service Unavailable</html>"))
    with pytest.raises(TransientError) as info:
        transport(graph.url).send(message())
    assert isinstance(info.value, ChannelTransientError)
    assert info.value.retry_after is None and info.value.status == 503


def test_gateway_timeout_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(504, "<html>Gateway Timeout</html>"))
    with pytest.raises(UncertainError):
        transport(graph.url).send(message())


def test_connection_refused_is_transient(closed_port: int) -> None:
    with pytest.raises(TransientError, match="No se pudo conectar con WhatsApp"):
        transport(f"http://127.0.0.1:{closed_port}").send(message())


def test_read_timeout_after_sending_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(200, delay=1.5))
    with pytest.raises(UncertainError, match="puede haber salido"):
        transport(graph.url, read_timeout=0.3).send(message())
    assert len(graph.requests) == 1  # it did arrive


def test_connection_cut_after_sending_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(drop=True))
    with pytest.raises(UncertainError, match="se cortó durante el envío"):
        transport(graph.url).send(message())
    assert len(graph.requests) == 1


def test_accepted_answer_that_is_not_json_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(200, "<html>ok</html>"))
    with pytest.raises(ChannelUncertainError):
        transport(graph.url).send(message())


def test_accepted_answer_without_a_message_id_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"messaging_product": "whatsapp", "messages": []}))
    with pytest.raises(UncertainError, match="identificador"):
        transport(graph.url).send(message())


def test_refusal_that_is_not_json_names_the_http_status(graph: FakeProvider) -> None:
    graph.script(Reply(400, "<html>Bad</html>"))
    with pytest.raises(PermanentError, match="HTTP 400 Bad Request"):
        transport(graph.url).send(message())


def test_a_redirect_is_not_followed(graph: FakeProvider) -> None:
    graph.script(Reply(302, "", {"Location": "/elsewhere"}))
    with pytest.raises(PermanentError, match="revise la URL"):
        transport(graph.url).send(message())
    assert len(graph.requests) == 1


def test_configuration_is_checked_when_the_transport_is_made() -> None:
    with pytest.raises(ValueError, match="WHATSAPP_API_BASE"):
        transport("graph.facebook.com")
    with pytest.raises(ValueError, match="WHATSAPP_TOKEN"):
        transport("https://graph.facebook.com", token="")


# --- the wa.me share link -----------------------------------------------------------------------


def test_share_link_carries_accents_line_breaks_and_emoji() -> None:
    text = "Taller de apresto en Ñuñoa 🎓\n¿Te inscribes? Cupos: 20 & más #empleo"
    forward, link = share_text(text, "https://puente.example/t/WA7?c=1")

    assert forward == text + "\n\nhttps://puente.example/t/WA7?c=1"
    assert link.startswith("https://wa.me/?text=")
    encoded = link.removeprefix("https://wa.me/?text=")
    assert unquote(encoded) == forward
    assert "%C3%91u%C3%B1oa" in encoded  # Ñuñoa as UTF-8
    assert "%F0%9F%8E%93" in encoded  # the emoji
    assert "%0A%0A" in encoded  # line breaks
    assert "%26" in encoded and "%23" in encoded and "%3F" in encoded  # & # ? do not cut the link
    assert " " not in link and "\n" not in link


def test_share_text_does_not_repeat_a_link_already_in_the_text() -> None:
    forward, _link = share_text("Inscríbete: https://puente.example/t/WA7\r\n", "https://puente.example/t/WA7")
    assert forward == "Inscríbete: https://puente.example/t/WA7"
