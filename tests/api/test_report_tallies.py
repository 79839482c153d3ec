"""Long-period reports read from the tallies: the same figures as the requests give, across
days, months and time zones, as requests change after their day, and after the migration."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select, update

from impserver.core.migrations import alembic_config
from impserver.domains.accounts.models import Employee
from impserver.domains.clients.models import Client
from impserver.domains.ratings.models import Rating
from impserver.domains.reports import figures
from impserver.domains.reports.models import ReportChange, ReportTally
from impserver.domains.reports.schemas import Durations, ReportFilters, TeamReport
from impserver.domains.reports.tallies import bucket_middle, bucket_of, roll_up
from impserver.domains.requests.models import ClientRequest
from impserver.domains.resources.models import Queue, Resource
from impserver.domains.rooms.models import Room
from tests.harness import LiveServer

# From the 20th of January to the 10th of March: two partial months around a whole one.
FIRST = datetime(2026, 1, 20, tzinfo=UTC)
DAYS = 50
PER_DAY = 9
ZONES = ["UTC", "Europe/Moscow", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]
PERIODS = [
    (date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 1, 21), date(2026, 3, 5)),
    (date(2026, 2, 1), date(2026, 2, 28)),
    (date(2026, 1, 25), date(2026, 2, 2)),
    # February less a day or two: its month's tallies less those days'.
    (date(2026, 1, 10), date(2026, 2, 27)),
    # The year less its last day or two (or its first, west of Greenwich).
    (date(2026, 1, 1), date(2026, 12, 31)),
    # A year's tallies less most of December.
    (date(2026, 1, 1), date(2026, 12, 5)),
]


def seed(server: LiveServer) -> list[int]:
    """Requests at random moments of the days from FIRST, of both websites, answered, taken,
    closed (some days later) and rated at random; the same every run."""
    chance = random.Random(7)

    async def write() -> list[int]:
        async with server.services.db.transaction() as uow:
            session = uow.session
            staff = list(await session.scalars(select(Employee.id).order_by(Employee.id)))
            website = await session.scalar(select(Resource).where(Resource.kind == "website"))
            assert website is not None
            other = Resource(kind="website", name="Second site", public_key="tallies-second")
            session.add(other)
            await session.flush()
            queue = await session.scalar(select(Queue.id).where(Queue.resource_id == website.id))
            ids = []
            for n in range(DAYS * PER_DAY):
                resource = website if n % 3 else other
                created = FIRST + timedelta(seconds=chance.uniform(0, DAYS * 86400))
                client = Client(resource_id=resource.id, external_id=f"t{n}", display_name="T")
                room = Room(kind="request", created_at=created)
                session.add_all([client, room])
                await session.flush()
                queued = created + timedelta(seconds=chance.choice([0, 5, 40]))
                assigned = queued + timedelta(seconds=chance.expovariate(1 / 200))
                answered = assigned + timedelta(seconds=chance.uniform(0, 3000))
                closed = answered + timedelta(seconds=chance.expovariate(1 / 90_000))
                is_answered, is_closed = chance.random() < 0.85, chance.random() < 0.9
                helper, closer = chance.choice(staff), chance.choice(staff)
                request = ClientRequest(
                    resource_id=resource.id,
                    client_id=client.id,
                    room_id=room.id,
                    status="closed" if is_closed else "assigned",
                    queue_id=queue if resource is website else None,
                    created_at=created,
                    queued_at=queued if n % 5 else None,
                    first_assigned_at=assigned if chance.random() < 0.95 else None,
                    first_response_at=answered if is_answered else None,
                    first_responder_id=helper if is_answered else None,
                    closed_at=closed if is_closed else None,
                    closed_by_id=(closer if chance.random() < 0.5 else helper)
                    if is_closed and chance.random() < 0.95
                    else None,
                    assignee_id=None if is_closed else helper,
                )
                session.add(request)
                await session.flush()
                ids.append(request.id)
                if is_closed and chance.random() < 0.4:
                    session.add(
                        Rating(
                            request_id=request.id,
                            client_id=client.id,
                            score=chance.randint(1, 5),
                            asked_at=closed,
                            rated_at=closed,
                        )
                    )
            return ids

    return server.run(write())


def caught_up(server: LiveServer) -> None:
    while server.run(roll_up(server.services, days_per_transaction=7)):
        pass


def report(
    server: LiveServer, filters: ReportFilters, *, tallied: bool, allowed: set[int] | None = None
) -> TeamReport:
    async def read() -> TeamReport:
        async with server.services.db.read() as session:
            return await figures.team_report(
                session, filters, allowed, exact_up_to_days=0 if tallied else 10_000
            )

    return server.run(read())


def close_to(tallied: Durations, exact: Durations) -> bool:
    """A histogram's median and 90th percentile: within a bucket's half width of the exact."""
    if tallied.count != exact.count:
        return False
    for found, wanted in ((tallied.median_seconds, exact.median_seconds),
                          (tallied.p90_seconds, exact.p90_seconds)):  # fmt: skip
        if (found is None) != (wanted is None):
            return False
        # The bound, and the rounding of both to a tenth of a second.
        if (
            found is not None
            and wanted is not None
            and abs(found - wanted) > max(0.05 * wanted, 0.5) + 0.1
        ):
            return False
    return True


def assert_same(tallied: TeamReport, exact: TeamReport) -> None:
    assert (tallied.created, tallied.closed, tallied.missed) == (
        exact.created,
        exact.closed,
        exact.missed,
    )
    assert tallied.ratings == exact.ratings
    assert (tallied.by_hour, tallied.by_weekday) == (exact.by_hour, exact.by_weekday)
    for name in ("first_response", "resolution", "queue_wait"):
        assert close_to(getattr(tallied, name), getattr(exact, name)), (
            name,
            getattr(tallied, name),
            getattr(exact, name),
        )
    assert [(e.id, e.name, e.handled, e.ratings, e.rating_average) for e in tallied.employees] == [
        (e.id, e.name, e.handled, e.ratings, e.rating_average) for e in exact.employees
    ]
    for mine, theirs in zip(tallied.employees, exact.employees, strict=True):
        assert close_to(mine.first_response, theirs.first_response), mine.id
        assert close_to(mine.resolution, theirs.resolution), mine.id


def changes_left(server: LiveServer) -> int:
    async def count() -> int:
        async with server.services.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(ReportChange)) or 0)

    return server.run(count())


def test_a_bucket_stands_for_its_values_within_five_percent() -> None:
    for seconds in [1.0, 1.04, 9.99, 61.0, 3599.0, 86_400.0, 2_000_000.0]:
        assert abs(bucket_middle(bucket_of(seconds)) - seconds) <= 0.05 * seconds
    assert bucket_middle(bucket_of(0.0)) == 0.5


def test_tallied_figures_match_the_requests_across_days_months_and_time_zones(
    server: LiveServer,
) -> None:
    seed(server)
    assert changes_left(server) > 0
    caught_up(server)
    assert changes_left(server) == 0
    first_site = server.run(_first_website(server))
    for date_from, date_to in PERIODS:
        for tz in ZONES:
            filters = ReportFilters(date_from=date_from, date_to=date_to, tz=tz)
            exact = report(server, filters, tallied=False)
            assert exact.created > 0
            assert_same(report(server, filters, tallied=True), exact)
        # One resource, and a supervisor's resources.
        filters = ReportFilters(
            date_from=date_from, date_to=date_to, tz="Europe/Moscow", resource_id=first_site
        )
        assert_same(report(server, filters, tallied=True), report(server, filters, tallied=False))
        filters = ReportFilters(date_from=date_from, date_to=date_to, tz="Asia/Kolkata")
        assert_same(
            report(server, filters, tallied=True, allowed={first_site}),
            report(server, filters, tallied=False, allowed={first_site}),
        )


async def _first_website(server: LiveServer) -> int:
    async with server.services.db.read() as session:
        found = await session.scalar(
            select(Resource.id).where(Resource.kind == "website").order_by(Resource.id)
        )
        assert found is not None
        return found


def test_tallies_follow_requests_closed_and_rated_days_later(server: LiveServer) -> None:
    ids = seed(server)
    caught_up(server)
    filters = ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), tz="UTC")
    before = report(server, filters, tallied=True)

    async def change_later() -> None:
        async with server.services.db.transaction() as uow:
            session = uow.session
            open_one = await session.scalar(
                select(ClientRequest).where(
                    ClientRequest.id.in_(ids), ClientRequest.closed_at.is_(None)
                )
            )
            assert open_one is not None
            # Closed eleven days after it was created, by someone else, and rated at once.
            open_one.status = "closed"
            open_one.closed_at = open_one.created_at + timedelta(days=11)
            open_one.closed_by_id = open_one.assignee_id
            open_one.assignee_id = None
            unrated = await session.scalar(
                select(ClientRequest.id)
                .outerjoin(Rating, Rating.request_id == ClientRequest.id)
                .where(
                    ClientRequest.id.in_(ids),
                    ClientRequest.closed_at.is_not(None),
                    Rating.id.is_(None),
                )
            )
            client_id = await session.scalar(
                select(ClientRequest.client_id).where(ClientRequest.id == unrated)
            )
            assert unrated is not None and client_id is not None
            session.add(Rating(request_id=unrated, client_id=client_id, score=1))
            # A set-based change, as some actions make (no ORM object): a first reply moved.
            answered = await session.scalar(
                select(ClientRequest.id).where(
                    ClientRequest.id.in_(ids), ClientRequest.first_response_at.is_not(None)
                )
            )
            await session.execute(
                update(ClientRequest)
                .where(ClientRequest.id == answered)
                .values(first_response_at=FIRST + timedelta(days=DAYS + 1))
                .execution_options(synchronize_session=False)
            )

    server.run(change_later())
    assert changes_left(server) > 0
    # Before the roll-up: the changed days counted from the requests.
    pending = report(server, filters, tallied=True)
    assert_same(pending, report(server, filters, tallied=False))
    assert pending.closed == before.closed + 1
    assert pending.ratings.count == before.ratings.count + 1
    caught_up(server)
    assert changes_left(server) == 0
    assert_same(report(server, filters, tallied=True), report(server, filters, tallied=False))


def test_the_migration_tallies_the_requests_already_there(server: LiveServer) -> None:
    seed(server)
    config = alembic_config(server.settings)
    command.downgrade(config, "0015_webhooks")
    command.upgrade(config, "heads")
    assert changes_left(server) > 0
    caught_up(server)

    async def tallied_rows() -> int:
        async with server.services.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(ReportTally)) or 0)

    assert server.run(tallied_rows()) > 0
    filters = ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), tz="UTC")
    assert_same(report(server, filters, tallied=True), report(server, filters, tallied=False))


@pytest.mark.parametrize("tz", ["Europe/Moscow", "Asia/Kolkata"])
def test_a_long_report_over_http_is_read_from_the_tallies(server: LiveServer, tz: str) -> None:
    seed(server)
    caught_up(server)
    period = {"date_from": "2026-01-01", "date_to": "2026-03-31", "tz": tz}
    response = server.login("admin").http.get("/api/reports/team", params=period)
    assert response.status_code == 200, response.text
    exact = report(
        server,
        ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), tz=tz),
        tallied=False,
    )
    assert_same(TeamReport.model_validate(response.json()), exact)
