"""The command line: ``imp run | migrate | create-admin | demo | files migrate``."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import logging.config
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from typing import Any, TypeVar

import typer

from impserver.core.config import Settings, load_settings
from impserver.core.errors import DomainError
from impserver.core.logs import logging_config
from impserver.core.metrics import MULTIPROCESS_DIR_VARIABLE
from impserver.core.migrations import upgrade_database
from impserver.services import Services

app = typer.Typer(help="IMP — Instant Messaging Platform", no_args_is_help=True)
files_app = typer.Typer(help="Uploaded files.", no_args_is_help=True)
app.add_typer(files_app, name="files")
T = TypeVar("T")
log = logging.getLogger("impserver")


def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    from impserver.app import build_services

    async def main() -> T:
        services = build_services(settings)
        try:
            return await work(services)
        finally:
            await services.db.close()

    return asyncio.run(main())


def _print_demo_logins(settings: Settings) -> None:
    from impserver.demo import DEMO_LOGINS

    lines = [f"  {p.login:<8} {p.password:<12} {p.role}" for p in DEMO_LOGINS]
    # With JSON logs every line the server writes is a log record, for the collector to parse.
    say = log.info if settings.log_format == "json" else typer.echo
    say("Demo logins (login / password):\n" + "\n".join(lines))


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    settings = load_settings()
    upgrade_database(settings)
    typer.echo("Database is up to date.")


class FilesTarget(StrEnum):
    s3 = "s3"


@files_app.command("migrate")
def migrate_files(
    to: FilesTarget = typer.Option(..., "--to", help="Where the files go: s3 (IMP_S3_*)"),
) -> None:
    """Copy the local files (IMP_FILES_PATH) to object storage, verifying each copy. Safe to run
    again: files already copied intact are left alone."""
    from impserver.core.object_storage import S3FileStorage
    from impserver.core.storage import LocalFileStorage
    from impserver.core.storage_migration import copy_to_object_storage

    settings = load_settings()
    if not settings.s3_bucket:
        typer.echo("Error: set IMP_S3_BUCKET (and the other IMP_S3_* settings) first.", err=True)
        raise typer.Exit(2)
    source = LocalFileStorage(settings.resolved_files_path)
    target = S3FileStorage.from_settings(settings)

    async def main() -> None:
        try:
            report = await copy_to_object_storage(source, target, typer.echo)
        finally:
            await target.close()
        typer.echo(
            f"{report.copied} copied ({report.bytes_copied} bytes), "
            f"{report.already_there} already in the bucket, {len(report.failed)} failed."
        )
        if report.failed:
            typer.echo("Run the command again once the failures above are dealt with.", err=True)
            raise typer.Exit(1)
        typer.echo(f"Every file is in {settings.s3_bucket}: set IMP_FILES_BACKEND=s3 to use it.")

    asyncio.run(main())


@app.command("create-admin")
def create_admin(
    login: str = typer.Option(..., help="Login of the new administrator"),
    name: str = typer.Option("Administrator", help="Display name"),
    password: str = typer.Option("", help="Password (asked for when omitted)"),
) -> None:
    """Create an administrator account."""
    from impserver.domains.accounts.actions import create_employee
    from impserver.domains.accounts.schemas import EmployeeCreate

    settings = load_settings()
    upgrade_database(settings)
    password = password or getpass.getpass("Password: ")
    try:
        data = EmployeeCreate(login=login, name=name, password=password, role="admin")
        created = _with_services(settings, lambda s: create_employee(s, None, data))
    except (DomainError, ValueError) as exc:
        typer.echo(f"Error: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Administrator “{created.login}” created.")


class DemoLanguageChoice(StrEnum):
    ru = "ru"
    en = "en"


DEMO_LANGUAGE_OPTION = typer.Option(
    DemoLanguageChoice.ru,
    "--demo-language",
    help="Language of the demo's names (website, queues, groups, room)",
)


def _seed_demo(settings: Settings, language: DemoLanguageChoice) -> bool:
    from impserver.demo import seed_demo

    return _with_services(
        settings,
        lambda s: seed_demo(s, site_origin=settings.public_base_url, language=language.value),
    )


@app.command()
def demo(demo_language: DemoLanguageChoice = DEMO_LANGUAGE_OPTION) -> None:
    """Fill an empty database with demo data."""
    settings = load_settings()
    upgrade_database(settings)
    created = _seed_demo(settings, demo_language)
    typer.echo("Demo data created." if created else "The database already has data; left as is.")
    _print_demo_logins(settings)


@app.command()
def run(
    demo_data: bool = typer.Option(
        False, "--demo", help="Create demo data if the database is empty"
    ),
    host: str = typer.Option("", help="Address to listen on (default: IMP_HOST)"),
    port: int = typer.Option(0, help="Port (default: IMP_PORT)"),
    demo_language: DemoLanguageChoice = DEMO_LANGUAGE_OPTION,
) -> None:
    """Apply migrations and serve IMP."""
    import uvicorn

    from impserver.app import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v}
    settings = load_settings(**overrides)
    log_config = logging_config(settings)
    logging.config.dictConfig(log_config)
    upgrade_database(settings)
    if demo_data:
        _seed_demo(settings, demo_language)
    log.info("IMP is starting at %s", settings.public_base_url)
    if demo_data:
        _print_demo_logins(settings)
    options = {**serving_options(settings), "log_config": log_config}
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each worker builds its app from the environment: the command line's choices go there, and
    # a generated secret key is made now, once, for all of them to read.
    os.environ.update({"IMP_HOST": settings.host, "IMP_PORT": str(settings.port)})
    settings.resolved_secret_key  # noqa: B018
    with _shared_metrics_directory():
        uvicorn.run("impserver.app:create_app", factory=True, workers=settings.workers, **options)


@contextlib.contextmanager
def _shared_metrics_directory() -> Iterator[None]:
    """Workers on one port are scraped through that port, by whichever worker accepts: they
    keep their figures in files of one directory (prometheus_client's multiprocess mode) so
    that each scrape adds up all of them. A directory given in PROMETHEUS_MULTIPROC_DIR is
    used as it is; otherwise a fresh one lives as long as this run."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        yield
        return
    directory = tempfile.mkdtemp(prefix="imp-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def serving_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves IMP (the tests' servers use the same)."""
    return {
        "host": settings.host,
        "port": settings.port,
        # Forwarding headers count only from the proxies the administrator listed.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
        # The gateway sends its own heartbeat, which the browser's code can see and answer.
        "ws_ping_interval": None,
        "ws_per_message_deflate": settings.ws_compression,
        "access_log": settings.access_log,
        # Requests in flight at a stop get this long to finish (sockets are closed before).
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }


def main() -> None:
    app()
