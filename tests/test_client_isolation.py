from tests.conftest import login


def test_two_clients_in_one_test_see_their_own_user(app, factory):
    a, b = factory.user(name="Ana"), factory.user(name="Beto")
    ca, cb = app.test_client(), app.test_client()
    login(ca, a.email)
    login(cb, b.email)
    assert "Ana" in ca.get("/cuenta/").get_data(as_text=True)
    assert "Beto" in cb.get("/cuenta/").get_data(as_text=True)
