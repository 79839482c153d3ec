"""What the employee sees of a client's browser: a name read from its user-agent string.

User-agent strings lie in layers ("Safari/604.1" on an iPhone is WebKit's build, not Safari's
version), so they are read with ua-parser's maintained rules rather than by hand.
"""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

# Devices whose name adds nothing to the operating system's ("Mac" on macOS) or means unknown.
_UNINFORMATIVE_DEVICES = {"Other", "Mac", "Generic Smartphone", "Generic Tablet", "Spider"}


def _named(family: str | None, *versions: str | None) -> str:
    if not family or family == "Other":
        return ""
    shown = ".".join(v for v in versions if v)
    return f"{family} {shown}" if shown else family


@lru_cache(maxsize=4096)
def browser_of(user_agent: str) -> str:
    """E.g. "Mobile Safari 17, iOS 17 (iPhone)" or "Chrome 120, Windows 10"."""
    if not user_agent:
        return ""
    parsed = parse(user_agent)
    browser = _named(parsed.user_agent.family, parsed.user_agent.major) if parsed.user_agent else ""
    system = ""
    if parsed.os:
        # macOS stayed at 10.x for twenty years: its minor version is the one that tells.
        minor = parsed.os.minor if parsed.os.family == "Mac OS X" else None
        system = _named(parsed.os.family, parsed.os.major, minor)
    if not browser:
        return user_agent[:40]
    shown = f"{browser}, {system}" if system else browser
    device = parsed.device.family if parsed.device else None
    if device and device not in _UNINFORMATIVE_DEVICES:
        shown += f" ({device})"
    return shown
