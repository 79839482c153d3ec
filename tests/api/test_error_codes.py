"""Every refusal carries a stable code the UI translates; the English text is the fallback."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import LiveServer

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "impserver"
WORKSPACE_ERRORS = ROOT / "web" / "src" / "workspace" / "locales" / "errors.en.ts"
RAISE = re.compile(
    r"raise (InvalidInput|NotAuthenticated|Forbidden|NotFound|Conflict|PayloadTooLarge|"
    r"ServiceUnavailable|DomainError)\("
)
# Codes the error handlers give to what the framework or the database refuses.
HANDLER_CODES = {"invalid", "out_of_range", "concurrent_change", "database_unavailable"}


def _call_arguments(text: str, start: int) -> str:
    depth, index = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        index += 1
    return text[start : index - 1]


def test_every_refusal_the_server_raises_names_its_own_code() -> None:
    generic = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        for match in RAISE.finditer(text):
            if "code=" not in _call_arguments(text, match.end()):
                line = text.count("\n", 0, match.start()) + 1
                generic.append(f"{path.relative_to(ROOT)}:{line}")
    assert generic == [], "refusals without a code of their own"


def test_the_workspace_translates_every_code_the_server_sends() -> None:
    used = set(HANDLER_CODES)
    for path in SOURCE.rglob("*.py"):
        used |= set(re.findall(r'\bcode="([a-z_]+)"', path.read_text()))
        used |= set(re.findall(r'"code": "([a-z_]+)"', path.read_text()))
    translated = set(re.findall(r"^  ([a-z_]+):", WORKSPACE_ERRORS.read_text(), re.MULTILINE))
    assert sorted(used - translated) == []


def test_a_refusal_carries_its_code_and_the_values_to_fill_in(server: LiveServer) -> None:
    admin = server.login("admin")
    site = admin.http.get("/api/admin/resources").json()[0]
    taken = site["queues"][0]["name"]
    response = admin.http.post(f"/api/admin/resources/{site['id']}/queues", json={"name": taken})
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "queue_name_taken"
    assert body["params"] == {"name": taken}
    assert taken in body["detail"]

    unknown = admin.http.get("/api/no-such-address")
    assert unknown.json()["code"] == "not_found"
