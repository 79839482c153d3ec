"""Browser tests: Debian's Chromium driven by Playwright against a live IMP with the built UI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from impserver.demo import seed_demo
from tests.harness import LiveServer, free_port

CHROMIUM = "/usr/bin/chromium"
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
    "--auto-accept-this-tab-capture",
]
# How long a step waits for the page (an action, a navigation, an expect) before it fails. Most
# steps wait on the server: a round trip, an event over the socket. On a machine busy with the
# rest of the suite running in parallel these can take several seconds, past Playwright's own
# 5 s default for expect; a step that works still ends as soon as it holds.
WAIT_MS = 15_000


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session", autouse=True)
def patient_expect() -> None:
    """expect() has a default of its own, which a context's default timeout does not change."""
    expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def app_server(settings_factory: object) -> Iterator[LiveServer]:
    """IMP on SQLite with the demo data and the built workspace."""
    if not (WEB_DIST / "index.html").exists():
        pytest.fail("The workspace is not built: run `make test` (it builds web/ first)")
    settings = settings_factory(
        "sqlite",
        web_dist=WEB_DIST,
        ws_ping_seconds=20.0,  # type: ignore[operator]
        ws_dead_after_seconds=60.0,
    )
    live = LiveServer(settings, free_port())
    live.settings.public_base_url = f"http://127.0.0.1:{live.port}"
    live.start()
    live.run(seed_demo(live.services, site_origin=f"http://127.0.0.1:{live.port}", language="en"))
    yield live
    live.stop()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        context = browser.new_context(**options)  # type: ignore[arg-type]
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def logged_in(
    app_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> Callable[..., Page]:
    """A page of a fresh browser context, logged in through the login form."""

    def log_in(login: str, password: str | None = None, *, locale: str = "ru-RU") -> Page:
        context = new_context(locale=locale)
        page = context.new_page()
        page.goto(f"{app_server.base_url}/login")
        page.get_by_label(["Логин", "Login"][locale.startswith("en")]).fill(login)
        page.get_by_label(["Пароль", "Password"][locale.startswith("en")]).fill(
            password or f"{login}-demo"
        )
        page.get_by_role("button", name=["Войти", "Log in"][locale.startswith("en")]).click()
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    return log_in
