"""Who is calling: the employee behind the session cookie, with CSRF checks for writes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fastapi import Depends, Request
from sqlalchemy import bindparam, select

from impserver.core.clock import utcnow
from impserver.core.errors import Forbidden, NotAuthenticated
from impserver.core.security import secrets_match, token_digest
from impserver.domains.accounts import actions
from impserver.domains.accounts.models import Employee, EmployeeSession
from impserver.realtime.events import employee_key
from impserver.realtime.gateway import Connection
from impserver.services import Services, get_services

SESSION_COOKIE = "imp_session"
CSRF_COOKIE = "imp_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Refreshing the session row at most this often keeps reads from turning into writes.
TOUCH_INTERVAL = timedelta(minutes=1)


# Built once: every authenticated request runs it, and building a statement costs about as much
# CPU as running it.
_SESSION_AND_EMPLOYEE = (
    select(EmployeeSession, Employee)
    .join(Employee, Employee.id == EmployeeSession.employee_id)
    .where(EmployeeSession.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class Authenticated:
    employee: Employee
    token_hash: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class _KnownSession:
    """What a session check needs, as the database had it (kept in the auth cache)."""

    employee: Employee
    csrf_token: str
    expires_at: datetime
    last_seen_at: datetime


async def authenticate_token(services: Services, token: str | None) -> Authenticated | None:
    if not token:
        return None
    return await authenticate_session(services, token_digest(token))


async def authenticate_session(services: Services, token_hash: str) -> Authenticated | None:
    """The live session whose token has this digest, or None if it has ended (expired, logged
    out, revoked) or its employee was deactivated; read through the auth cache."""
    cache = services.auth_cache
    known: _KnownSession | None = cache.get(token_hash)
    if known is None:
        generation = cache.generation
        async with services.db.read() as session:
            row = (await session.execute(_SESSION_AND_EMPLOYEE, {"token_hash": token_hash})).first()
        if row is None:
            return None
        stored, employee = row
        known = _KnownSession(employee, stored.csrf_token, stored.expires_at, stored.last_seen_at)
        cache.put(token_hash, employee_key(employee.id), known, since=generation)
    now = utcnow()
    if known.expires_at <= now or not known.employee.is_active:
        return None
    expires_at = known.expires_at
    if now - known.last_seen_at > TOUCH_INTERVAL:
        generation = cache.generation
        expires_at = await actions.touch_session(services, token_hash)
        cache.put(
            token_hash,
            employee_key(known.employee.id),
            replace(known, expires_at=expires_at, last_seen_at=now),
            since=generation,
        )
    return Authenticated(known.employee, token_hash, known.csrf_token, expires_at)


async def session_expiry(services: Services, token_hash: str) -> datetime | None:
    """When a live session ends, or None if it has ended (expired, logged out, revoked)."""
    async with services.db.read() as session:
        stored = await session.get(EmployeeSession, token_hash)
    if stored is None or stored.expires_at <= utcnow():
        return None
    return stored.expires_at


async def current_auth(
    request: Request, services: Services = Depends(get_services)
) -> Authenticated:
    return await authenticate_request(services, request)


async def authenticate_request(services: Services, request: Request) -> Authenticated:
    """The employee's session behind a request, its CSRF token checked on writes."""
    auth = await authenticate_token(services, request.cookies.get(SESSION_COOKIE))
    if auth is None:
        raise NotAuthenticated("Please log in.", code="not_logged_in")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets_match(sent, auth.csrf_token):
            raise Forbidden("The request is missing its CSRF token; reload the page.", code="csrf")
    return auth


async def socket_sender(services: Services, connection: Connection) -> Employee:
    """The employee a command on a workspace socket acts for, checked as every HTTP request is.

    A socket lives for hours after the check made when it opened: its session may have ended
    since (expired, logged out, revoked) or its employee been deactivated, and an instance may
    not have closed the socket yet. A command that writes is let through only on a session that
    is live now, looked up through the same cache as a request's cookie.
    """
    if connection.employee_id is None:
        raise Forbidden(
            "Only employees send messages over this connection.", code="send_employees_only"
        )
    auth = await authenticate_session(services, connection.session_token_hash)
    if auth is None or auth.employee.id != connection.employee_id:
        raise NotAuthenticated("Your session has ended. Please log in again.", code="session_ended")
    connection.session_expires_at = auth.expires_at.timestamp()
    return auth.employee


async def current_employee(auth: Authenticated = Depends(current_auth)) -> Employee:
    return auth.employee


async def current_admin(employee: Employee = Depends(current_employee)) -> Employee:
    if not employee.is_admin:
        raise Forbidden("Only administrators can do this.", code="admins_only")
    return employee
