"""HTTP middleware: security headers and refusal of cross-site writes."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Scripts only from IMP itself. Images, styles and fonts may come from anywhere because the
# co-browsing window replays the client's page, which loads them from the client's website.
WORKSPACE_CSP = (
    "default-src 'self'; img-src 'self' data: blob: https: http:; media-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline' https: http:; font-src 'self' data: https: http:; "
    "script-src 'self'; connect-src 'self' ws: wss:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


class SecurityHeaders:
    """Adds headers to every response; paths that set their own (the widget) keep them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                defaults = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                    b"content-security-policy": WORKSPACE_CSP.encode(),
                    b"x-frame-options": b"DENY",
                }
                headers += [(k, v) for k, v in defaults.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RefuseCrossSiteWrites:
    """Browsers send Origin on cross-site writes; a write from another site's page is refused.

    This backs up the CSRF token and also covers the login form, which has no session yet.
    """

    def __init__(self, app: ASGIApp, public_base_url: str) -> None:
        self.app = app
        self.public_host = urlsplit(public_base_url).netloc.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = dict(scope.get("headers", []))
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1").lower()
            if origin and origin != "null":
                origin_host = urlsplit(origin).netloc.lower()
                if origin_host not in (host, self.public_host):
                    body = b'{"detail":"Cross-site request refused.","code":"cross_site"}'
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 403,
                            "headers": [(b"content-type", b"application/json")],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
