from __future__ import annotations

import time

from tests.harness import LiveServer


def test_login_sets_http_only_session_and_readable_csrf_cookie(server: LiveServer) -> None:
    client = server.client()
    response = client.post("/api/auth/login", json={"login": "Anna", "password": "anna-demo"})
    assert response.status_code == 200
    assert response.json()["login"] == "anna"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("imp_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("imp_csrf="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "HttpOnly" not in csrf_cookie
    assert client.get("/api/me").json()["name"] == "Анна Смирнова"


def test_wrong_password_is_a_readable_401(server: LiveServer) -> None:
    response = server.client().post("/api/auth/login", json={"login": "anna", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong login or password."


def test_unknown_login_looks_the_same_as_wrong_password(server: LiveServer) -> None:
    response = server.client().post("/api/auth/login", json={"login": "ghost", "password": "x"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong login or password."


def test_login_is_throttled_after_repeated_failures(server: LiveServer) -> None:
    client = server.client()
    limit = server.settings.login_attempts_per_login
    for _ in range(limit):
        assert (
            client.post("/api/auth/login", json={"login": "boris", "password": "bad"}).status_code
            == 401
        )
    blocked = client.post("/api/auth/login", json={"login": "boris", "password": "boris-demo"})
    assert blocked.status_code == 429
    assert "Too many login attempts" in blocked.json()["detail"]
    assert blocked.json()["code"] == "login_throttled"
    assert int(blocked.headers["Retry-After"]) > 0
    # Other people's logins are unaffected.
    assert (
        client.post("/api/auth/login", json={"login": "olga", "password": "olga-demo"}).status_code
        == 200
    )


def test_malformed_login_body_is_422_with_message(server: LiveServer) -> None:
    response = server.client().post("/api/auth/login", json={"login": 5})
    assert response.status_code == 422
    body = response.json()
    assert "password: Field required" in body["detail"]


def test_not_logged_in_gets_401(server: LiveServer) -> None:
    response = server.client().get("/api/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Please log in."


def test_writes_without_csrf_token_are_refused(server: LiveServer) -> None:
    anna = server.login("anna")
    del anna.http.headers["X-CSRF-Token"]
    response = anna.http.patch("/api/me", json={"theme": "dark"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf"
    anna.http.headers["X-CSRF-Token"] = "forged"
    assert anna.http.patch("/api/me", json={"theme": "dark"}).status_code == 403


def test_cross_site_writes_are_refused_even_for_login(server: LiveServer) -> None:
    response = server.client().post(
        "/api/auth/login",
        json={"login": "anna", "password": "anna-demo"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Cross-site request refused."


def test_logout_ends_the_session(server: LiveServer) -> None:
    anna = server.login("anna")
    assert anna.http.post("/api/auth/logout").status_code == 204
    assert anna.http.get("/api/me").status_code == 401


def test_session_expires_after_idle_time(backend: str, settings_factory: object) -> None:
    from impserver.demo import seed_demo
    from tests.harness import free_port

    settings = settings_factory(backend, session_idle_hours=1.5 / 3600)  # type: ignore[operator]
    live = LiveServer(settings, free_port()).start()
    try:
        live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
        anna = live.login("anna")
        assert anna.http.get("/api/me").status_code == 200
        time.sleep(2)
        assert anna.http.get("/api/me").status_code == 401
    finally:
        live.stop()


def test_security_headers_are_set(server: LiveServer) -> None:
    response = server.client().get("/api/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
