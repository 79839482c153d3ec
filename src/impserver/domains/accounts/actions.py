"""Employee accounts: logging in and out, preferences, and their administration."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import delete, select

from impserver.core.auth_cache import AUTH_CHANGED
from impserver.core.clock import utcnow
from impserver.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from impserver.core.security import (
    hash_password_async,
    new_token,
    token_digest,
    verify_password_async,
)
from impserver.core.unit_of_work import UnitOfWork
from impserver.domains.accounts import queries
from impserver.domains.accounts.avatars import make_avatar
from impserver.domains.accounts.events import AccessUpdated, MeUpdated
from impserver.domains.accounts.models import ROLE_ADMIN, Employee, EmployeeSession
from impserver.domains.accounts.schemas import (
    EmployeeCreate,
    EmployeeRead,
    EmployeeUpdate,
    LoginRequest,
    MeRead,
    MeUpdate,
)
from impserver.domains.resources.models import Queue, QueueAccess
from impserver.domains.rooms.messaging import file_too_large
from impserver.realtime.events import Audience
from impserver.services import Services

log = logging.getLogger(__name__)

# Gateway instructions: cut the sockets of all, one, or all but one of an employee's sessions.
REVOKE_ALL = "revoke:all"


def revoke_only(token_hash: str) -> str:
    return f"revoke:only:{token_hash}"


def revoke_except(token_hash: str) -> str:
    return f"revoke:except:{token_hash}"


@dataclass(frozen=True)
class NewSession:
    employee: Employee
    token: str
    csrf_token: str
    expires_at: datetime


def ensure_admin(actor: Employee | None) -> None:
    """``None`` is the trusted command line; an employee must have the admin role."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("Only administrators can do this.", code="admins_only")


def _wait_words(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{max(1, round(seconds / 60))} min"


def _login_throttled(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        f"Too many login attempts. Try again in {_wait_words(retry_after)}.",
        retry_after=retry_after,
        code="login_throttled",
        params={"seconds": retry_after},
    )


@dataclass(frozen=True)
class _LoginAdmission:
    """The counters one login attempt was admitted on, to return them if it succeeds."""

    pair_key: str
    ip_key: str
    everywhere_key: str


async def _admit_login(services: Services, login: str, ip: str) -> _LoginAdmission:
    """Count the attempt before the password is checked, or refuse it.

    Counting comes first and is atomic (core/ratelimit ``take``): checking counters, running
    Argon2 and counting afterwards let any number of simultaneous guesses through. Three limits:
    per login and address (a colleague typing at another desk cannot lock anyone out), per
    address, and per login from everywhere, which paces attempts instead of refusing them all.
    """
    settings = services.settings
    limiter = services.limiter
    window = settings.login_window_seconds
    admission = _LoginAdmission(f"login:{login}:{ip}", f"login-ip:{ip}", f"login-all:{login}")
    pair = await limiter.take(admission.pair_key, settings.login_attempts_per_login, window)
    if not pair.allowed:
        raise _login_throttled(pair.retry_after)
    by_ip = await limiter.take(admission.ip_key, settings.login_attempts_per_ip, window)
    if not by_ip.allowed:
        await limiter.give_back(admission.pair_key)
        raise _login_throttled(by_ip.retry_after)
    everywhere, _ = await limiter.hit(
        admission.everywhere_key, settings.login_backoff_window_seconds
    )
    beyond = everywhere - settings.login_backoff_after
    if beyond > 0:
        # One attempt per pace, the pace doubling with every attempt past the threshold.
        pace = min(settings.login_backoff_max_seconds, 2 ** min(beyond - 1, 16))
        paced = await limiter.take(f"login-pace:{login}", 1, pace)
        if not paced.allowed:
            await limiter.give_back(admission.pair_key)
            await limiter.give_back(admission.ip_key)
            await limiter.give_back(admission.everywhere_key)
            raise _login_throttled(paced.retry_after)
    return admission


async def log_in(services: Services, data: LoginRequest, *, ip: str, user_agent: str) -> NewSession:
    settings = services.settings
    admission = await _admit_login(services, data.login, ip)
    async with services.db.read() as session:
        employee = await session.scalar(select(Employee).where(Employee.login == data.login))
    valid = await verify_password_async(employee.password_hash if employee else None, data.password)
    if employee is None or not valid or not employee.is_active:
        # The attempt stays counted.
        raise NotAuthenticated("Wrong login or password.", code="wrong_credentials")
    token, csrf = new_token(), new_token(24)
    now = utcnow()
    expires_at = now + timedelta(hours=settings.session_idle_hours)
    async with services.db.transaction() as uow:
        uow.session.add(
            EmployeeSession(
                token_hash=token_digest(token),
                employee_id=employee.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                user_agent=user_agent[:300],
                ip=ip[:64],
            )
        )
    # A right password clears its own address's count for this login; on the shared counters it
    # just does not count (an office behind one address logs in many times a day).
    await services.limiter.reset(admission.pair_key)
    await services.limiter.give_back(admission.ip_key)
    await services.limiter.give_back(admission.everywhere_key)
    return NewSession(employee, token, csrf, expires_at)


async def log_out(services: Services, session_token: str) -> None:
    async with services.db.transaction() as uow:
        session = await uow.session.get(EmployeeSession, token_digest(session_token))
        if session is not None:
            await uow.session.delete(session)
            uow.control(revoke_only(session.token_hash), Audience.employee(session.employee_id))


async def update_preferences(services: Services, actor: Employee, data: MeUpdate) -> MeRead:
    async with services.db.transaction() as uow:
        employee = await uow.session.get(Employee, actor.id)
        if employee is None:
            raise NotFound("Employee not found.", code="employee_not_found")
        for field in data.model_fields_set:
            value = getattr(data, field)
            if field == "dnd_until" and value is not None and value <= utcnow():
                value = None
            if field != "dnd_until" and value is None:
                continue
            setattr(employee, field, value)
        me = MeRead.model_validate(employee)
        uow.emit(MeUpdated(employee=me), Audience.employee(employee.id))
        # Requests are authenticated from a cache that holds the employee's row.
        uow.control(AUTH_CHANGED, Audience.employee(employee.id))
    return me


async def set_avatar(services: Services, actor: Employee, picture: BinaryIO) -> MeRead:
    """Make the employee's photo from the picture they uploaded, in place of any earlier one."""
    limit = services.settings.avatar_max_bytes
    if picture.seek(0, 2) > limit:
        raise file_too_large(limit)
    picture.seek(0)
    square = await asyncio.to_thread(make_avatar, picture)
    key, _ = await services.files.save(_one_chunk(square), limit)
    try:
        me, earlier = await _change_avatar(services, actor, key)
    except BaseException:
        await services.files.delete(key)
        raise
    await _forget_photo(services, earlier)
    return me


async def remove_avatar(services: Services, actor: Employee) -> MeRead:
    me, earlier = await _change_avatar(services, actor, None)
    await _forget_photo(services, earlier)
    return me


async def _change_avatar(
    services: Services, actor: Employee, key: str | None
) -> tuple[MeRead, str | None]:
    """Point the employee at a new photo (or none); returns them and the photo they had."""
    async with services.db.transaction() as uow:
        employee = await _get_employee(uow, actor.id)
        earlier = employee.avatar_key
        employee.avatar_key = key
        me = MeRead.model_validate(employee)
        uow.emit(MeUpdated(employee=me), Audience.employee(employee.id))
        # Replies are signed from the cached row: the next one shows the new photo.
        uow.control(AUTH_CHANGED, Audience.employee(employee.id))
    return me, earlier


async def _forget_photo(services: Services, key: str | None) -> None:
    """Delete a photo nobody points at any more. Its address answers 404 already (it is looked
    up before it is served), so storage that fails now leaves only an unused file behind."""
    if key is None:
        return
    try:
        await services.files.delete(key)
    except DomainError as exc:
        log.warning("could not delete the replaced photo %s: %s", key, exc.detail)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def create_employee(
    services: Services, actor: Employee | None, data: EmployeeCreate
) -> EmployeeRead:
    ensure_admin(actor)
    # Hashing is slow on purpose: do it before the transaction, not while holding it.
    password_hash = await hash_password_async(data.password)
    async with services.db.transaction() as uow:
        exists = await uow.session.scalar(select(Employee.id).where(Employee.login == data.login))
        if exists is not None:
            raise Conflict(
                f"The login “{data.login}” is already taken.",
                code="login_taken",
                params={"login": data.login},
            )
        employee = Employee(
            login=data.login,
            name=data.name,
            password_hash=password_hash,
            role=data.role,
            language=data.language,
        )
        uow.session.add(employee)
        await uow.session.flush()
        return await queries.employee_read(uow.session, employee.id)


async def _get_employee(uow: UnitOfWork, employee_id: int) -> Employee:
    employee = await uow.session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("Employee not found.", code="employee_not_found")
    return employee


async def _revoke_sessions(uow: UnitOfWork, employee_id: int, keep_token_hash: str = "") -> None:
    await uow.session.execute(
        delete(EmployeeSession)
        .where(EmployeeSession.employee_id == employee_id)
        .where(EmployeeSession.token_hash != keep_token_hash)
    )
    instruction = revoke_except(keep_token_hash) if keep_token_hash else REVOKE_ALL
    uow.control(instruction, Audience.employee(employee_id))


async def _count_active_admins(uow: UnitOfWork) -> int:
    rows = await uow.session.scalars(
        select(Employee.id).where(Employee.role == ROLE_ADMIN).where(Employee.is_active.is_(True))
    )
    return len(list(rows))


async def update_employee(
    services: Services, actor: Employee | None, employee_id: int, data: EmployeeUpdate
) -> EmployeeRead:
    ensure_admin(actor)
    async with services.db.transaction() as uow:
        employee = await _get_employee(uow, employee_id)
        losing_admin = (
            employee.is_admin
            and employee.is_active
            and ((data.role is not None and data.role != ROLE_ADMIN) or data.is_active is False)
        )
        if losing_admin and await _count_active_admins(uow) <= 1:
            raise Conflict("At least one active administrator must remain.", code="last_admin")
        if data.name is not None:
            employee.name = data.name
        if data.language is not None:
            employee.language = data.language
        if data.role is not None:
            employee.role = data.role
        if data.is_active is not None and data.is_active != employee.is_active:
            employee.is_active = data.is_active
            if not data.is_active:
                # A deactivated employee is cut off at once: sessions gone, sockets closed.
                await _revoke_sessions(uow, employee.id)
        await uow.session.flush()
        uow.emit(
            MeUpdated(employee=MeRead.model_validate(employee)), Audience.employee(employee.id)
        )
        # Requests are authenticated from a cache that holds the employee's row (their role).
        uow.control(AUTH_CHANGED, Audience.employee(employee.id))
        return await queries.employee_read(uow.session, employee.id)


async def reset_password(
    services: Services,
    actor: Employee | None,
    employee_id: int,
    password: str,
    *,
    keep_token_hash: str = "",
) -> None:
    ensure_admin(actor)
    password_hash = await hash_password_async(password)
    async with services.db.transaction() as uow:
        employee = await _get_employee(uow, employee_id)
        employee.password_hash = password_hash
        await _revoke_sessions(uow, employee.id, keep_token_hash)


async def set_queue_access(
    services: Services, actor: Employee | None, employee_id: int, queue_ids: list[int]
) -> EmployeeRead:
    ensure_admin(actor)
    wanted = set(queue_ids)
    async with services.db.transaction() as uow:
        await _get_employee(uow, employee_id)
        known = set(
            await uow.session.scalars(
                select(Queue.id).where(Queue.id.in_(wanted)).where(Queue.archived_at.is_(None))
            )
        )
        if unknown := wanted - known:
            raise NotFound(
                f"No such queue: {', '.join(map(str, sorted(unknown)))}.", code="queue_not_found"
            )
        current = set(await queries.served_queue_ids(uow.session, employee_id))
        if current - wanted:
            await uow.session.execute(
                delete(QueueAccess)
                .where(QueueAccess.employee_id == employee_id)
                .where(QueueAccess.queue_id.in_(current - wanted))
            )
        uow.session.add_all(
            QueueAccess(employee_id=employee_id, queue_id=q) for q in sorted(wanted - current)
        )
        await uow.session.flush()
        if current != wanted:
            uow.emit(AccessUpdated(queue_ids=sorted(wanted)), Audience.employee(employee_id))
        return await queries.employee_read(uow.session, employee_id)


async def touch_session(services: Services, token_hash: str) -> datetime:
    """Slide an active session's expiry forward, within its maximum lifetime."""
    settings = services.settings
    async with services.db.transaction() as uow:
        session = await uow.session.get(EmployeeSession, token_hash)
        if session is None:
            raise NotAuthenticated(
                "Your session has ended. Please log in again.", code="session_ended"
            )
        now = utcnow()
        session.last_seen_at = now
        session.expires_at = min(
            now + timedelta(hours=settings.session_idle_hours),
            session.created_at + timedelta(days=settings.session_max_days),
        )
        return session.expires_at
