from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from impserver.core.config import Settings
from impserver.demo import seed_demo
from tests.harness import REDIS_URL, LiveServer, PostgresDatabase, SqliteTemplate, free_port

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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_factory(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> object:
    """Settings for a fresh, migrated, empty database of the test's backend."""

    def make(backend: str, **overrides: object) -> Settings:
        data_dir = tmp_path / "data"
        base: dict[str, object] = {
            "data_dir": data_dir,
            "secret_key": "test-secret",
            "web_dist": tmp_path / "no-dist",
            "ws_ping_seconds": 1.0,
            "ws_dead_after_seconds": 5.0,
            # Real Argon2, at its lowest cost: the suite hashes and checks thousands of passwords.
            "password_hash_time_cost": 1,
            "password_hash_memory_kib": 1024,
        }
        if backend == "postgres":
            database: PostgresDatabase = request.getfixturevalue("postgres_database")
            request.getfixturevalue("redis_available")
            database.truncate()
            base["database_url"] = database.url
            base["redis_url"] = REDIS_URL
            base["redis_prefix"] = f"imp-test-{uuid.uuid4().hex[:12]}"
        else:
            sqlite_template.copy_to(data_dir)
        base.update(overrides)
        return Settings(**base)  # type: ignore[arg-type]

    return make


@pytest.fixture
def server(backend: str, settings_factory: object) -> Iterator[LiveServer]:
    """A running IMP with the demo data (admin, anna, boris, olga, emma; a demo website)."""
    settings = settings_factory(backend)  # type: ignore[operator]
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example"))
    yield live
    live.stop()
