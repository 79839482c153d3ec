"""Serving the built workspace single-page app, and its files compressed."""

from __future__ import annotations

import gzip
import mimetypes
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import Scope

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>IMP</title>
<p>The workspace has not been built yet: run <code>make run</code>.</p>"""

# Paths that belong to the server, never to the single-page app's client-side routes.
SERVER_PREFIXES = ("api/", "ws", "files/", "widget/", "openapi.json", "docs", "redoc")


COMPRESSIBLE = frozenset({".js", ".css", ".html", ".svg", ".json", ".map", ".txt"})
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=512)
def _gzipped(path: str, modified_ns: int) -> bytes:
    # Keyed by modification time, so a rebuilt file is compressed afresh.
    return gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0)


def static_file(
    path: Path,
    accept_encoding: str,
    *,
    media_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A built file, gzip-compressed once and kept in memory when the browser accepts it: the
    widget is fetched by every visitor of every site, so its bytes matter."""
    media_type = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    all_headers = {**(headers or {}), "Vary": "Accept-Encoding"}
    if path.suffix in COMPRESSIBLE and "gzip" in accept_encoding.lower():
        body = _gzipped(str(path), path.stat().st_mtime_ns)
        all_headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=media_type, headers=all_headers)
    return FileResponse(path, media_type=media_type, headers=all_headers)


class CompressedStaticFiles(StaticFiles):
    """Hashed build assets: compressed, and cached by browsers for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        accept = Headers(scope=scope).get("accept-encoding", "")
        return static_file(
            Path(response.path),
            accept,
            media_type=response.media_type,
            headers={"Cache-Control": IMMUTABLE},
        )


def mount_workspace(app: FastAPI, dist: Path) -> None:
    assets = dist / "assets"
    if assets.is_dir():
        app.mount("/assets", CompressedStaticFiles(directory=assets), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def workspace(path: str, request: Request) -> Response:
        if path.startswith(SERVER_PREFIXES):
            return Response(
                '{"detail":"Not found.","code":"not_found"}', 404, media_type="application/json"
            )
        candidate = (dist / path).resolve()
        accept = request.headers.get("accept-encoding", "")
        if path and candidate.is_file() and candidate.is_relative_to(dist):
            return static_file(candidate, accept)
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return static_file(index, accept, headers={"Cache-Control": "no-cache"})
