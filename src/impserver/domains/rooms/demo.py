"""Demo data for employees' rooms: one team room with a short conversation."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from impserver.domains.accounts.models import Employee
from impserver.domains.rooms import actions
from impserver.domains.rooms.schemas import EmployeeMessageCreate
from impserver.services import Services

DEMO_CONVERSATION = {
    "ru": [
        ("anna", "Доброе утро! Сегодня ждём много вопросов про доставку."),
        ("boris", "Принято. Я беру продажи."),
        ("olga", "Я на технической поддержке до 18:00."),
    ],
    "en": [
        ("anna", "Good morning! Expect lots of questions about delivery today."),
        ("boris", "Got it. I'll take sales."),
        ("olga", "I'm on technical support until 6 pm."),
    ],
}


async def seed_rooms_demo(
    services: Services,
    employee_ids_by_login: dict[str, int],
    *,
    room_name: str,
    language: Literal["ru", "en"],
) -> None:
    """The team room of Anna, Boris, Olga and the admin, with a few messages."""
    async with services.db.read() as session:
        people = {
            e.login: e
            for e in await session.scalars(
                select(Employee).where(Employee.id.in_(employee_ids_by_login.values()))
            )
        }
    team = await actions.create_room(
        services,
        people["anna"],
        room_name,
        [employee_ids_by_login[login] for login in ("boris", "olga", "admin")],
    )
    for number, (login, body) in enumerate(DEMO_CONVERSATION[language]):
        await actions.post_message(
            services,
            people[login],
            team.id,
            EmployeeMessageCreate(body=body, client_message_id=f"demo-{number}"),
        )
