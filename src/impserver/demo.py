"""Demo data for a first look: an admin, employees, groups, a website with three queues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import func, select

from impserver.domains.accounts import actions as accounts
from impserver.domains.accounts.models import Employee
from impserver.domains.accounts.schemas import EmployeeCreate
from impserver.domains.resources import actions as resources
from impserver.domains.resources.schemas import GroupCreate, QueueCreate, ResourceCreate
from impserver.domains.rooms.demo import seed_rooms_demo
from impserver.services import Services


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    name: str
    role: str


DEMO_LOGINS = [
    DemoLogin("admin", "admin-demo", "Алексей Админов", "admin"),
    DemoLogin("anna", "anna-demo", "Анна Смирнова", "employee"),
    DemoLogin("boris", "boris-demo", "Борис Петров", "employee"),
    DemoLogin("olga", "olga-demo", "Ольга Иванова", "employee"),
    DemoLogin("emma", "emma-demo", "Emma Wilson", "employee"),
]


DemoLanguage = Literal["ru", "en"]
DEMO_LANGUAGES: tuple[DemoLanguage, ...] = get_args(DemoLanguage)
# A first look is most often in the Russian UI, so the data it shows speaks Russian too.
DEFAULT_DEMO_LANGUAGE: DemoLanguage = "ru"


@dataclass(frozen=True)
class DemoNames:
    """What the demo calls its website, queues, groups and team room in one language."""

    website: str
    sales: str
    support: str
    general: str
    billing_group: str
    tech_group: str
    team_room: str


DEMO_NAMES: dict[DemoLanguage, DemoNames] = {
    "ru": DemoNames(
        website="Демо-сайт",
        sales="Продажи",
        support="Техническая поддержка",
        general="Общие вопросы",
        billing_group="Специалисты по оплате",
        tech_group="Технические специалисты",
        team_room="Команда поддержки",
    ),
    "en": DemoNames(
        website="Demo website",
        sales="Sales",
        support="Technical support",
        general="General questions",
        billing_group="Billing specialists",
        tech_group="Technical specialists",
        team_room="Support team",
    ),
}


async def seed_demo(
    services: Services, *, site_origin: str, language: DemoLanguage = DEFAULT_DEMO_LANGUAGE
) -> bool:
    """Create the demo data unless the database already has employees. True if it created it.

    ``language`` chooses the language of the names the demo gives its website, queues, groups,
    team room and the room's conversation; people's own names stay as they are.
    """
    names = DEMO_NAMES[language]
    async with services.db.read() as session:
        if await session.scalar(select(func.count(Employee.id))):
            return False
    ids: dict[str, int] = {}
    for person in DEMO_LOGINS:
        created = await accounts.create_employee(
            services,
            None,
            EmployeeCreate(
                login=person.login,
                name=person.name,
                password=person.password,
                role=person.role,
                language="en" if person.login == "emma" else "ru",
            ),
        )
        ids[person.login] = created.id
    site = await resources.create_resource(
        services,
        None,
        ResourceCreate(name=names.website, topic_choice_seconds=30, site_origins=[site_origin]),
    )
    sales = await resources.create_queue(
        services, None, site.id, QueueCreate(name=names.sales, offered_as_topic=True)
    )
    support = await resources.create_queue(
        services, None, site.id, QueueCreate(name=names.support, offered_as_topic=True)
    )
    general = await resources.create_queue(
        services,
        None,
        site.id,
        QueueCreate(name=names.general, offered_as_topic=False, is_default=True),
    )
    access = {
        "admin": [sales.id, support.id, general.id],
        "anna": [sales.id, support.id, general.id],
        "boris": [sales.id, general.id],
        "olga": [support.id, general.id],
        "emma": [support.id],
    }
    for login, queue_ids in access.items():
        await accounts.set_queue_access(services, None, ids[login], queue_ids)
    billing = await resources.create_group(
        services, None, GroupCreate(name=names.billing_group, resource_id=site.id)
    )
    tech = await resources.create_group(
        services, None, GroupCreate(name=names.tech_group, resource_id=site.id)
    )
    await resources.set_group_members(services, None, billing.id, [ids["boris"], ids["anna"]])
    await resources.set_group_members(services, None, tech.id, [ids["olga"], ids["emma"]])
    await seed_rooms_demo(services, ids, room_name=names.team_room, language=language)
    return True
