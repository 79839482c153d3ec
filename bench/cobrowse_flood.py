"""Co-browsing flood: a client's page sends big frames as fast as it can at an employee's window
that reads nothing. Prints the IMP server process's resident memory before, at its highest
during the flood and after, with what became of the frames.

    uv run python bench/cobrowse_flood.py [--frames 40] [--megabytes 3]

Two runs, each on a fresh `imp run` process (SQLite): with the default limits (the per-session
rate limit refuses most of the flood), and with the rate limit lifted so that only the viewer's
bounded queue stands between the flood and the server's memory (frames beyond it are dropped
and the client's page is asked for a whole fresh page instead).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import ServerProcess, Socket, free_port  # noqa: E402
from tests.widget import visit  # noqa: E402

from impserver.core.config import Settings  # noqa: E402


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_run(frames: int, megabytes: float, *, lift_rate_limit: bool) -> dict[str, Any]:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp())
    overrides: dict[str, Any] = {}
    if lift_rate_limit:
        overrides["cobrowse_burst_bytes"] = 2**40
    settings = Settings(
        data_dir=data_dir,
        secret_key="bench",
        public_base_url=f"http://127.0.0.1:{port}",
        web_dist=data_dir / "no-dist",
        ws_ping_seconds=30.0,
        ws_dead_after_seconds=300.0,
        **overrides,
    )
    server = ServerProcess(settings, port, data_dir / "server.log")
    server.command("demo")
    server.start()
    assert server.process is not None
    pid = server.process.pid
    try:
        anna = server.login("anna")
        visitor = visit(server, origin=server.base_url)
        sales = next(q for q in visitor.session["resource"]["topics"] if q["name"] == "Sales")
        visitor.pick(sales["id"])
        visitor.send("Покажу страницу")
        request_id = visitor.conversation()["request"]["id"]
        anna.http.post(f"/api/requests/{request_id}/accept").raise_for_status()
        call = anna.http.post(f"/api/requests/{request_id}/calls", json={"kind": "cobrowse"})
        call_id = call.json()["id"]
        page = "p" * int(megabytes * 1024 * 1024)
        before = resident_mib(pid)
        peak = before
        with (
            connect(
                server.ws_url,
                additional_headers={"Cookie": anna.cookie_header},
                max_queue=1,
                max_size=None,
            ) as slow,
            visitor.socket() as widget,
        ):
            slow.send(json.dumps({"type": "hello", "last_event_id": None}))
            started = time.perf_counter()
            for number in range(frames):
                events = [{"type": 2, "n": number, "html": page}]
                widget.ws.send(
                    json.dumps(
                        {"type": "cobrowse.frames", "call_id": call_id, "data": {"events": events}}
                    )
                )
                peak = max(peak, resident_mib(pid))
            sending = time.perf_counter() - started
            # Let the server take in what is still on its way, watching its memory meanwhile.
            settle = time.monotonic() + 3
            while time.monotonic() < settle:
                peak = max(peak, resident_mib(pid))
                time.sleep(0.05)
            widget_socket: Socket = widget
            refused = snapshots = 0
            try:
                while True:
                    frame = widget_socket.receive(timeout=0.5)
                    refused += frame.get("type") == "error"
                    snapshots += frame.get("type") == "cobrowse.control"
            except (TimeoutError, ConnectionClosed):
                pass
            after = resident_mib(pid)
            viewer_open = True
            try:
                slow.ping()
            except ConnectionClosed:
                viewer_open = False
        return {
            "before": before,
            "peak": peak,
            "after": after,
            "sent_mib": frames * megabytes,
            "seconds": sending,
            "refused": refused,
            "snapshots": snapshots,
            "viewer_open": viewer_open,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--megabytes", type=float, default=3.0)
    args = parser.parse_args()
    print(
        f"co-browsing flood: {args.frames} frames of {args.megabytes:g} MiB at a viewer that reads "
        "nothing; server RSS in MiB (imp run, SQLite)"
    )
    header = (
        f"{'limits':<24}{'before':>8}{'peak':>8}{'after':>8}{'sent MiB':>10}"
        f"{'refused':>9}{'snapshot asks':>15}{'viewer open':>13}"
    )
    print(header)
    for name, lift in (("default", False), ("rate limit lifted", True)):
        r = one_run(args.frames, args.megabytes, lift_rate_limit=lift)
        print(
            f"{name:<24}{r['before']:>8.0f}{r['peak']:>8.0f}{r['after']:>8.0f}"
            f"{r['sent_mib']:>10.0f}{r['refused']:>9}{r['snapshots']:>15}"
            f"{'yes' if r['viewer_open'] else 'no':>13}"
        )


if __name__ == "__main__":
    main()
