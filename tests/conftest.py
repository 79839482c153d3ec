from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from impserver.core.config import Settings
from impserver.demo import seed_demo
from tests.harness import (
    REDIS_URL,
    LiveServer,
    PostgresDatabase,
    SqliteTemplate,
    free_port,
    server_settings,
)
from tests.s3_server import S3Server

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    # No skip: the PostgreSQL half of the suite must run, so an unreachable server fails it.
    database = PostgresDatabase()
    database.create()
    yield database
    database.drop()


@pytest.fixture(scope="session")
def redis_available() -> None:
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """A local server speaking S3's wire protocol, shared by a worker's tests (a bucket each)."""
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_factory(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> object:
    """Settings for a fresh, migrated, empty database of the test's backend."""

    def make(backend: str, **overrides: object) -> Settings:
        if backend == "postgres":
            database: PostgresDatabase = request.getfixturevalue("postgres_database")
            request.getfixturevalue("redis_available")
            return server_settings(tmp_path, database, **overrides)
        sqlite_template.copy_to(tmp_path / "data")
        return server_settings(tmp_path, **overrides)

    return make


@pytest.fixture
def server(backend: str, settings_factory: object) -> Iterator[LiveServer]:
    """A running IMP with the demo data (admin, anna, boris, olga, emma; a demo website)."""
    settings = settings_factory(backend)  # type: ignore[operator]
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()
