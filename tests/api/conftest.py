"""Fixtures shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from impserver.demo import seed_demo
from tests.harness import LiveServer, free_port


@pytest.fixture
def built(settings_factory: object) -> Iterator[LiveServer]:
    """IMP serving the real build in web/dist (``make test`` builds it first)."""
    settings = settings_factory("sqlite", web_dist=None)  # type: ignore[operator]
    if not (settings.resolved_web_dist / "widget.html").is_file():
        pytest.fail("web/dist is not built; run `make web`")
    live = LiveServer(settings, free_port()).start()
    live.run(seed_demo(live.services, site_origin="http://shop.example", language="en"))
    yield live
    live.stop()
