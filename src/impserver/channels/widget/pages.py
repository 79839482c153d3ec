"""The widget's files (iframe page, loader script) and the demo website that embeds it."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from impserver.core.http import Text
from impserver.domains.resources.models import KIND_WEBSITE, Resource
from impserver.domains.resources.schemas import normalise_origin
from impserver.services import Services, get_services
from impserver.web import static_file

router = APIRouter(include_in_schema=False)


def _dist(services: Services) -> Path:
    return services.settings.resolved_web_dist


def _script(services: Services, request: Request, name: str) -> Response:
    path = _dist(services) / "widget" / name
    if not path.is_file():
        return Response("/* the widget is not built: run make run */", media_type="text/javascript")
    return static_file(
        path,
        request.headers.get("accept-encoding", ""),
        media_type="text/javascript",
        headers={"Cache-Control": "max-age=300"},
    )


@router.get("/widget/loader.js")
async def loader(request: Request, services: Services = Depends(get_services)) -> Response:
    return _script(services, request, "loader.js")


@router.get("/widget/cobrowse.js")
async def cobrowse_recorder(
    request: Request, services: Services = Depends(get_services)
) -> Response:
    """The co-browsing recorder, fetched by the loader only once the client allows sharing."""
    return _script(services, request, "cobrowse.js")


def frame_ancestors(origins: list[str]) -> list[str]:
    """The stored origins that are plain scheme://host[:port]. Origins are checked when saved;
    this keeps one saved before that check (or written to the database by hand) from adding
    directives or sources to the header."""
    allowed = []
    for origin in origins:
        try:
            allowed.append(normalise_origin(origin))
        except ValueError:
            continue
    return allowed


@router.get("/widget/frame")
async def frame(
    request: Request,
    key: Annotated[Text, Query(max_length=64)],
    services: Services = Depends(get_services),
) -> Response:
    """The chat UI inside the iframe; only the resource's own sites may frame it."""
    async with services.db.read() as session:
        resource = await session.scalar(select(Resource).where(Resource.public_key == key))
    page = _dist(services) / "widget.html"
    if (
        resource is None
        or resource.kind != KIND_WEBSITE
        or resource.deleted_at is not None
        or not page.is_file()
    ):
        # The chat's own texts are not loaded here: the one sentence in the page's language.
        russian = request.query_params.get("lang", "").startswith("ru")
        notice = "Этот чат недоступен." if russian else "This chat is not available."
        return HTMLResponse(f"<p>{notice}</p>", status_code=404)
    # Only the sites the administrator listed; none listed means no site yet, not every site.
    ancestors = " ".join(frame_ancestors(resource.site_origins)) or "'none'"
    csp = (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws: wss:; "
        f"frame-ancestors {ancestors}; base-uri 'none'; object-src 'none'"
    )
    # X-Frame-Options cannot list origins; the CSP above governs framing instead.
    return static_file(
        page,
        request.headers.get("accept-encoding", ""),
        media_type="text/html",
        headers={
            "Content-Security-Policy": csp,
            "X-Frame-Options": "",
            "Cache-Control": "no-cache",
        },
    )


DEMO_PAGE = """<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Demo shop</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }}
 header {{ background: #2f3e46; color: #fff; padding: 16px 24px; display: flex; gap: 24px; }}
 header a {{ color: #cad2c5; }}
 main {{ max-width: 760px; margin: 24px auto; padding: 0 16px; }}
 label {{ display: block; margin: 12px 0 4px; }}
 input {{ padding: 6px; width: 280px; }}
 .card {{ background: #fff; border: 1px solid #ddd; border-radius: 8px;
          padding: 16px; margin: 16px 0; }}
</style>
</head>
<body>
<header><strong>Demo shop</strong>
<a href="/demo">Главная</a><a href="/demo/page-2">Доставка</a></header>
<main>
{body}
</main>
<script src="/widget/loader.js" data-imp-key="{key}" async></script>
</body>
</html>"""

DEMO_HOME = """<h1>Добро пожаловать в демо-магазин</h1>
<p>Внизу справа — чат с поддержкой. Напишите сообщение или выберите тему.</p>
<div class="card">
  <h2>Оформление заказа</h2>
  <form>
    <label for="name">Имя</label><input id="name" name="name" autocomplete="name">
    <label for="email">E-mail</label><input id="email" name="email" type="email">
    <label for="password">Пароль</label><input id="password" name="password" type="password">
    <label for="card">Номер карты</label><input id="card" name="card" data-private>
  </form>
</div>
<div class="card">
  <p>Товаров в корзине: <span id="counter">0</span></p>
  <button id="add" type="button">Добавить в корзину</button>
</div>
<script src="/demo/shop.js"></script>"""

DEMO_SECOND = """<h1>Доставка</h1>
<p>Доставляем по всей стране за 1–3 дня. Самовывоз — бесплатно.</p>
<div class="card"><p>Вопросы о доставке задавайте в чате.</p></div>"""

DEMO_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-src 'self'; frame-ancestors 'self'"
)

SHOP_JS = """document.querySelector('form')?.addEventListener('submit', function (event) {
  event.preventDefault();
});
document.getElementById('add')?.addEventListener('click', function () {
  var counter = document.getElementById('counter');
  counter.textContent = String(Number(counter.textContent) + 1);
});"""


async def _demo_key(services: Services, key: str | None) -> str:
    if key:
        return key
    async with services.db.read() as session:
        resource = await session.scalar(
            select(Resource)
            .where(Resource.kind == KIND_WEBSITE)
            .where(Resource.deleted_at.is_(None))
            .order_by(Resource.id)
            .limit(1)
        )
    return resource.public_key if resource else ""


def _demo(title: str, body: str, key: str) -> HTMLResponse:
    return HTMLResponse(
        DEMO_PAGE.format(title=html.escape(title), body=body, key=html.escape(key)),
        headers={
            "Content-Security-Policy": DEMO_CSP,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.get("/demo")
async def demo_home(
    key: Annotated[Text | None, Query(max_length=64)] = None,
    services: Services = Depends(get_services),
) -> HTMLResponse:
    return _demo("Главная", DEMO_HOME, await _demo_key(services, key))


@router.get("/demo/page-2")
async def demo_second(
    key: Annotated[Text | None, Query(max_length=64)] = None,
    services: Services = Depends(get_services),
) -> HTMLResponse:
    return _demo("Доставка", DEMO_SECOND, await _demo_key(services, key))


@router.get("/demo/shop.js")
async def demo_script() -> Response:
    return Response(SHOP_JS, media_type="text/javascript")
