"""SMS transport against a local Twilio-compatible Messages API, and SMS length counting."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.channels.errors import ChannelPermanentError, ChannelTransientError
from app.channels.sms import SmsTransport, check_length, measure, segments
from app.outbox.delivery import PermanentError, TransientError, UncertainError
from tests.channels.conftest import FakeProvider, Reply, bare_app, message

PATH = "/2010-04-01/Accounts/AC0123456789/Messages.json"


def transport(base: str, **kw: object) -> SmsTransport:
    options: dict[str, object] = {"api_url": base + PATH, "sender": "+15005550006",
                                  "account_sid": "AC0123456789", "api_key": "clave-secreta",
                                  "connect_timeout": 1.0, "read_timeout": 0.5}
    options.update(kw)
    return SmsTransport(**options)  # type: ignore[arg-type]


def twilio_error(status: int, code: int, text: str) -> Reply:
    return Reply(status, {"code": code, "message": text,
                          "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})


# --- the exact request ---------------------------------------------------------------------------


def test_message_is_posted_form_encoded_with_basic_auth(sms_api: FakeProvider) -> None:
    body = "Taller de apresto en Ñuñoa, martes 10:00. Inscríbase: https://puente.example/t/SM1"
    sent = transport(sms_api.url).send(message(channel="sms", body_text=body))

    got = sms_api.only()
    assert got.method == "POST"
    assert got.path == PATH
    assert got.query == {}
    expected_auth = base64.b64encode(b"AC0123456789:clave-secreta").decode("ascii")
    assert got.headers["authorization"] == f"Basic {expected_auth}"
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.form() == {"To": "+56987654321", "From": "+15005550006", "Body": body}
    assert sent.transport == "sms-http"
    assert sent.provider_message_id == "SM0123456789abcdef0123456789abcdef"


def test_a_number_typed_without_country_code_goes_as_e164(sms_api: FakeProvider) -> None:
    transport(sms_api.url).send(message(recipient="9 8765 4321"))
    assert sms_api.only().form()["To"] == "+56987654321"


def test_a_body_over_the_segment_limit_is_refused_before_calling(sms_api: FakeProvider) -> None:
    with pytest.raises(PermanentError, match="4 partes y el máximo permitido es 3"):
        transport(sms_api.url).send(message(body_text="a" * (153 * 3 + 1)))
    assert sms_api.requests == []


# --- what the provider answers -------------------------------------------------------------------


def test_refusal_carries_the_providers_message_and_code(sms_api: FakeProvider) -> None:
    sms_api.script(twilio_error(400, 21211, "The 'To' number +5698765 is not a valid phone number."))
    with pytest.raises(PermanentError) as info:
        transport(sms_api.url).send(message())
    assert str(info.value) == ("SMS rechazó el envío: The 'To' number +5698765 is not a valid phone "
                               "number. (código 21211)")
    assert isinstance(info.value, ChannelPermanentError) and info.value.code == "21211"


def test_bad_credentials_are_permanent(sms_api: FakeProvider) -> None:
    sms_api.script(twilio_error(401, 20003, "Authenticate"))
    with pytest.raises(PermanentError, match="Authenticate"):
        transport(sms_api.url).send(message())


def test_429_with_an_http_date_retry_after_is_transient_with_the_delay(sms_api: FakeProvider) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    sms_api.script(Reply(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": when}))
    with pytest.raises(TransientError) as info:
        transport(sms_api.url).send(message())
    assert isinstance(info.value, ChannelTransientError)
    assert info.value.retry_after is not None and 100 < info.value.retry_after <= 120


def test_429_without_retry_after_has_no_delay(sms_api: FakeProvider) -> None:
    sms_api.script(Reply(429, {"code": 20429, "message": "Too Many Requests"}))
    with pytest.raises(ChannelTransientError) as info:
        transport(sms_api.url).send(message())
    assert info.value.retry_after is None


def test_5xx_is_transient(sms_api: FakeProvider) -> None:
    sms_api.script(Reply(500, {"code": 20500, "message": "Internal Server Error"}))
    with pytest.raises(TransientError, match="falla temporal"):
        transport(sms_api.url).send(message())


def test_connection_refused_is_transient(closed_port: int) -> None:
    with pytest.raises(TransientError, match="Connection refused"):
        transport(f"http://127.0.0.1:{closed_port}").send(message())


def test_read_timeout_after_sending_is_uncertain(sms_api: FakeProvider) -> None:
    sms_api.script(Reply(201, delay=1.5))
    with pytest.raises(UncertainError):
        transport(sms_api.url, read_timeout=0.3).send(message())
    assert len(sms_api.requests) == 1


def test_accepted_answer_that_is_not_json_is_uncertain(sms_api: FakeProvider) -> None:
    sms_api.script(Reply(201, "Created"))
    with pytest.raises(UncertainError, match="no se puede leer"):
        transport(sms_api.url).send(message())


def test_accepted_answer_without_sid_is_uncertain(sms_api: FakeProvider) -> None:
    sms_api.script(Reply(201, {"status": "queued"}))
    with pytest.raises(UncertainError, match="identificador"):
        transport(sms_api.url).send(message())


# --- segments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "expected"), [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3),
                                                  (459, 3), (460, 4)])
def test_gsm7_takes_160_alone_and_153_per_part(length: int, expected: int) -> None:
    assert segments("a" * length) == expected


@pytest.mark.parametrize(("length", "expected"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3),
                                                  (202, 4)])
def test_ucs2_takes_70_alone_and_67_per_part(length: int, expected: int) -> None:
    assert segments("ú" * length) == expected


def test_extension_characters_count_twice() -> None:
    assert measure("€" * 80).units == 160 and segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    assert segments("{[~]}|^\\") == 1 and measure("{[~]}|^\\").units == 16


def test_an_escape_pair_is_never_split_between_parts() -> None:
    # 152 + 2 would straddle the first part's 153 septets: the € moves to the second part.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 151 + "€" + "a" * 153) == 2


def test_an_emoji_counts_two_units_and_is_never_split() -> None:
    assert measure("😀").encoding == "UCS-2" and measure("😀").units == 2
    assert segments("😀" * 35) == 1
    assert segments("😀" * 36) == 2
    assert segments("a" + "😀" * 33 + "b" * 66) == 2  # 67 = a + 33 emoji; 66 b's fit the second


GSM7_ACCENTED = "éùìòÇØøÅåÄÖÑÜ§¿äöñüàÉ¡"
NOT_GSM7 = "áíóúÁÍÓÚç"


@pytest.mark.parametrize("char", list(GSM7_ACCENTED))
def test_characters_of_the_gsm_table_keep_gsm7(char: str) -> None:
    assert measure(f"Taller {char}").encoding == "GSM-7"


@pytest.mark.parametrize("char", list(NOT_GSM7))
def test_characters_outside_the_gsm_table_force_ucs2(char: str) -> None:
    length = measure(f"Taller {char}")
    assert length.encoding == "UCS-2"
    assert length.non_gsm == (char,)


def test_spanish_words() -> None:
    assert measure("Ñuñoa, señalética, Peñalolén").encoding == "GSM-7"
    assert measure("Perú").encoding == "UCS-2"
    assert measure("Inscripción").encoding == "UCS-2"


# --- check_length, for the campaign editor ------------------------------------------------------


def test_a_text_within_the_limit_has_no_problem() -> None:
    assert check_length("a" * 459) is None
    assert check_length("ó" * 201) is None


def test_a_text_over_the_limit_says_how_much_to_cut() -> None:
    assert check_length("a" * 470) == ("El SMS ocupa 4 partes y el máximo permitido es 3: acórtelo en unos "
                                       "11 caracteres.")


def test_the_message_names_the_characters_that_force_unicode() -> None:
    text = "Inscripción abierta para el taller de currículum. " * 5
    problem = check_length(text)
    assert problem is not None
    assert "ó" in problem and "í" in problem
    assert "«a» en vez de «á»" in problem
    assert check_length(text.replace("ó", "o").replace("í", "i")) is None


def test_an_empty_text_is_a_problem() -> None:
    assert check_length("   ") == "El SMS está vacío."


def test_the_limit_comes_from_the_setting() -> None:
    app = bare_app(SMS_MAX_SEGMENTS=1)
    with app.app_context():
        problem = check_length("a" * 161)
    assert problem is not None and "máximo permitido es 1" in problem
    assert check_length("a" * 161) is None  # default 3 outside an app
    assert check_length("a" * 161, max_segments=1) is not None
