"""Reports and the archive over a year of a busy team's requests, on PostgreSQL.

Fills a database with a year of work (by default 1,000,000 requests and 10,000,000 messages
across 20 queues of two websites and 200 employees; 300,000 clients with an e-mail each;
history lines and ratings), starts IMP on it as a real `imp run` process, and times the
report and archive requests over HTTP as the reports and archive pages make them, signed in
as an administrator, a supervisor and an employee. Prints the median and slowest of several
runs of each, against the targets (a report ≤ 1 s, an archive page ≤ 200 ms).

    uv run python bench/reports.py                      # fill, measure, drop the database
    uv run python bench/reports.py --keep               # … and keep the database
    uv run python bench/reports.py --reuse imp_bench_reports_x   # measure a kept database

Filling takes some minutes and a few GB of disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.load import free_port, psql, wait_until_up

SERVER = [sys.executable, "-c", "from impserver.cli import main; main()"]
PASSWORD = "admin-demo"  # the demo administrator's; every employee here shares its hash
QUEUES = 20
EMPLOYEES = 200
REPORT_TARGET_MS = 1000.0
ARCHIVE_TARGET_MS = 200.0

# Russian first names and surnames: client names that repeat as real ones do.
FIRST_NAMES = ["Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Анна", "Сергей", "Елена",
               "Павел", "Наталья", "Андрей", "Татьяна", "Михаил", "Юлия", "Николай",
               "Ирина", "Владимир", "Светлана", "Егор", "Ксения"]  # fmt: skip
SURNAMES = ["Смирнов", "Иванов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Козлов",
            "Новиков", "Морозов", "Петров", "Волков", "Соловьёв", "Васильев", "Зайцев",
            "Павлов", "Семёнов", "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров",
            "Михайлов", "Беляев", "Тарасов", "Белов", "Комаров", "Орлов", "Киселёв",
            "Макаров", "Андреев"]  # fmt: skip


def sql_array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{word}'" for word in words) + "]"


def fill_sql(requests: int, messages_per_request: int, clients: int) -> str:
    """The year of work, written by PostgreSQL itself from generated series.

    Each request: created at a random moment of 2026 in one of 20 queues, queued within
    30 s, taken within an exponentially distributed wait (mean 2 min) by an employee serving
    the queue, answered (90%) after a first-response time that also spaces its messages,
    closed (95%) by that employee, rated (30% of the closed, mostly 4–5)."""
    return f"""
    SET synchronous_commit = off;
    INSERT INTO resources (kind, name, is_active, public_key, topic_choice_seconds,
                           site_origins, channel_config, created_at)
    VALUES ('website', 'Second website', true, 'bench-second-site', 0, '[]', '{{}}', now());
    -- 20 queues: the demo website's 3 and 7 more, and 10 on the second website.
    INSERT INTO queues (resource_id, name, offered_as_topic, is_default, position, created_at)
    SELECT CASE WHEN n <= 7 THEN 1 ELSE 2 END, 'Queue ' || n, true, n = 8, 10 + n, now()
    FROM generate_series(1, {QUEUES - 3}) n;
    CREATE TEMP TABLE queue_list AS
      SELECT row_number() OVER (ORDER BY id) - 1 AS q, id, resource_id FROM queues;
    INSERT INTO employees (login, name, password_hash, role, is_active, language, theme,
                           created_at)
    SELECT 'bench' || n, 'Сотрудник ' || n,
           (SELECT password_hash FROM employees WHERE login = 'admin'),
           CASE WHEN n = 1 THEN 'supervisor' ELSE 'employee' END, true, 'ru', 'light', now()
    FROM generate_series(1, {EMPLOYEES}) n;
    CREATE TEMP TABLE staff AS
      SELECT row_number() OVER (ORDER BY id) - 1 AS e, id FROM employees
      WHERE login LIKE 'bench%';
    -- Each employee serves two queues; queue q is served by employees e with e % 20 = q or
    -- (e + 7) % 20 = q. The supervisor (bench1) serves queues 0 and 7: the demo website.
    INSERT INTO queue_access (employee_id, queue_id)
    SELECT s.id, ql.id FROM staff s JOIN queue_list ql
      ON ql.q = s.e % {QUEUES} OR ql.q = (s.e + 7) % {QUEUES};

    -- Clients alternate between the two websites.
    INSERT INTO clients (resource_id, external_id, display_name, language, is_blocked,
                         environment, created_at, last_seen_at)
    SELECT CASE WHEN n % 2 = 1 THEN 1 ELSE (SELECT max(id) FROM resources) END,
           'bench-' || n,
           ({sql_array(FIRST_NAMES)})[1 + n % {len(FIRST_NAMES)}] || ' ' ||
           ({sql_array(SURNAMES)})[1 + (n / {len(FIRST_NAMES)}) % {len(SURNAMES)}],
           'ru', false, '{{}}', timestamptz '2026-01-01', timestamptz '2026-01-01'
    FROM generate_series(1, {clients}) n;
    INSERT INTO contacts (client_id, kind, value, is_hidden, created_at, updated_at)
    SELECT id, 'email', 'client' || substr(external_id, 7) || '@mail.example', false,
           created_at, created_at
    FROM clients WHERE external_id LIKE 'bench-%';
    -- Client n (1, 2, …) has id first + n - 1: odd n on the demo website, even on the second.
    CREATE TEMP TABLE client_base AS
      SELECT min(id) AS first FROM clients WHERE external_id LIKE 'bench-%';

    CREATE TEMP TABLE plan AS
    SELECT n,
           nextval('rooms_id_seq') AS room_id,
           nextval('requests_id_seq') AS request_id,
           -- In order, as a year of requests arrives (and lies on disk).
           timestamptz '2026-01-01 00:00+00' + (n - random()) * interval '365 days' / {requests}
             AS created_at,
           n % {QUEUES} AS q,
           random() * 30 AS queue_after,
           -ln(1 - random()) * 120 AS wait,
           30 + random() * 870 AS gap,
           random() < 0.9 AS answered,
           random() < 0.95 AS closed,
           random() AS rated,
           floor(random() * 10)::int AS helper
    FROM generate_series(1, {requests}) n;
    ALTER TABLE plan ADD COLUMN resource_id int, ADD COLUMN queue_id int,
                     ADD COLUMN client_id int, ADD COLUMN employee_id int;
    UPDATE plan SET resource_id = ql.resource_id, queue_id = ql.id
      FROM queue_list ql WHERE ql.q = plan.q;
    ANALYZE plan;
    UPDATE plan SET client_id = client_base.first + 2 * (plan.n % ({clients} / 2))
                                + CASE WHEN plan.resource_id = 1 THEN 0 ELSE 1 END
      FROM client_base;
    -- One of the ten employees serving the queue (q = e % 20 for e = q, q + 20, …).
    UPDATE plan SET employee_id = s.id FROM staff s
      WHERE s.e = (plan.q + {QUEUES} * plan.helper) % {EMPLOYEES};

    INSERT INTO rooms (id, kind, name, created_at)
    SELECT room_id, 'request', '', created_at FROM plan;
    INSERT INTO requests (id, resource_id, client_id, room_id, status, queue_id, assignee_id,
                          topic_picked_by_client, created_at, waiting_since, assigned_at,
                          closed_at, queued_at, first_assigned_at, first_response_at,
                          first_responder_id, closed_by_id)
    SELECT request_id, resource_id, client_id, room_id,
           CASE WHEN closed THEN 'closed' ELSE 'assigned' END, queue_id,
           CASE WHEN closed THEN NULL ELSE employee_id END, true, created_at,
           created_at + queue_after * interval '1 second',
           created_at + (queue_after + wait) * interval '1 second',
           CASE WHEN closed THEN created_at + (queue_after + wait + 12 * gap)
                                              * interval '1 second' END,
           created_at + queue_after * interval '1 second',
           created_at + (queue_after + wait) * interval '1 second',
           CASE WHEN answered THEN created_at + (queue_after + wait + gap)
                                                 * interval '1 second' END,
           CASE WHEN answered THEN employee_id END,
           CASE WHEN closed THEN employee_id END
    FROM plan;
    INSERT INTO request_transitions (request_id, kind, actor_employee_id, details, created_at)
    SELECT request_id, 'created', NULL, '{{}}'::json, created_at FROM plan
    UNION ALL
    SELECT request_id, 'accepted', employee_id, '{{}}'::json,
           created_at + (queue_after + wait) * interval '1 second' FROM plan
    UNION ALL
    SELECT request_id, 'closed', employee_id, '{{}}'::json,
           created_at + (queue_after + wait + 12 * gap) * interval '1 second'
    FROM plan WHERE closed;
    -- The conversation: the client writes first, then the employee and the client in turn
    -- (only the client when nobody answered).
    INSERT INTO messages (room_id, kind, body, meta, created_at, author_client_id,
                          author_employee_id)
    SELECT p.room_id, 'text', 'Сообщение ' || k || ' по заявке ' || p.n, '{{}}',
           p.created_at + (CASE WHEN k = 0 THEN 0 ELSE p.queue_after + p.wait + k * p.gap END)
                          * interval '1 second',
           CASE WHEN k % 2 = 0 OR NOT p.answered THEN p.client_id END,
           CASE WHEN k % 2 = 1 AND p.answered THEN p.employee_id END
    FROM plan p CROSS JOIN generate_series(0, {messages_per_request - 1}) k;
    INSERT INTO ratings (request_id, client_id, asked_at, score, comment, rated_at)
    SELECT request_id, client_id, created_at,
           CASE WHEN rated < 0.015 THEN 1 WHEN rated < 0.03 THEN 2 WHEN rated < 0.06 THEN 3
                WHEN rated < 0.135 THEN 4 ELSE 5 END,
           '', created_at
    FROM plan WHERE closed AND rated < 0.3;
    """


@dataclass
class Figure:
    name: str
    target_ms: float
    runs_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    def line(self) -> str:
        verdict = "ok" if self.median <= self.target_ms else "over"
        return (
            f"| {self.name} | {self.median:,.0f} ms | {max(self.runs_ms):,.0f} ms "
            f"| ≤ {self.target_ms:,.0f} ms | {verdict} |"
        )


class Server:
    def __init__(self, database: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "IMP_SECRET_KEY": "bench-secret-key",
            "IMP_HOST": "127.0.0.1",
            "IMP_PORT": str(self.port),
            "IMP_PUBLIC_BASE_URL": self.url,
            "IMP_DATA_DIR": str(workdir / "data"),
            "IMP_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
            "IMP_REDIS_URL": "redis://127.0.0.1:6379/0",
            "IMP_REDIS_PREFIX": f"imp-bench-{database}",
            "IMP_FILES_SHARED": "true",  # one instance on one machine
        }
        self.log = workdir / "imp.log"
        self.process: subprocess.Popen[bytes] | None = None

    def demo(self) -> None:
        subprocess.run(
            [*SERVER, "demo", "--demo-language", "en"], env=self.env, check=True,
            capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        log = open(self.log, "wb")  # noqa: SIM115
        self.process = subprocess.Popen([*SERVER, "run"], env=self.env, stdout=log, stderr=log)
        wait_until_up(self.url)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)


def signed_in(url: str, login: str) -> httpx.Client:
    http = httpx.Client(base_url=url, timeout=120)
    response = http.post("/api/auth/login", json={"login": login, "password": PASSWORD})
    response.raise_for_status()
    return http


def timed(http: httpx.Client, path: str, params: dict[str, Any], runs: int) -> list[float]:
    """Milliseconds per request, after one run that warms the caches."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        response = http.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:300]}")
        if attempt:
            times.append(elapsed)
    return times


def measure(server: Server, runs: int) -> list[Figure]:
    admin = signed_in(server.url, "admin")
    supervisor = signed_in(server.url, "bench1")
    employee = signed_in(server.url, "bench2")
    queue_id = admin.get("/api/archive/choices").json()["queues"][0]["id"]
    employee_id = next(
        e["id"] for e in admin.get("/api/archive/choices").json()["employees"]
        if e["name"] == "Сотрудник 5"
    )  # fmt: skip
    month = {"date_from": "2026-06-01", "date_to": "2026-06-30", "tz": "Europe/Moscow"}
    quarter = {"date_from": "2026-04-01", "date_to": "2026-06-30", "tz": "Europe/Moscow"}
    year = {"date_from": "2026-01-01", "date_to": "2026-12-31", "tz": "Europe/Moscow"}
    report = "/api/reports/team"
    archive = "/api/archive"
    june = {"date_from": "2026-06-01", "date_to": "2026-06-30"}
    cases: list[tuple[str, httpx.Client, str, dict[str, Any], float]] = [
        ("report: a month, everything", admin, report, month, REPORT_TARGET_MS),
        ("report: a quarter, everything", admin, report, quarter, REPORT_TARGET_MS),
        ("report: the year, everything", admin, report, year, REPORT_TARGET_MS),
        ("report: a month, one queue", admin, report, {**month, "queue_id": queue_id},
         REPORT_TARGET_MS),
        ("report: the year, one queue", admin, report, {**year, "queue_id": queue_id},
         REPORT_TARGET_MS),
        ("report: the year, as a supervisor (their website)", supervisor, report,
         {**year, "resource_id": 1}, REPORT_TARGET_MS),
        ("report: a month, one employee", admin, report, {**month, "employee_id": employee_id},
         REPORT_TARGET_MS),
        ("report: a month, as a supervisor (their website)", supervisor, report,
         {**month, "resource_id": 1}, REPORT_TARGET_MS),
        ("archive: one queue, a month, page 1", admin, archive, {**june, "queue_id": queue_id},
         ARCHIVE_TARGET_MS),
        ("archive: one queue, a month, page 20", admin, archive,
         {**june, "queue_id": queue_id, "page": 20}, ARCHIVE_TARGET_MS),
        ("archive: client by surname (1 in 30 clients)", admin, archive,
         {"client": "Лебедев"}, ARCHIVE_TARGET_MS),
        ("archive: client by e-mail", admin, archive, {"client": "client123457@"},
         ARCHIVE_TARGET_MS),
        ("archive: everything, page 1", admin, archive, {}, ARCHIVE_TARGET_MS),
        ("archive: one queue, a month, as a supervisor", supervisor, archive,
         {**june, "queue_id": queue_id}, ARCHIVE_TARGET_MS),
        ("archive: an employee's own requests, page 1", employee, archive, {},
         ARCHIVE_TARGET_MS),
        ("archive: one request opened", admin, "/api/archive/{id}", {}, ARCHIVE_TARGET_MS),
    ]  # fmt: skip
    figures = []
    for name, http, path, params, target in cases:
        if "{id}" in path:
            newest = admin.get(archive, params={"page_size": 1}).json()["items"][0]["id"]
            path = path.format(id=newest)
        figures.append(Figure(name, target, timed(http, path, params, runs)))
        print(figures[-1].line(), flush=True)
    return figures


def counts(database: str) -> str:
    found = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-Atc",
         "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM messages), "
         "(SELECT count(*) FROM queues), (SELECT count(*) FROM employees), "
         "(SELECT count(*) FROM clients), (SELECT count(*) FROM ratings)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip().split("|")  # fmt: skip
    names = ("requests", "messages", "queues", "employees", "clients", "ratings")
    return ", ".join(f"{int(n):,} {name}" for n, name in zip(found, names, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--messages-per-request", type=int, default=10)
    parser.add_argument("--clients", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a database kept earlier")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    database = args.reuse or f"imp_bench_reports_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(database, Path(workdir))
        try:
            if not args.reuse:
                psql(f'CREATE DATABASE "{database}"')
                server.demo()
                started = time.monotonic()
                subprocess.run(
                    ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q",
                     "-v", "ON_ERROR_STOP=1", "-f", "-"],
                    input=fill_sql(args.requests, args.messages_per_request, args.clients),
                    text=True, check=True,
                )  # fmt: skip
                psql_in(database, "VACUUM ANALYZE")
                print(f"filled in {time.monotonic() - started:,.0f} s", flush=True)
            print(f"database {database}: {counts(database)}", flush=True)
            server.start()
            caught_up_in = wait_for_roll_up(database)
            print(f"report tallies caught up in {caught_up_in:,.0f} s", flush=True)
            # What autovacuum does soon after such a backfill: statistics for the new rows
            # (without them PostgreSQL sorts the tallies on disk), old row versions gone.
            psql_in(database, "VACUUM ANALYZE")
            print(f"\n| query | median of {args.runs} | slowest | target | |")
            print("|---|---|---|---|---|")
            measure(server, args.runs)
        finally:
            server.stop()
            if not (args.keep or args.reuse):
                psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            elif not args.reuse:
                print(f"kept: --reuse {database}")


def wait_for_roll_up(database: str) -> float:
    """Seconds until no day waits to be tallied (a database filled around the actions, or
    from before the tallies, is tallied by the server's roll-up once it starts). At once for
    a server from before the tallies (no such table)."""
    started = time.monotonic()
    while True:
        waiting = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-Atc",
             "SELECT count(*) FROM report_changes"],
            capture_output=True, text=True,
        )  # fmt: skip
        if waiting.returncode != 0 or waiting.stdout.strip() == "0":
            return time.monotonic() - started
        time.sleep(2)


def psql_in(database: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    main()
