"""The browser an employee sees for a client, read from the user-agent string."""

from __future__ import annotations

import pytest

from impserver.domains.clients.user_agents import browser_of


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17, iOS 17 (iPhone)",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome 120, Windows 10",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
            "Safari 17, Mac OS X 10.15",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.6099.144 Mobile Safari/537.36",
            "Chrome Mobile 120, Android 14 (Samsung SM-S918B)",
        ),
        ("", ""),
    ],
)
def test_browser_is_named_by_what_it_is(user_agent: str, shown: str) -> None:
    assert browser_of(user_agent) == shown


def test_an_agent_the_rules_do_not_know_is_shown_as_it_came_shortened() -> None:
    assert browser_of("python-httpx/0.27.0") == "python-httpx/0.27.0"
    assert browser_of("(" + "x" * 100) == ("(" + "x" * 100)[:40]
