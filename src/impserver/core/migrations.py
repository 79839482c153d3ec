"""Applying the schema migrations, from the command line or at start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from impserver.core.config import Settings

SCRIPT_LOCATION = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return config


def upgrade_database(settings: Settings, revision: str = "heads") -> None:
    """Bring the database to ``revision``. Runs its own event loop: call it outside one."""
    command.upgrade(alembic_config(settings), revision)


async def upgrade_database_async(settings: Settings, revision: str = "heads") -> None:
    await asyncio.to_thread(upgrade_database, settings, revision)
