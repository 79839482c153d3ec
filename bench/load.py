"""Load figures: delivery latency, throughput, idle connections and the widget's cost.

Starts IMP as real server processes in one configuration and drives it from this separate
process over real HTTP and WebSocket connections, the way workspace tabs and widgets do:

    uv run python bench/load.py --config pg               # PostgreSQL + Redis, one instance
    uv run python bench/load.py --config all              # sqlite, pg and pg2 in turn
    uv run python bench/load.py --config pg2 --workloads delivery,throughput

Configurations: ``sqlite`` (the embedded default: SQLite, in-process bus), ``pg`` (PostgreSQL +
Redis, one instance), ``pg2`` (PostgreSQL + Redis, two instances; every person's HTTP goes to one
instance and half of their sockets to the other, so most deliveries cross instances).

Workloads:
  single      one sender waiting for each answer, two receiving sockets: a bare relay
              (``bench/relay.py``: Starlette and Redis pub/sub, no authentication, no storage)
              and IMP's three sends (room message, employee reply, visitor message), interleaved
              in the same invocation; then the same paced at a fixed rate. Server CPU per
              message, the rate one sender reaches, delivery p50/p99 when paced, and each as a
              multiple of the relay's of the same round.
  delivery    N employees (each with several tabs) in rooms and M widget visitors in accepted
              requests; messages at a fixed rate (half in rooms, a quarter employee replies, a
              quarter visitor messages); time from send to receipt at every socket that should
              get it; p50/p95/p99 and loss (acknowledged messages a socket never received).
  throughput  the same population at rising rates; the highest with p99 < 100 ms and no loss.
  connections idle authenticated sockets held by one instance, and its memory per socket.
  widget      bytes of the loader and of the widget UI (gzip), and time to a visitor's first
              message (load loader, frame and assets, start a session, open the socket, send,
              see it echoed).

Every simulated person gets its own loopback source address (127.10.x.y), as distinct people
would, so per-IP limits apply to each person and not to the benchmark as a whole.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"
SERVER = [sys.executable, "-c", "from impserver.cli import main; main()"]
COMPRESSION = 15
BODY = re.compile(r'"body":"b(\d+)t(\d+)"')
T = TypeVar("T")


# -- deployment ------------------------------------------------------------------------------


@dataclass
class Deployment:
    """IMP server processes in one configuration, on a fresh database."""

    name: str
    workdir: Path
    instances: int = 1
    postgres: bool = False
    workers: int = 1
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    database: str = ""

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def url(self, index: int) -> str:
        return self.urls[index % len(self.urls)]

    @property
    def site_origin(self) -> str:
        """The demo website's origin: the demo seeds IMP's own address as the site."""
        return self.urls[0]

    def environment(self, port: int) -> dict[str, str]:
        env = {
            **os.environ,
            "IMP_SECRET_KEY": "bench-secret-key",
            "IMP_HOST": "127.0.0.1",
            "IMP_PORT": str(port),
            "IMP_PUBLIC_BASE_URL": self.urls[0],
            "IMP_DATA_DIR": str(self.workdir / "data"),
        }
        if self.postgres:
            env["IMP_DATABASE_URL"] = (
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"
            )
            env["IMP_REDIS_URL"] = "redis://127.0.0.1:6379/0"
            env["IMP_FILES_SHARED"] = "true"  # one machine: the instances share its disk
            env["IMP_REDIS_PREFIX"] = f"imp-bench-{self.database}"
            env["IMP_WORKERS"] = str(self.workers)
        return env

    def relay_store(self) -> str:
        """Where the relay that keeps messages keeps them: a database of the same kind."""
        if self.postgres:
            return f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        return f"sqlite:///{self.workdir / 'relay.db'}"

    def start(self) -> None:
        if self.postgres:
            self.database = f"imp_bench_{uuid.uuid4().hex[:8]}"
            psql(f'CREATE DATABASE "{self.database}"')
        self.ports = [free_port() for _ in range(self.instances)]
        # The demo data gives an administrator and a website with queues to build on.
        subprocess.run(
            [*SERVER, "demo", "--demo-language", "en"],
            env=self.environment(self.ports[0]),
            check=True,
            capture_output=True,
        )
        for index, port in enumerate(self.ports):
            log = open(self.workdir / f"imp-{index}.log", "wb")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    [*SERVER, "run"], env=self.environment(port), stdout=log, stderr=log
                )
            )
        for url in self.urls:
            wait_until_up(url)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.postgres and self.database:
            psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server processes (their workers included) have used
        so far."""
        return sum(
            process_cpu_seconds(pid)
            for process in self.processes
            for pid in [process.pid, *child_processes(process.pid)]
        )

    def database_processes(self) -> list[int]:
        """The PostgreSQL backends serving this deployment's database (none on SQLite, where
        the database works inside the server processes)."""
        if not self.postgres:
            return []
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if f" {self.database} ".encode() in cmdline.read_bytes():
                    found.append(int(cmdline.parent.name))
            except (OSError, ValueError):
                continue  # a backend that ended meanwhile
        return found

    def memory(self, index: int = 0) -> int:
        """Resident memory of one server process, in bytes."""
        status = Path(f"/proc/{self.processes[index].pid}/status").read_text()
        kilobytes = next(
            line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")
        )
        return int(kilobytes) * 1024


class CpuMeter:
    """CPU time used by a changing set of processes since the meter started. A process that
    ends in between takes its time with it; one that starts counts from zero."""

    def __init__(self, processes: Callable[[], list[int]]) -> None:
        self.processes = processes
        self.start = self.read()

    def read(self) -> dict[int, float]:
        times = {}
        for pid in self.processes():
            try:
                times[pid] = process_cpu_seconds(pid)
            except (OSError, ValueError):
                continue
        return times

    def seconds(self) -> float:
        return sum(max(0.0, t - self.start.get(pid, 0.0)) for pid, t in self.read().items())


def child_processes(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                children.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
    return children


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"IMP at {url} did not start") from None
            time.sleep(0.2)


# -- simulated people ------------------------------------------------------------------------

_next_address = 0


def source_address() -> str:
    """A loopback address of its own for each simulated person."""
    global _next_address
    _next_address += 1
    n = _next_address
    return f"127.10.{n // 250}.{n % 250 + 1}"


SESSIONS: list[aiohttp.ClientSession] = []


def new_http(base_url: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(
        base_url=base_url,
        # Below uvicorn's 5 s keep-alive, so an idle connection is never reused just as the
        # server closes it.
        connector=aiohttp.TCPConnector(
            local_addr=(source_address(), 0), limit=0, keepalive_timeout=3
        ),
        # IMP's cookies are set for a numeric host, which a browser accepts too.
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=60),
    )
    SESSIONS.append(session)
    return session


async def close_sessions() -> None:
    while SESSIONS:
        await SESSIONS.pop().close()


class Recorder:
    """Send times, expected audiences and receipts of the messages of one measured run."""

    def __init__(self) -> None:
        self.expected: dict[int, int] = {}
        self.acknowledged: set[int] = set()
        self.received: Counter[int] = Counter()
        self.seen: set[tuple[int, int]] = set()
        self.latencies_ms: list[float] = []
        self.ack_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.active = False

    def receipt(self, tab: int, frame: str) -> None:
        now = time.time_ns()
        for match in BODY.finditer(frame):
            seq = int(match.group(1))
            if not self.active or seq not in self.expected or (tab, seq) in self.seen:
                continue
            self.seen.add((tab, seq))
            self.received[seq] += 1
            self.latencies_ms.append((now - int(match.group(2))) / 1e6)

    def missing(self) -> int:
        return sum(self.expected[s] - self.received[s] for s in self.acknowledged)


RECORDER = Recorder()


@dataclass
class Tab:
    """One open socket: a workspace tab or a widget."""

    index: int
    ws: aiohttp.ClientWebSocketResponse
    reader: asyncio.Task[None] | None = None
    # Commands sent on this socket awaiting their answer, by ref.
    answers: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    commands: int = 0

    async def read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            text = message.data
            if text == '{"type":"ping"}':
                await self.ws.send_str('{"type":"pong"}')
                continue
            if text.startswith(ANSWER_PREFIXES):
                # The answer to a send from this tab: not a delivery, though it holds the body.
                answer = json.loads(text)
                waiting = self.answers.pop(str(answer.get("ref")), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(answer)
                continue
            if '"body":"b' in text:
                RECORDER.receipt(self.index, text)

    async def command(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send a command with a ref of its own and wait for its ack or error."""
        self.commands += 1
        ref = f"b{self.commands}"
        answer = asyncio.get_running_loop().create_future()
        self.answers[ref] = answer
        await self.ws.send_str(json.dumps({**frame, "ref": ref}))
        try:
            async with asyncio.timeout(COMMAND_ANSWER_SECONDS):
                return await answer
        finally:
            self.answers.pop(ref, None)


# How the gateway's answers to a command begin (the ack, as the send commands write it; the
# error, as json.dumps writes it).
ANSWER_PREFIXES = ('{"type":"ack"', '{"type": "error"')
# A send over a socket with no answer by then counts as failed (TimeoutError), as HTTP's would.
COMMAND_ANSWER_SECONDS = 30
_tab_count = 0


async def open_tab(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str] | None = None,
    protocols: tuple[str, ...] = (),
) -> Tab:
    global _tab_count
    # Browsers offer permessage-deflate; --no-compression shows what it costs the server.
    ws = await http.ws_connect(
        url,
        headers=headers,
        protocols=protocols,
        heartbeat=None,
        max_msg_size=0,
        compress=COMPRESSION,
    )
    await ws.send_str(json.dumps({"type": "hello", "last_event_id": None}))
    while True:
        frame = json.loads((await ws.receive(timeout=30)).data)
        if frame.get("type") == "ready":
            break
        if frame.get("type") == "closed":
            raise RuntimeError(f"socket refused: {frame}")
    _tab_count += 1
    tab = Tab(_tab_count, ws)
    tab.reader = asyncio.create_task(tab.read())
    return tab


@dataclass
class Employee:
    index: int
    login: str
    id: int = 0
    http: aiohttp.ClientSession | None = None
    room_id: int = 0
    room_tabs: int = 0
    tabs: list[Tab] = field(default_factory=list)

    async def post(self, path: str, payload: Any) -> aiohttp.ClientResponse:
        assert self.http is not None
        csrf = self.http.cookie_jar.filter_cookies(self.http._base_url)  # type: ignore[arg-type]
        headers = {"X-CSRF-Token": csrf["imp_csrf"].value}
        async with self.http.post(path, json=payload, headers=headers) as response:
            await response.read()
            return response


@dataclass
class Visitor:
    index: int
    http: aiohttp.ClientSession
    token: str = ""
    request_id: int = 0
    assignee: Employee | None = None
    tab: Tab | None = None

    async def post(self, path: str, payload: Any) -> aiohttp.ClientResponse:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.post(path, json=payload, headers=headers) as response:
            await response.read()
            return response


@dataclass
class Population:
    deployment: Deployment
    employees: list[Employee]
    visitors: list[Visitor]
    site: dict[str, Any]

    def sockets(self) -> int:
        return sum(len(e.tabs) for e in self.employees) + sum(1 for v in self.visitors if v.tab)

    async def close(self) -> None:
        for person in [*self.employees, *self.visitors]:
            for tab in getattr(person, "tabs", []) or [getattr(person, "tab", None)]:
                if tab is not None:
                    await tab.ws.close()
            if person.http is not None:
                await person.http.close()


async def gather_limited(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


async def expect(response: aiohttp.ClientResponse, *statuses: int) -> Any:
    if response.status not in statuses:
        raise RuntimeError(
            f"{response.method} {response.url}: {response.status} {await response.text()}"
        )
    return await response.json() if response.content_type == "application/json" else None


async def build_population(
    deployment: Deployment,
    employees: int,
    tabs: int,
    visitors: int,
    room_size: int,
    login_prefix: str = "bench",
) -> Population:
    """Employees with tabs in rooms, and visitors whose requests those serving have accepted."""
    started = time.monotonic()
    admin = Employee(-1, "admin", http=new_http(deployment.url(0)))
    assert admin.http is not None
    await expect(
        await admin.http.post("/api/auth/login", json={"login": "admin", "password": "admin-demo"}),
        200,
    )
    sites = await expect(await admin.http.get("/api/admin/resources"), 200)
    site = next(s for s in sites if s["name"] == "Demo website")
    queue_id = next(q["id"] for q in site["queues"] if q["name"] == "Sales")
    staff = [Employee(i, f"{login_prefix}{i:05d}") for i in range(employees)]
    serving = staff[: max(1, employees // 5)]

    async def create(person: Employee) -> None:
        payload = {"login": person.login, "name": f"Bench {person.index}", "password": PASSWORD}
        created = await expect(await admin.post("/api/admin/employees", payload), 201)
        person.id = created["id"]
        if person in serving:
            assert admin.http is not None
            csrf = admin.http.cookie_jar.filter_cookies(admin.http._base_url)["imp_csrf"].value  # type: ignore[arg-type]
            async with admin.http.put(
                f"/api/admin/employees/{person.id}/queues",
                json={"queue_ids": [queue_id]},
                headers={"X-CSRF-Token": csrf},
            ) as response:
                await expect(response, 200)

    async def log_in(person: Employee) -> None:
        person.http = new_http(deployment.url(person.index))
        credentials = {"login": person.login, "password": PASSWORD}
        await expect(await person.http.post("/api/auth/login", json=credentials), 200)

    # Password hashing is deliberately slow; two at a time keeps both cores busy.
    await gather_limited(4, [lambda p=p: create(p) for p in staff])  # type: ignore[misc]
    await gather_limited(4, [lambda p=p: log_in(p) for p in staff])  # type: ignore[misc]
    print(f"  {employees} employees created and logged in ({time.monotonic() - started:.0f} s)")

    async def make_room(members: list[Employee]) -> None:
        owner = members[0]
        payload = {"name": f"Room {owner.index}", "member_ids": [m.id for m in members[1:]]}
        room = await expect(await owner.post("/api/rooms", payload), 201)
        for member in members:
            member.room_id = room["id"]

    groups = [staff[i : i + room_size] for i in range(0, len(staff), room_size)]
    await gather_limited(16, [lambda g=g: make_room(g) for g in groups if len(g) > 1])  # type: ignore[misc]

    guests = [Visitor(i, new_http(deployment.url(i))) for i in range(visitors)]

    async def arrive(visitor: Visitor) -> None:
        session = await expect(
            await visitor.http.post(
                "/api/widget/session",
                json={
                    "public_key": site["public_key"],
                    "page_url": f"{deployment.site_origin}/catalog",
                    "embedding_origin": deployment.site_origin,
                    "language": "ru",
                },
            ),
            200,
        )
        visitor.token = session["visitor_token"]
        auth = {"Authorization": f"Bearer {visitor.token}"}
        async with visitor.http.post(
            "/api/widget/topic", json={"queue_id": queue_id}, headers=auth
        ) as response:
            await expect(response, 200)
        async with visitor.http.post(
            "/api/widget/messages", json={"body": "Здравствуйте"}, headers=auth
        ) as response:
            await expect(response, 201)
        async with visitor.http.get("/api/widget/conversation", headers=auth) as response:
            visitor.request_id = (await expect(response, 200))["request"]["id"]
        visitor.assignee = serving[visitor.index % len(serving)]
        await expect(
            await visitor.assignee.post(f"/api/requests/{visitor.request_id}/accept", {}), 200
        )

    await gather_limited(16, [lambda v=v: arrive(v) for v in guests])  # type: ignore[misc]
    print(f"  {visitors} visitors with accepted requests ({time.monotonic() - started:.0f} s)")

    async def open_employee_tabs(person: Employee) -> None:
        assert person.http is not None
        for tab in range(tabs):
            # Half of the tabs on the other instance, when there is one.
            url = deployment.url(person.index + tab).replace("http", "ws") + "/ws"
            person.tabs.append(await open_tab(person.http, url))

    async def open_widget(visitor: Visitor) -> None:
        url = deployment.url(visitor.index + 1).replace("http", "ws")
        visitor.tab = await open_tab(
            visitor.http, f"{url}/ws/widget", protocols=("imp.visitor", visitor.token)
        )

    await gather_limited(32, [lambda p=p: open_employee_tabs(p) for p in staff])  # type: ignore[misc]
    await gather_limited(32, [lambda v=v: open_widget(v) for v in guests])  # type: ignore[misc]
    tabs_by_room: Counter[int] = Counter()
    for person in staff:
        tabs_by_room[person.room_id] += len(person.tabs)
    for person in staff:
        person.room_tabs = tabs_by_room[person.room_id]
    await admin.http.close()
    population = Population(deployment, staff, guests, site)
    print(f"  {population.sockets()} sockets open ({time.monotonic() - started:.0f} s)")
    return population


# -- workloads -------------------------------------------------------------------------------


@dataclass
class RunResult:
    rate: float
    seconds: float
    sent: int
    acknowledged: int
    deliveries: int
    missing: int
    p50: float
    p95: float
    p99: float
    max: float
    ack_p99: float
    cpu_ms_per_message: float
    database_cpu_ms_per_message: float
    generator_cpu_ms_per_message: float
    errors: dict[str, int]

    @property
    def achieved_rate(self) -> float:
        return self.acknowledged / self.seconds


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def send_one(population: Population, seq: int) -> None:
    """Send message ``seq`` as the workload's mix dictates and note who should receive it."""
    body = f"b{seq}t{time.time_ns()}"
    payload = {"body": body, "client_message_id": f"bench-{seq}"}
    kind = seq % 4
    if kind in (0, 1):
        rooms = [e for e in population.employees if e.room_id]
        sender = rooms[(seq // 2) % len(rooms)]
        RECORDER.expected[seq] = sender.room_tabs
        call = sender.post(f"/api/rooms/{sender.room_id}/messages", payload)
        path = "room"
    else:
        visitor = population.visitors[(seq // 4) % len(population.visitors)]
        assert visitor.assignee is not None
        RECORDER.expected[seq] = 1 + len(visitor.assignee.tabs)
        if kind == 2:
            call = visitor.assignee.post(f"/api/requests/{visitor.request_id}/messages", payload)
            path = "reply"
        else:
            call = visitor.post("/api/widget/messages", payload)
            path = "visitor"
    started = time.perf_counter()
    try:
        status = (await call).status
    except (aiohttp.ClientError, TimeoutError) as exc:
        RECORDER.errors[f"{path}: {type(exc).__name__}"] += 1
        return
    if status in (200, 201):
        RECORDER.acknowledged.add(seq)
        RECORDER.ack_ms.append((time.perf_counter() - started) * 1000)
    else:
        RECORDER.errors[f"{path}: HTTP {status}"] += 1


_next_seq = 0


@contextlib.contextmanager
def collector_held() -> Iterator[None]:
    """This process's garbage collector held off while it measures. A full collection over the
    load generator's thousands of sockets pauses it for a quarter of a second, and every receipt
    of that moment would be counted as a late delivery of the server's. What the run leaves is
    collected after it."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def run_rate(population: Population, rate: float, seconds: float) -> RunResult:
    """Send at ``rate`` messages/s for ``seconds``; wait for deliveries to drain; measure."""
    with collector_held():
        return await _run_rate(population, rate, seconds)


async def _run_rate(population: Population, rate: float, seconds: float) -> RunResult:
    global RECORDER
    RECORDER = Recorder()
    RECORDER.active = True
    global _next_seq
    pending: set[asyncio.Task[None]] = set()
    sent = 0
    cpu_before = population.deployment.cpu_seconds()
    database_cpu = CpuMeter(population.deployment.database_processes)
    generator_cpu_before = process_cpu_seconds(os.getpid())
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            # Numbers never repeat across runs, so a late delivery is not counted twice.
            _next_seq += 1
            task = asyncio.create_task(send_one(population, _next_seq))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        await asyncio.sleep(0.002)
    if pending:
        await asyncio.wait(pending, timeout=60)
    drain_deadline = time.monotonic() + 15
    # Receipts arrive on many sockets; checking the count now and then is simpler than signalling.
    while RECORDER.missing() and time.monotonic() < drain_deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    latencies = RECORDER.latencies_ms
    cpu = population.deployment.cpu_seconds() - cpu_before
    database_seconds = database_cpu.seconds()
    generator_cpu = process_cpu_seconds(os.getpid()) - generator_cpu_before
    per_message = 1000 / max(1, len(RECORDER.acknowledged))
    return RunResult(
        rate=rate,
        seconds=seconds,
        sent=sent,
        acknowledged=len(RECORDER.acknowledged),
        deliveries=len(latencies),
        missing=RECORDER.missing(),
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        p99=percentile(latencies, 0.99),
        max=max(latencies, default=float("nan")),
        ack_p99=percentile(RECORDER.ack_ms, 0.99),
        cpu_ms_per_message=cpu * per_message,
        database_cpu_ms_per_message=database_seconds * per_message,
        generator_cpu_ms_per_message=generator_cpu * per_message,
        errors=dict(RECORDER.errors),
    )


def print_runs(title: str, runs: list[RunResult]) -> None:
    print(f"\n{title}")
    # CPU per message, in ms: the IMP server processes, the PostgreSQL backends serving them
    # and this load generator, which all share the machine.
    columns = (
        "rate/s sent acked delivered lost p50_ms p95_ms p99_ms max_ms ack_p99 "
        "server_cpu db_cpu loader_cpu"
    )
    print("  " + " ".join(f"{c:>10}" for c in columns.split()) + "  errors")
    for r in runs:
        cells = [
            f"{r.rate:.0f}",
            r.sent,
            r.acknowledged,
            r.deliveries,
            r.missing,
            *(f"{v:.1f}" for v in (r.p50, r.p95, r.p99, r.max, r.ack_p99)),
            *(
                f"{v:.2f}"
                for v in (
                    r.cpu_ms_per_message,
                    r.database_cpu_ms_per_message,
                    r.generator_cpu_ms_per_message,
                )
            ),
        ]
        print("  " + " ".join(f"{c:>10}" for c in cells) + f"  {r.errors or '-'}")


async def delivery(population: Population, rate: float, seconds: float) -> RunResult:
    await run_rate(population, rate / 4, 3)  # warm-up: connection pools, caches
    result = await run_rate(population, rate, seconds)
    print_runs(
        f"Delivery: {len(population.employees)} employees, {len(population.visitors)} visitors, "
        f"{population.sockets()} sockets, {rate:.0f} messages/s for {seconds:.0f} s",
        [result],
    )
    return result


async def throughput(population: Population, seconds: float, rates: list[float]) -> float:
    runs: list[RunResult] = []
    best = 0.0
    failed_in_a_row = 0
    for rate in rates:
        result = await run_rate(population, rate, seconds)
        runs.append(result)
        # An open-loop sender shows overload as latency. One bad step may be a hiccup of a busy
        # machine; two in a row is the limit.
        if result.p99 < 100 and result.missing == 0 and not result.errors:
            best = max(best, result.achieved_rate)
            failed_in_a_row = 0
        else:
            failed_in_a_row += 1
            if failed_in_a_row == 2:
                break
        await asyncio.sleep(2)
    print_runs("Throughput: rising rates until p99 >= 100 ms twice in a row", runs)
    print(f"  highest sustained rate with p99 < 100 ms: {best:.0f} messages/s")
    return best


async def connections(deployment: Deployment, population: Population, count: int) -> None:
    """Idle workspace tabs on instance 0: how many it holds and what each costs in memory."""
    people = population.employees
    await asyncio.sleep(2)
    before = deployment.memory(0)
    url = deployment.url(0).replace("http", "ws") + "/ws"
    started = time.monotonic()
    extra: list[Tab] = []
    failures: Counter[str] = Counter()

    async def open_one(i: int) -> None:
        person = people[i % len(people)]
        assert person.http is not None
        try:
            extra.append(await open_tab(person.http, url))
        except Exception as exc:  # a refused socket is a figure here, not a crash
            failures[type(exc).__name__] += 1

    await gather_limited(64, [lambda i=i: open_one(i) for i in range(count)])  # type: ignore[misc]
    opened = time.monotonic() - started
    # Hold them past a heartbeat round, so the figure is for sockets the server keeps alive.
    await asyncio.sleep(25)
    after = deployment.memory(0)
    alive = sum(1 for tab in extra if not tab.ws.closed)
    per_socket = (after - before) / max(1, len(extra))
    print("\nConnections: idle authenticated sockets on one instance")
    print(f"  opened {len(extra)} of {count} in {opened:.1f} s; still open after 25 s: {alive}")
    print(f"  failures: {dict(failures) or '-'}")
    print(
        f"  server memory {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB: "
        f"{per_socket / 1024:.1f} KB per socket"
    )
    for tab in extra:
        await tab.ws.close()


async def read(http: aiohttp.ClientSession, path: str) -> bytes:
    async with http.get(path) as response:
        return await response.read()


async def widget_cost(deployment: Deployment, site: dict[str, Any], runs: int) -> None:
    base = deployment.url(0)
    http = new_http(base)
    loader = await (await http.get("/widget/loader.js")).read()
    frame_html = await (await http.get(f"/widget/frame?key={site['public_key']}")).text()
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', frame_html)
    bodies = [frame_html.encode()] + [await (await http.get(a)).read() for a in assets]
    ui_raw = sum(len(b) for b in bodies)
    ui_gzip = sum(len(gzip.compress(b, 9)) for b in bodies)
    rrweb_in_widget = any(b"rrweb" in b for b in [loader, *bodies])
    await http.close()

    async def first_message() -> float:
        visitor_http = new_http(base)
        started = time.perf_counter()
        await (await visitor_http.get("/widget/loader.js")).read()
        await (await visitor_http.get(f"/widget/frame?key={site['public_key']}")).read()
        await asyncio.gather(*(read(visitor_http, a) for a in assets))
        session = await expect(
            await visitor_http.post(
                "/api/widget/session",
                json={"public_key": site["public_key"], "embedding_origin": deployment.site_origin},
            ),
            200,
        )
        token = session["visitor_token"]
        ws_url = base.replace("http", "ws") + "/ws/widget"
        ws = await visitor_http.ws_connect(ws_url, protocols=("imp.visitor", token))
        await ws.send_str('{"type":"hello","last_event_id":null}')
        await visitor_http.post(
            "/api/widget/messages",
            json={"body": "first"},
            headers={"Authorization": f"Bearer {token}"},
        )
        while '"body":"first"' not in (await ws.receive(timeout=10)).data:
            pass
        elapsed = (time.perf_counter() - started) * 1000
        await ws.close()
        await visitor_http.close()
        return elapsed

    times = [await first_message() for _ in range(runs)]
    print("\nWidget cost")
    print(f"  loader: {len(loader)} B, {len(gzip.compress(loader, 9))} B gzip (target 5 KB)")
    print(
        f"  widget UI (frame page + {len(assets)} assets): {ui_raw} B, {ui_gzip} B gzip "
        f"(target 60 KB); rrweb in loader or widget UI: {'yes' if rrweb_in_widget else 'no'}"
    )
    print(
        f"  time to first message (loader, frame, assets, session, socket, send, echo): "
        f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms over {runs} visitors"
    )


# -- single sender against a bare relay -------------------------------------------------------


@dataclass
class Relay:
    """``bench/relay.py`` in a process of its own: the reference measured in the same run."""

    workdir: Path
    # Where the relay keeps each message (its --store); empty: it keeps nothing.
    store: str = ""
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        log = open(self.workdir / f"relay{'-store' if self.store else ''}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "relay.py"),
                "--port",
                str(self.port),
                "--channel",
                f"imp-bench-relay-{uuid.uuid4().hex[:8]}",
                *(["--store", self.store] if self.store else []),
            ],
            stdout=log,
            stderr=log,
        )
        wait_until_up(self.url)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return process_cpu_seconds(self.process.pid)


# Sends one message; answers the HTTP status (or, over a socket, what its ack stands for).
Send = Callable[[int, dict[str, Any]], Awaitable[int]]


class SocketRefused(Exception):
    """A send over a socket answered with an error frame (its code)."""


async def socket_send(tab: Tab, frame: dict[str, Any]) -> int:
    answer = await tab.command(frame)
    if answer.get("type") != "ack":
        raise SocketRefused(answer.get("code"))
    return 201 if answer["created"] else 200


@dataclass
class SingleSender:
    """One kind of send, from one sender, to two receiving sockets."""

    name: str
    send: Send
    cpu_seconds: Callable[[], float]
    receivers: int = 2


@dataclass
class SingleResult:
    name: str
    rate: float
    cpu_ms: float
    generator_cpu_ms: float
    p50: float
    p99: float
    paced_cpu_ms: float
    lost: int
    errors: dict[str, int]


SINGLE_FIGURES = ("rate", "cpu_ms", "generator_cpu_ms", "p50", "p99", "paced_cpu_ms")
SINGLE_VISITORS = 80  # visitor sends rotate among them: a visitor may send 30 a minute


async def single_relay(relay: Relay) -> SingleSender:
    http = new_http(relay.url)
    for _ in range(2):
        global _tab_count
        ws = await http.ws_connect(
            f"{relay.url.replace('http', 'ws')}/rooms/1/socket",
            heartbeat=None,
            max_msg_size=0,
            compress=COMPRESSION,
        )
        _tab_count += 1
        tab = Tab(_tab_count, ws)
        tab.reader = asyncio.create_task(tab.read())

    async def send(seq: int, payload: dict[str, Any]) -> int:
        async with http.post("/rooms/1/messages", json=payload) as response:
            await response.read()
            return response.status

    return SingleSender("relay, kept" if relay.store else "relay", send, relay.cpu_seconds)


async def single_population(deployment: Deployment) -> list[SingleSender]:
    """A room of two employees with one tab each, and visitors whose requests the first of
    them has accepted, each with a widget socket: each of the three sends reaches two sockets
    (the room's two tabs; the visitor's widget and the employee's tab)."""
    population = await build_population(
        deployment,
        employees=2,
        tabs=1,
        visitors=SINGLE_VISITORS,
        room_size=2,
        login_prefix="single",
    )
    employee = population.employees[0]
    visitors = population.visitors
    assert all(v.assignee is employee for v in visitors) and employee.room_tabs == 2

    async def room(seq: int, payload: dict[str, Any]) -> int:
        return (await employee.post(f"/api/rooms/{employee.room_id}/messages", payload)).status

    async def reply(seq: int, payload: dict[str, Any]) -> int:
        path = f"/api/requests/{visitors[0].request_id}/messages"
        return (await employee.post(path, payload)).status

    async def visitor(seq: int, payload: dict[str, Any]) -> int:
        return (await visitors[seq % len(visitors)].post("/api/widget/messages", payload)).status

    # The same sends over the employee's tab, as the workspace makes them: the tab that sends is
    # one of the two that receive, and its ack is not counted as a delivery.
    tab = employee.tabs[0]

    async def room_over_socket(seq: int, payload: dict[str, Any]) -> int:
        return await socket_send(tab, {"type": "room.send", "room_id": employee.room_id, **payload})

    async def reply_over_socket(seq: int, payload: dict[str, Any]) -> int:
        frame = {"type": "request.send", "request_id": visitors[0].request_id, **payload}
        return await socket_send(tab, frame)

    cpu = deployment.cpu_seconds
    return [
        SingleSender("IMP room message", room, cpu),
        SingleSender("IMP employee reply", reply, cpu),
        SingleSender("IMP visitor message", visitor, cpu),
        SingleSender("IMP room via socket", room_over_socket, cpu),
        SingleSender("IMP reply via socket", reply_over_socket, cpu),
    ]


async def _single_send(target: SingleSender, seq: int) -> None:
    payload = {"body": f"b{seq}t{time.time_ns()}", "client_message_id": f"bench-{seq}"}
    RECORDER.expected[seq] = target.receivers
    try:
        status = await target.send(seq, payload)
    except SocketRefused as exc:
        RECORDER.errors[f"socket {exc}"] += 1
        return
    except (aiohttp.ClientError, TimeoutError) as exc:
        RECORDER.errors[type(exc).__name__] += 1
        return
    if status in (200, 201):
        RECORDER.acknowledged.add(seq)
    else:
        RECORDER.errors[f"HTTP {status}"] += 1


async def _drain() -> None:
    deadline = time.monotonic() + 15
    # Receipts arrive on two sockets; checking the count now and then is simpler than signalling.
    while RECORDER.missing() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def single_run(
    target: SingleSender, messages: int, rate: float | None
) -> tuple[float, float, float, Recorder]:
    """Send ``messages``, each once the previous one is answered (``rate`` None) or on a
    schedule of ``rate`` a second; wait for their deliveries. Returns the rate reached, server
    and load generator CPU ms per message, and the recorder."""
    with collector_held():
        return await _single_run(target, messages, rate)


async def _single_run(
    target: SingleSender, messages: int, rate: float | None
) -> tuple[float, float, float, Recorder]:
    global RECORDER, _next_seq
    RECORDER = Recorder()
    RECORDER.active = True
    cpu_before = target.cpu_seconds()
    generator_before = process_cpu_seconds(os.getpid())
    started = time.perf_counter()
    if rate is None:
        for _ in range(messages):
            _next_seq += 1
            await _single_send(target, _next_seq)
        elapsed = time.perf_counter() - started
    else:
        tasks = []
        for i in range(messages):
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            _next_seq += 1
            tasks.append(asyncio.create_task(_single_send(target, _next_seq)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    await _drain()
    per_message = 1000 / max(1, len(RECORDER.acknowledged))
    cpu = (target.cpu_seconds() - cpu_before) * per_message
    generator = (process_cpu_seconds(os.getpid()) - generator_before) * per_message
    return len(RECORDER.acknowledged) / elapsed, cpu, generator, RECORDER


async def single_measure(target: SingleSender, messages: int, rate: float) -> SingleResult:
    await single_run(target, 30, None)  # warm-up: connection pools, statement caches
    sequential, cpu, generator, seq_recorder = await single_run(target, messages, None)
    _, paced_cpu, _, paced = await single_run(target, messages, rate)
    return SingleResult(
        name=target.name,
        rate=sequential,
        cpu_ms=cpu,
        generator_cpu_ms=generator,
        p50=percentile(paced.latencies_ms, 0.50),
        p99=percentile(paced.latencies_ms, 0.99),
        paced_cpu_ms=paced_cpu,
        lost=seq_recorder.missing() + paced.missing(),
        errors=dict(seq_recorder.errors + paced.errors),
    )


def print_single(
    title: str, results: list[SingleResult], relay: SingleResult, kept: SingleResult
) -> None:
    print(f"\n{title}")
    columns = (
        "seq_rate/s cpu_ms loader_ms p50_ms p99_ms paced_cpu lost cpu_x rate_x p99_x kept_cpu_x"
    )
    print(f"  {'':>20} " + " ".join(f"{c:>10}" for c in columns.split()) + "  errors")
    for r in results:
        cells = [
            f"{r.rate:.0f}",
            *(f"{v:.2f}" for v in (r.cpu_ms, r.generator_cpu_ms)),
            *(f"{v:.1f}" for v in (r.p50, r.p99)),
            f"{r.paced_cpu_ms:.2f}",
            r.lost,
            # Against the relay of the same round: CPU and p99 as multiples, rate as a fraction.
            f"{r.cpu_ms / relay.cpu_ms:.2f}",
            f"{r.rate / relay.rate:.2f}",
            f"{r.p99 / relay.p99:.2f}",
            # CPU against the relay that keeps each message: the floor of a durable send.
            f"{r.cpu_ms / kept.cpu_ms:.2f}",
        ]
        print(f"  {r.name:>20} " + " ".join(f"{c:>10}" for c in cells) + f"  {r.errors or '-'}")


async def single_sender(
    deployment: Deployment, workdir: Path, messages: int, rate: float, rounds: int
) -> None:
    """The single-sender workload against IMP and against the bare relay, interleaved round by
    round so that both see the same moments of a shared machine."""
    relays = [Relay(workdir), Relay(workdir, store=deployment.relay_store())]
    for relay in relays:
        relay.start()
    try:
        targets = [
            *[await single_relay(relay) for relay in relays],
            *await single_population(deployment),
        ]
        by_round: list[list[SingleResult]] = []
        for number in range(1, rounds + 1):
            results = [await single_measure(t, messages, rate) for t in targets]
            by_round.append(results)
            print_single(
                f"Single sender, round {number}: {messages} messages answered one by one, "
                f"then {messages} at {rate:.0f}/s; two receiving sockets",
                results[2:] + results[:2],
                *results[:2],
            )
        if rounds > 1:
            medians = [
                SingleResult(
                    name=results[0].name,
                    **{
                        key: statistics.median(getattr(r, key) for r in results)
                        for key in SINGLE_FIGURES
                    },
                    lost=sum(r.lost for r in results),
                    errors=dict(sum((Counter(r.errors) for r in results), Counter())),
                )
                for results in zip(*by_round, strict=True)
            ]
            print_single(
                f"Single sender, median of {rounds} rounds",
                medians[2:] + medians[:2],
                *medians[:2],
            )
    finally:
        for relay in relays:
            relay.stop()


# -- main ------------------------------------------------------------------------------------

# Instances, PostgreSQL + Redis or SQLite, worker processes per instance.
CONFIGS = {
    "sqlite": (1, False, 1),
    "pg": (1, True, 1),
    "pg2": (2, True, 1),
    "pg-workers2": (1, True, 2),
}


async def bench(config: str, args: argparse.Namespace) -> None:
    instances, postgres, workers = CONFIGS[config]
    workdir = Path(tempfile.mkdtemp(prefix=f"imp-bench-{config}-"))
    deployment = Deployment(
        config, workdir, instances=instances, postgres=postgres, workers=workers
    )
    workloads = set(args.workloads.split(","))
    stack = "PostgreSQL + Redis" if postgres else "SQLite, in-process bus"
    print(f"\n=== {config}: {instances} instance(s), {stack} ===")
    deployment.start()
    population: Population | None = None
    try:
        if "single" in workloads:
            await single_sender(
                deployment, workdir, args.single_messages, args.single_rate, args.single_rounds
            )
            await close_sessions()
        if workloads & {"delivery", "throughput", "connections"}:
            population = await build_population(
                deployment, args.employees, args.tabs, args.visitors, args.room_size
            )
        if "delivery" in workloads and population:
            await delivery(population, args.rate, args.seconds)
        if "throughput" in workloads and population:
            rates = [float(r) for r in args.rates.split(",")]
            await throughput(population, args.step_seconds, rates)
        if "connections" in workloads and population:
            await connections(deployment, population, args.idle)
        if "widget" in workloads:
            await widget_cost(deployment, await demo_site(deployment), args.widget_runs)
    finally:
        if population is not None:
            await population.close()
        await close_sessions()
        deployment.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  logs kept in {workdir}")


async def demo_site(deployment: Deployment) -> dict[str, Any]:
    http = new_http(deployment.url(0))
    await expect(
        await http.post("/api/auth/login", json={"login": "admin", "password": "admin-demo"}), 200
    )
    sites = await expect(await http.get("/api/admin/resources"), 200)
    await http.close()
    return next(s for s in sites if s["name"] == "Demo website")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="all", choices=[*CONFIGS, "all"])
    parser.add_argument("--workloads", default="single,delivery,throughput,connections,widget")
    parser.add_argument("--single-messages", type=int, default=300)
    parser.add_argument("--single-rate", type=float, default=50, help="paced single sender")
    parser.add_argument("--single-rounds", type=int, default=1)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--tabs", type=int, default=5, help="sockets per employee")
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--room-size", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20, help="messages/s for delivery")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rates", default="10,20,30,40,60,80,120,160")
    parser.add_argument("--step-seconds", type=float, default=10)
    parser.add_argument("--idle", type=int, default=10_000, help="idle sockets to open")
    parser.add_argument("--widget-runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the server logs")
    parser.add_argument(
        "--no-compression", action="store_true", help="sockets without permessage-deflate"
    )
    args = parser.parse_args()
    global COMPRESSION
    COMPRESSION = 0 if args.no_compression else 15
    import uvloop

    for config in CONFIGS if args.config == "all" else [args.config]:
        uvloop.run(bench(config, args))


if __name__ == "__main__":
    main()
