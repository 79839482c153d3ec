"""permessage-deflate on the realtime sockets is the administrator's choice (IMP_WS_COMPRESSION)."""

from __future__ import annotations

import pytest

from impserver.demo import seed_demo
from tests.harness import LiveServer, free_port


@pytest.mark.parametrize("enabled", [False, True], ids=["off", "on"])
def test_sockets_compress_only_when_the_setting_is_on(
    settings_factory: object, enabled: bool
) -> None:
    settings = settings_factory("sqlite", ws_compression=enabled)  # type: ignore[operator]
    server = LiveServer(settings, free_port()).start()
    try:
        server.run(seed_demo(server.services, site_origin="http://shop.example", language="en"))
        anna = server.login("anna")
        # The test client offers permessage-deflate, as every browser does.
        with anna.socket() as tab:
            assert tab.ready["type"] == "ready"
            extensions = tab.ws.response.headers.get("Sec-WebSocket-Extensions", "")
            assert ("permessage-deflate" in extensions) is enabled
    finally:
        server.stop()
