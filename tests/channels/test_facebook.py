"""Facebook page posts and page-token checks against a local server speaking the Graph API."""

from __future__ import annotations

import pytest

from app.channels.errors import ChannelPermanentError
from app.channels.facebook import FacebookPageClient, PageInfo, check_token, post_to_page
from app.outbox.delivery import PermanentError, TransientError, UncertainError
from tests.channels.conftest import FakeProvider, Reply, bare_app

PAGE_ID = "1029384756"
PAGE_TOKEN = "EAAPage-token-de-prueba"
TOKEN_MESSAGE = ("El token de la página no es válido o expiró: genere uno nuevo en Meta for Developers "
                 "y vuelva a guardarlo.")


def client(base: str, **kw: object) -> FacebookPageClient:
    options: dict[str, object] = {"graph_base": base, "api_version": "v21.0", "connect_timeout": 1.0,
                                  "read_timeout": 0.5}
    options.update(kw)
    return FacebookPageClient(**options)  # type: ignore[arg-type]


def expired_token(subcode: int = 463) -> Reply:
    return Reply(400, {"error": {
        "message": "Error validating access token: Session has expired on Tuesday, 03-Jun-25.",
        "type": "OAuthException", "code": 190, "error_subcode": subcode, "fbtrace_id": "A1b2C3"}})


# --- posting --------------------------------------------------------------------------------------


def test_post_goes_to_the_page_feed_with_message_link_and_token_in_the_body(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": f"{PAGE_ID}_5550001"}))
    text = "Taller de apresto laboral en Ñuñoa: martes 3 de junio, 10:00. ¡Inscríbete!"

    post_id = client(graph.url).post(PAGE_ID, PAGE_TOKEN, text, "https://puente.example/t/FB1")

    got = graph.only()
    assert got.method == "POST"
    assert got.path == f"/v21.0/{PAGE_ID}/feed"
    assert got.query == {}  # the token never travels in the URL
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.form() == {"message": text, "link": "https://puente.example/t/FB1",
                          "access_token": PAGE_TOKEN}
    assert post_id == f"{PAGE_ID}_5550001"


def test_post_without_link_sends_no_link_field(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": f"{PAGE_ID}_5550002"}))
    client(graph.url).post(PAGE_ID, PAGE_TOKEN, "Solo texto")
    assert graph.only().form() == {"message": "Solo texto", "access_token": PAGE_TOKEN}


def test_post_with_an_expired_token_says_so_in_spanish(graph: FakeProvider) -> None:
    graph.script(expired_token())
    with pytest.raises(PermanentError) as info:
        client(graph.url).post(PAGE_ID, PAGE_TOKEN, "Hola")
    assert str(info.value) == TOKEN_MESSAGE
    assert isinstance(info.value, ChannelPermanentError) and info.value.code == "190"


def test_post_without_permission_names_the_permissions(graph: FakeProvider) -> None:
    graph.script(Reply(403, {"error": {"message": "(#200) The user hasn't authorized the application",
                                       "type": "OAuthException", "code": 200}}))
    with pytest.raises(PermanentError, match="pages_manage_posts"):
        client(graph.url).post(PAGE_ID, PAGE_TOKEN, "Hola")


def test_page_rate_limit_is_transient(graph: FakeProvider) -> None:
    graph.script(Reply(400, {"error": {"message": "(#32) Page request limit reached", "code": 32}}))
    with pytest.raises(TransientError):
        client(graph.url).post(PAGE_ID, PAGE_TOKEN, "Hola")


def test_post_read_timeout_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": "x"}, delay=1.5))
    with pytest.raises(UncertainError, match="puede haber salido"):
        client(graph.url, read_timeout=0.3).post(PAGE_ID, PAGE_TOKEN, "Hola")


def test_post_connection_refused_is_transient(closed_port: int) -> None:
    with pytest.raises(TransientError):
        client(f"http://127.0.0.1:{closed_port}").post(PAGE_ID, PAGE_TOKEN, "Hola")


def test_post_answer_without_id_is_uncertain(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"success": True}))
    with pytest.raises(UncertainError, match="revise la página"):
        client(graph.url).post(PAGE_ID, PAGE_TOKEN, "Hola")


def test_post_to_page_reads_the_graph_address_from_the_settings(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": f"{PAGE_ID}_7"}))
    app = bare_app(FACEBOOK_GRAPH_BASE=graph.url, FACEBOOK_API_VERSION="v20.0")
    with app.app_context():
        assert post_to_page(PAGE_ID, PAGE_TOKEN, "Hola", "https://puente.example/t/FB2") == f"{PAGE_ID}_7"
    assert graph.only().path == f"/v20.0/{PAGE_ID}/feed"


# --- checking a token before storing it ------------------------------------------------------------


def test_check_token_asks_who_the_token_speaks_for(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": PAGE_ID, "name": "OMIL Ñuñoa"}))

    info = client(graph.url).check_token(PAGE_ID, PAGE_TOKEN)

    got = graph.only()
    assert got.method == "GET"
    assert got.path == "/v21.0/me"
    assert got.query == {"fields": ["id,name"]}
    assert got.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert PAGE_TOKEN not in got.path
    assert info == PageInfo(id=PAGE_ID, name="OMIL Ñuñoa")


def test_invalid_page_token_is_the_clear_spanish_message(graph: FakeProvider) -> None:
    graph.script(Reply(400, {"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                                       "type": "OAuthException", "code": 190, "fbtrace_id": "Zz9"}}))
    with pytest.raises(PermanentError) as info:
        client(graph.url).check_token(PAGE_ID, "basura")
    assert str(info.value) == TOKEN_MESSAGE


def test_expired_page_token_is_the_clear_spanish_message(graph: FakeProvider) -> None:
    graph.script(expired_token())
    with pytest.raises(PermanentError, match="no es válido o expiró"):
        check_token(PAGE_ID, PAGE_TOKEN, client=client(graph.url))


def test_a_token_of_another_page_is_refused(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": "999", "name": "Otra página"}))
    with pytest.raises(PermanentError, match="otra página"):
        client(graph.url).check_token(PAGE_ID, PAGE_TOKEN)


def test_an_empty_token_is_refused_without_calling(graph: FakeProvider) -> None:
    with pytest.raises(PermanentError, match="no es válido o expiró"):
        client(graph.url).check_token(PAGE_ID, "")
    assert graph.requests == []


def test_check_token_with_graph_down_is_transient(graph: FakeProvider) -> None:
    graph.script(Reply(500, {"error": {"message": "An unknown error occurred", "code": 1}}))
    with pytest.raises(TransientError):
        client(graph.url).check_token(PAGE_ID, PAGE_TOKEN)


def test_malformed_answer_to_a_token_check_is_not_taken_as_valid(graph: FakeProvider) -> None:
    graph.script(Reply(200, "<html>login</html>"))
    with pytest.raises(TransientError, match="intente de nuevo"):
        client(graph.url).check_token(PAGE_ID, PAGE_TOKEN)


def test_a_token_check_that_times_out_can_simply_be_tried_again(graph: FakeProvider) -> None:
    graph.script(Reply(200, {"id": PAGE_ID}, delay=1.5))
    with pytest.raises(TransientError):
        client(graph.url, read_timeout=0.3).check_token(PAGE_ID, PAGE_TOKEN)
