"""Serving the built workspace single-page app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>IMP</title>
<p>The workspace has not been built yet: run <code>make run</code>.</p>"""

# Paths that belong to the server, never to the single-page app's client-side routes.
SERVER_PREFIXES = ("api/", "ws", "files/", "widget/", "openapi.json", "docs", "redoc")


def mount_workspace(app: FastAPI, dist: Path) -> None:
    assets = dist / "assets"
    if assets.is_dir():
        # Hashed file names: safe to cache for a long time.
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def workspace(path: str, request: Request) -> Response:
        if path.startswith(SERVER_PREFIXES):
            return Response('{"detail":"Not found."}', 404, media_type="application/json")
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist):
            return FileResponse(candidate)
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
