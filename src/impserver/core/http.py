"""The HTTP boundary: security headers, refusal of cross-site writes, what a request may carry."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON bodies carry messages of at most 10,000 characters and lists of ids: a megabyte is far
# beyond any real one, and keeps a client from making the server buffer an endless body.
MAX_JSON_BODY_BYTES = 1024 * 1024
# Lifts the JSON limit on upload routes, which hold their form to the configured upload limit
# while it streams in (see rooms.api.read_upload_form).
UPLOAD_BODY_BYTES = 2**62


class ErrorRead(BaseModel):
    """Every refusal: a sentence for people and a code for programs."""

    detail: str
    code: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str | None = None


class InvalidRead(ErrorRead):
    """Invalid input; ``errors`` names each field that is wrong, when fields are the reason."""

    errors: list[FieldError] = Field(default_factory=list)


# What the error handlers (core/errors.py) answer, documented on every API router so that the
# OpenAPI document describes the real bodies rather than FastAPI's default validation error.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorRead, "description": "The request could not be read"},
    401: {"model": ErrorRead, "description": "Not signed in, or the visitor token is not valid"},
    403: {"model": ErrorRead, "description": "Not allowed"},
    404: {"model": ErrorRead, "description": "Not found, or not visible to the caller"},
    409: {"model": ErrorRead, "description": "In conflict with the current state"},
    422: {"model": InvalidRead, "description": "Invalid input"},
    429: {"model": ErrorRead, "description": "Too many requests; try again after Retry-After"},
    503: {"model": ErrorRead, "description": "The database cannot be reached right now"},
}

# Ids are 32-bit integer columns: a larger number names nothing, and is answered as such rather
# than sent to the database (where it would not fit the column).
LARGEST_ID = 2**31 - 1


def api_router(prefix: str, tag: str) -> APIRouter:
    """A router of the HTTP API: JSON bodies held to MAX_JSON_BODY_BYTES, refusals documented."""
    return APIRouter(
        prefix=prefix, tags=[tag], max_body_size=MAX_JSON_BODY_BYTES, responses=ERROR_RESPONSES
    )


def client_ip(request: Request) -> str:
    """The address a request came from: what the per-address rate limits count, and what a
    session records.

    Behind a proxy listed in IMP_TRUSTED_PROXIES, uvicorn (cli.serving_options) makes this the
    address the proxy names in X-Forwarded-For rather than the proxy's own; from any other peer
    forwarding headers are ignored. Empty when the peer is not known.
    """
    return request.client.host if request.client else ""


def origin_netloc(origin: str) -> str | None:
    """The host[:port] an Origin header names, in lower case; None when it names none.

    An Origin is whatever the sender put there: ``urlsplit`` raises on some (``http://[``), and
    such a value must be a refusal, not an error.
    """
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return None


NUL_MESSAGE = "text cannot contain the NUL character (U+0000)"


def contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(v) for v in value)
    return False


def _refuse_nul(value: str) -> str:
    if contains_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


# PostgreSQL cannot store U+0000 in text and no person types it: refusing it in every input
# keeps both databases alike and the error readable (instead of a failed write).
Text = Annotated[str, AfterValidator(_refuse_nul)]


class InputModel(BaseModel):
    """A request body: unknown fields are refused, and so is a NUL character in any text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value


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
            if (
                origin
                and origin != "null"
                and origin_netloc(origin) not in (host, self.public_host)
            ):
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
