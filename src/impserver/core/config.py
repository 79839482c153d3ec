"""Settings, read from ``IMP_*`` environment variables (and ``.env``), with embedded defaults."""

from __future__ import annotations

import ipaddress
import json
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IMP_", env_file=".env", extra="ignore")

    # Where the embedded default keeps its SQLite file, uploaded files and generated secret.
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    # Prefix for Redis keys and channels, so several deployments (or test runs) can share a server.
    redis_prefix: str = "imp"
    secret_key: str = ""
    files_path: Path | None = None
    # Where uploads are kept: "local" (the files path, the embedded default) or "s3" (an
    # S3-compatible bucket, which any number of instances share).
    files_backend: Literal["local", "s3"] = "local"
    # The local files path is on storage every instance sees (NFS, a shared volume): allows
    # the local backend with several instances or workers.
    files_shared: bool = False
    # Downloads from object storage: "stream" through IMP, or "redirect" to a presigned address
    # good for ``files_url_seconds`` (the workspace's downloads; the widget's are streamed).
    files_download: Literal["stream", "redirect"] = "stream"
    files_url_seconds: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    # Empty endpoint: AWS S3 itself. Credentials left empty are looked for where AWS tools look.
    s3_endpoint: str = ""
    # The endpoint as browsers reach it, for presigned addresses, when it differs from the one
    # IMP uses.
    s3_public_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    # "path" (https://host/bucket/key: MinIO, Ceph), "virtual" (https://bucket.host/key) or
    # "auto" (virtual where the bucket name allows it).
    s3_addressing: Literal["auto", "path", "virtual"] = "auto"
    # The address people reach IMP at; defaults to http://HOST:PORT.
    public_base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # One log line per HTTP request; usually the load balancer in front keeps that log already.
    access_log: bool = False
    # "json": one JSON object a line (for log collectors); "text" for people reading a terminal.
    log_format: Literal["text", "json"] = "text"
    # Bearer token that /metrics asks for; unset, /metrics does not exist (answers 404).
    metrics_token: str = ""
    # On SIGTERM/SIGINT requests already being served get this long to finish before they are
    # cut (sockets are told to reconnect elsewhere at once and do not wait for it).
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0)
    # Server processes on the one port, each an instance of its own (one Python process uses
    # one core). Above 1 needs PostgreSQL and Redis, as several instances do.
    workers: int = Field(default=1, ge=1, le=64)
    # permessage-deflate on WebSockets. Off by default: each compressed socket keeps zlib state
    # of about 40 KB on the server and costs a compression per recipient of every event, while
    # most frames are small JSON. Worth turning on where bandwidth is dearer than memory (slow
    # links with heavy co-browsing).
    ws_compression: bool = False
    # Reverse proxies whose X-Forwarded-For names the client's address (comma-separated
    # addresses or networks, e.g. "127.0.0.1,10.0.0.0/8"). Empty: the peer's own address is the
    # client's and forwarding headers are ignored, so no client can claim another's address.
    trusted_proxies: str = ""
    # JSON list of RTCIceServer dicts, e.g. [{"urls": "turn:turn.example.com:3478", ...}].
    ice_servers: list[dict[str, Any]] = Field(default_factory=list)
    web_dist: Path | None = None

    session_idle_hours: float = 12.0
    session_max_days: float = 30.0
    # Argon2 cost of new password hashes (argon2-cffi's defaults: 3 passes over 64 MiB).
    password_hash_time_cost: int = Field(default=3, ge=1, le=50)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, le=4 * 1024 * 1024)
    # Wrong passwords for one login from one address before that pair must wait for the window
    # to end; other addresses (the employee at their own desk) are not held back by it.
    login_attempts_per_login: int = 5
    # Wrong passwords from one address, whatever the logins, in the same window.
    login_attempts_per_ip: int = 30
    login_window_seconds: int = 900
    # Wrong passwords for one login from all addresses together (a spread-out guessing) beyond
    # which attempts at that login are paced: one per 1, 2, 4… seconds up to the maximum, never
    # a lockout that anyone could set off on purpose.
    login_backoff_after: int = 50
    login_backoff_window_seconds: int = 3600
    login_backoff_max_seconds: int = 60
    # Calls one API token may make a minute (the public API); past it, 429 with Retry-After.
    api_token_requests_per_minute: int = Field(default=300, ge=1)
    # Webhooks: by default only public addresses (not loopback, link-local or private ones);
    # on-premises installations whose receivers are in the company network allow those too.
    webhook_allow_private_addresses: bool = False
    # How long a receiver has to answer one delivery.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # A failed delivery is tried again after this long, then twice as long each time (up to an
    # hour between attempts), for as long as webhook_retry_hours from the event.
    webhook_retry_first_seconds: float = Field(default=30.0, gt=0)
    webhook_retry_hours: float = Field(default=24.0, gt=0)
    # Failed attempts in a row (no success in between) after which the hook is switched off and
    # the administrators told.
    webhook_disable_after_failures: int = Field(default=50, ge=1)
    # How long the delivery log keeps deliveries that are done (delivered or given up).
    webhook_log_days: float = Field(default=30.0, gt=0)

    ws_ping_seconds: float = 20.0
    ws_dead_after_seconds: float = 60.0
    # How long delivered events are kept for reconnecting clients to resume from.
    event_retention_hours: float = 72.0

    # The Bot API server; tests and self-hosted Bot API servers point elsewhere.
    telegram_api_url: str = "https://api.telegram.org"
    # "auto": webhooks when the public address is HTTPS (Telegram requires it), else long polling.
    telegram_mode: Literal["auto", "webhook", "polling"] = "auto"
    # The VK API (tests point it at a local fake) and how a community's messages arrive: "auto"
    # is the Callback API when the public address is HTTPS, else the Bots Long Poll API.
    vk_api_url: str = "https://api.vk.com"
    vk_mode: Literal["auto", "webhook", "polling"] = "auto"
    # Meta's Graph API, which carries the WhatsApp Cloud API (webhooks only).
    whatsapp_api_url: str = "https://graph.facebook.com"

    upload_max_bytes: int = 25 * 1024 * 1024
    # An employee's photo as uploaded; what is kept is a small square made from it.
    avatar_max_bytes: int = 5 * 1024 * 1024
    # How often the reports' tallies catch up with the days whose requests changed (reports
    # are exact meanwhile: they count those days from the requests).
    report_roll_up_seconds: float = Field(default=60.0, gt=0)
    # How often due timers (the topic choice running out) are looked for.
    timer_interval_seconds: float = 1.0
    # An employee whose last workspace tab has been gone this long is Offline.
    offline_grace_seconds: float = Field(default=120.0, gt=0)
    # An employee idle in the workspace this long is shown Away (unless they chose a status).
    away_after_minutes: float = Field(default=10.0, gt=0)
    # An unanswered call invitation ends after this long.
    call_answer_seconds: float = 45.0
    # A call a client starts rings in the employee's workspace this long; then the client is
    # told nobody answered and can write instead.
    client_call_answer_seconds: float = Field(default=30.0, gt=0)
    # A call whose party lost every socket ends unless they are back within this time.
    call_reconnect_grace_seconds: float = 10.0
    # What one co-browsing session may relay from the client's page: a burst of this many bytes
    # (a whole page or two), then this many a second on average.
    cobrowse_burst_bytes: int = Field(default=12 * 1024 * 1024, ge=64 * 1024)
    cobrowse_bytes_per_second: int = Field(default=2 * 1024 * 1024, ge=1)

    @model_validator(mode="after")
    def _workers_share_through_services(self) -> Settings:
        if self.workers > 1 and (self.is_sqlite or not self.redis_url):
            raise ValueError(
                "IMP_WORKERS above 1 needs PostgreSQL (IMP_DATABASE_URL) and Redis "
                "(IMP_REDIS_URL): worker processes reach each other's sockets through them"
            )
        return self

    @model_validator(mode="after")
    def _files_reach_every_instance(self) -> Settings:
        if self.files_backend == "s3":
            if not self.s3_bucket:
                raise ValueError("IMP_FILES_BACKEND=s3 needs the bucket's name in IMP_S3_BUCKET")
        elif (self.workers > 1 or self.redis_url) and not self.files_shared:
            raise ValueError(
                "several instances (IMP_REDIS_URL, IMP_WORKERS above 1) must all see every "
                "uploaded file, and local files are kept by one instance only: use "
                "IMP_FILES_BACKEND=s3, or set IMP_FILES_SHARED=true if IMP_FILES_PATH is on "
                "storage shared by every instance"
            )
        return self

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        networks = [item.strip() for item in value.split(",") if item.strip()]
        for item in networks:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"IMP_TRUSTED_PROXIES: {item!r} is not an IP address or network"
                ) from None
        return ",".join(networks)

    @field_validator("ice_servers", mode="before")
    @classmethod
    def _parse_ice_servers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'imp.db').resolve()}"

    @cached_property
    def resolved_files_path(self) -> Path:
        return (self.files_path or self.data_dir / "files").resolve()

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key

    @cached_property
    def resolved_web_dist(self) -> Path:
        if self.web_dist:
            return self.web_dist.resolve()
        return (Path(__file__).resolve().parents[3] / "web" / "dist").resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def cookie_secure(self) -> bool:
        return self.public_base_url.startswith("https://")


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
