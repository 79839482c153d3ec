"""Co-browsing figures: time until a 2,000-node page shows in the employee's window after Allow,
and how long a change on the client's page takes to show there (loopback, headless Chromium).

    uv run python bench/cobrowse.py [--runs 5]

Prints a table; see bench/README.md for recorded results.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import LiveServer, free_port  # noqa: E402

from impserver.core.config import Settings  # noqa: E402
from impserver.core.migrations import upgrade_database  # noqa: E402
from impserver.demo import seed_demo  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
NODES = 2000


def one_run(browser, server: LiveServer) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    employee = browser.new_context(locale="ru-RU").new_page()
    employee.goto(f"{server.base_url}/login")
    employee.get_by_label("Логин").fill("anna")
    employee.get_by_label("Пароль").fill("anna-demo")
    employee.get_by_role("button", name="Войти").click()
    employee.wait_for_url("**/queue")

    client = browser.new_context(locale="ru-RU").new_page()
    client.goto(f"{server.base_url}/demo")
    # Make the page big: NODES elements in all.
    client.evaluate(
        """(total) => {
          const box = document.createElement('section'); box.id = 'bulk'
          const have = document.getElementsByTagName('*').length
          for (let i = 0; i < total - have - 1; i++) {
            const item = document.createElement(i % 2 ? 'span' : 'div')
            item.textContent = 'item ' + i
            box.append(item)
          }
          document.body.append(box)
        }""",
        NODES,
    )
    client.get_by_role("button", name="Чат с поддержкой").click()
    frame = client.frame_locator("#imp-widget-frame")
    frame.get_by_role("button", name="Sales").click()
    frame.get_by_label("Сообщение").fill("Покажу страницу")
    frame.get_by_role("button", name="Отправить").click()
    employee.get_by_role("link", name="Очередь").click()
    employee.get_by_role("listitem").filter(has_text="Покажу страницу").get_by_role(
        "button", name="Принять"
    ).click()
    employee.wait_for_url("**/requests/*")
    with employee.expect_popup() as popup:
        employee.get_by_role("button", name="Совместный просмотр").click()
    window = popup.value
    replay = window.frame_locator(".cobrowse-stage iframe")

    started = time.perf_counter()
    frame.get_by_role("button", name="Разрешить").click()
    replay.locator("#bulk span").last.wait_for(state="attached", timeout=20_000)
    first_view = time.perf_counter() - started

    latencies = []
    for n in range(10):
        text = f"change {n}"
        begin = time.perf_counter()
        client.evaluate("(t) => { document.querySelector('h1').textContent = t }", text)
        replay.get_by_role("heading", name=text).wait_for(timeout=10_000)
        latencies.append(time.perf_counter() - begin)
    employee.context.close()
    client.context.close()
    window.context.close() if not window.is_closed() else None
    return first_view, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp())
    port = free_port()
    settings = Settings(
        data_dir=data_dir,
        secret_key="bench",
        web_dist=ROOT / "web" / "dist",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    upgrade_database(settings)
    server = LiveServer(settings, port).start()
    server.run(seed_demo(server.services, site_origin=server.base_url, language="en"))
    firsts: list[float] = []
    changes: list[float] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for _ in range(args.runs):
                first, latencies = one_run(browser, server)
                firsts.append(first)
                changes.extend(latencies)
            browser.close()
    finally:
        server.stop()
    print(f"co-browsing, {NODES}-node page, {args.runs} runs, loopback, SQLite single instance")
    rows = [
        ("Allow → page shown to employee (s)", statistics.median(firsts), max(firsts), "{:.3f}"),
        (
            "client change → shown to employee (ms)",
            statistics.median(changes) * 1000,
            max(changes) * 1000,
            "{:.0f}",
        ),
    ]
    print(f"{'measure':<42}{'median':>10}{'max':>10}")
    for name, median, worst, fmt in rows:
        print(f"{name:<42}{fmt.format(median):>10}{fmt.format(worst):>10}")


if __name__ == "__main__":
    main()
