"""Domain errors and their translation into readable JSON responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from impserver.core.db import database_unreachable

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the person can act on. ``detail`` is the English text (the fallback);
    ``code`` is stable and the UI translates it, filling in ``params`` (names, numbers; a
    parameter ending in ``_bytes`` is a size the UI writes in its own units)."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.params = params or {}
        if code:
            self.code = code

    def body(self) -> dict[str, Any]:
        """The JSON an HTTP response or a socket error frame carries."""
        body: dict[str, Any] = {"detail": self.detail, "code": self.code}
        if self.params:
            body["params"] = self.params
        return body


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "too_large"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, code=code, params=params)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "unavailable"


# Errors raised by the framework itself (an unknown address, a wrong method) by status.
HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


def _describe_validation_error(error: dict) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location)
    message = str(error.get("msg", "invalid value"))
    return f"{field}: {message}" if field else message


def domain_error_response(exc: DomainError) -> JSONResponse:
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)


def database_error_response(exc: DBAPIError) -> JSONResponse:
    reason = str(exc.orig)
    if isinstance(exc, DataError) or ("out of" in reason and "range" in reason):
        log.info("refused data the database cannot store: %s", reason)
        return JSONResponse(
            {"detail": "A value in the request is out of range.", "code": "out_of_range"},
            status_code=422,
        )
    if isinstance(exc, IntegrityError):
        # Two requests wrote the same thing at the same moment (e.g. one send retried while
        # the first attempt was still being written): the loser's transaction was rolled
        # back, and trying again meets what the winner wrote.
        log.warning("write refused by a constraint: %s", reason)
        return JSONResponse(
            {
                "detail": "This conflicts with a change made at the same moment; please try again.",
                "code": "concurrent_change",
            },
            status_code=409,
        )
    if database_unreachable(exc):
        log.warning("database unreachable: %s", reason)
        return JSONResponse(
            {
                "detail": "The database cannot be reached right now. Please try again shortly.",
                "code": "database_unavailable",
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    log.error("database error: %s", reason)
    return JSONResponse({"detail": "Something went wrong.", "code": "internal"}, status_code=500)


def overflow_response() -> JSONResponse:
    # Ids and counts beyond what the database stores (e.g. /rooms/99999999999999999999) are bad
    # input, not a server failure: the transaction was rolled back, nothing was written.
    return JSONResponse(
        {"detail": "A number in the request is out of range.", "code": "out_of_range"},
        status_code=422,
    )


def error_response(exc: Exception) -> JSONResponse | None:
    """The answer to an error an action may raise, as the application's handlers give it; None
    for anything else (a bug, answered as a server error)."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, DBAPIError):
        return database_error_response(exc)
    if isinstance(exc, OverflowError):
        return overflow_response()
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        detail = "; ".join(_describe_validation_error(e) for e in exc.errors()) or "Invalid input"
        return JSONResponse(
            {"detail": detail, "code": "invalid", "errors": errors}, status_code=422
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return overflow_response()

    @app.exception_handler(DBAPIError)
    async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        return database_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {
                "detail": str(exc.detail),
                "code": HTTP_ERROR_CODES.get(exc.status_code, "http_error"),
            },
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
