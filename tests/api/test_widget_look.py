"""A website's chat made its own: the administrator chooses its colour, side, button label,
title, greeting, language and whether replies show who wrote them; the chat gets them with its
session."""

from __future__ import annotations

from impserver.domains.resources.models import KIND_TELEGRAM, Resource
from tests.api.test_requests import waiting_request
from tests.harness import LiveServer
from tests.widget import demo_site, visit

LOOK = {
    "colour": "#0B7A4B",
    "position": "left",
    "button_label": "Спросить магазин",
    "title": "Магазин «Ромашка»",
    "greeting": "Здравствуйте!\nОтвечаем с 9 до 21.",
    "language": "en",
    "show_employee": False,
}


def test_the_chat_looks_as_the_administrator_chose(server: LiveServer) -> None:
    admin = server.login("admin")
    site = demo_site(server)
    assert visit(server).session["resource"]["look"] == {
        "colour": "#3b5bdb",
        "position": "right",
        "button_label": "",
        "title": "",
        "greeting": "",
        "language": "auto",
        "show_employee": True,
    }
    saved = admin.http.patch(f"/api/admin/resources/{site['id']}", json={"widget_look": LOOK})
    assert saved.status_code == 200, saved.text
    assert saved.json()["widget_look"] == LOOK
    assert visit(server).session["resource"]["look"] == LOOK
    # Other changes to the website leave it as it is.
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"name": "Ромашка"})
    listed = admin.http.get("/api/admin/resources").json()
    assert next(r for r in listed if r["id"] == site["id"])["widget_look"] == LOOK


def test_a_look_that_does_not_fit_is_refused_naming_the_field(server: LiveServer) -> None:
    admin = server.login("admin")
    site = demo_site(server)
    path = f"/api/admin/resources/{site['id']}"
    for field, value in (
        ("colour", "red"),
        ("colour", "#12345"),
        ("colour", "url(javascript:alert(1))"),
        ("position", "top"),
        ("button_label", "к" * 41),
        ("title", "т" * 61),
        ("greeting", "п" * 501),
        ("language", "de"),
        ("show_employee", "yes"),
    ):
        refused = admin.http.patch(path, json={"widget_look": {**LOOK, field: value}})
        assert refused.status_code == 422, (field, value, refused.text)
        assert refused.json()["code"] == "invalid"
        assert field in refused.json()["detail"], refused.json()
    assert visit(server).session["resource"]["look"]["colour"] == "#3b5bdb"


def test_only_administrators_choose_and_only_for_websites(server: LiveServer) -> None:
    site = demo_site(server)
    anna = server.login("anna")
    refused = anna.http.patch(f"/api/admin/resources/{site['id']}", json={"widget_look": LOOK})
    assert refused.status_code == 403
    admin = server.login("admin")

    async def connect_a_bot() -> int:
        async with server.services.db.transaction() as uow:
            bot = Resource(kind=KIND_TELEGRAM, name="Бот", public_key="look-test-bot")
            uow.session.add(bot)
            await uow.session.flush()
            return bot.id

    bot_id = server.run(connect_a_bot())
    refused = admin.http.patch(f"/api/admin/resources/{bot_id}", json={"widget_look": LOOK})
    assert refused.status_code == 422
    assert refused.json()["code"] == "widget_look_websites_only"


def test_the_chat_records_the_language_the_website_chose_for_it(server: LiveServer) -> None:
    # The client's language is what the server speaks to them in (notices, the rating's
    # question): the chat's language, so the website's choice over the page's.
    admin = server.login("admin")
    anna = server.login("anna")
    site = demo_site(server)

    def recorded_language() -> str:
        visitor = visit(server, language="ru")
        request_id = waiting_request(visitor, "Sales", server)
        assert anna.http.post(f"/api/requests/{request_id}/accept").status_code == 200
        client_id = anna.http.get(f"/api/requests/{request_id}").json()["client"]["id"]
        return str(anna.http.get(f"/api/clients/{client_id}").json()["language"])

    assert recorded_language() == "ru"
    admin.http.patch(f"/api/admin/resources/{site['id']}", json={"widget_look": LOOK})
    assert recorded_language() == "en"
