"""Measuring a call's media in a browser: the peer connection's own counters (getStats())."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Frame, Page

# The page's peer connection: the workspace's (window.__impCall) or the widget's
# (window.__impVisitorCall). Bytes of each kind, and video frames decoded.
STATS = """async (direction) => {
  const peer = window.__impCall || window.__impVisitorCall
  if (!peer) return null
  const report = await peer.pc.getStats()
  const out = {audio: 0, video: 0, frames: 0}
  report.forEach((s) => {
    if (s.type === direction) {
      out[s.kind] += direction === 'inbound-rtp' ? s.bytesReceived : s.bytesSent
      if (s.kind === 'video' && direction === 'inbound-rtp') out.frames += s.framesDecoded || 0
    }
  })
  return out
}"""


def stats(page: Page | Any, direction: str = "inbound-rtp") -> dict[str, int]:
    return page.evaluate(STATS, direction)  # type: ignore[no-any-return]


def grows(page: Page | Any, key: str, direction: str = "inbound-rtp") -> None:
    before = stats(page, direction)[key]
    page.wait_for_timeout(1500)
    assert stats(page, direction)[key] > before, f"{key} did not grow"


def content_frame(page: Page, selector: str) -> Frame:
    """The document inside an iframe of the page (the widget's, say), to evaluate in it."""
    handle = page.locator(selector).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame
