from tests.conftest import login


def test_home_page_answers_in_spanish(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert 'lang="es-CL"' in resp.get_data(as_text=True)


def test_healthz_says_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_migrated_database(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"]["database"] == "ok"


def test_staff_can_log_in_and_reach_gestion(client, factory):
    user = factory.user()
    resp = login(client, user.email)
    assert resp.status_code == 302
    assert client.get("/gestion/").status_code == 200
