"""Firefox for the browser tests: stock firefox-esr, headless, over WebDriver BiDi.

Playwright drives only its own patched Firefox, which cannot be downloaded here; the Node
process in web/firefox/driver.mjs drives the stock one with puppeteer-core, and this module
speaks to it one JSON line at a time. Elements are found in the page by the words a person sees
(a button's label or text, a field's label), as the Chromium tests find them.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "web" / "firefox" / "driver.mjs"
WAIT_MS = 15_000

# Elements by what a person sees. ``query``: {css, name?, exact?, within?}: the visible
# elements matching ``css`` whose accessible name (aria-label, a field's label, alt, title,
# else the text) is ``name`` (or contains it, unless exact). ``within``: only inside the
# visible elements of that CSS selector whose text contains the given text.
FIND = """(query) => {
  const norm = (s) => (s || '').replace(/\\s+/g, ' ').trim()
  const shown = (el) => !el.checkVisibility || el.checkVisibility({ checkVisibilityCSS: true })
  const nameOf = (el) => norm(
    el.getAttribute('aria-label') ||
    (el.labels && el.labels.length ? el.labels[0].textContent : '') ||
    el.getAttribute('alt') || el.getAttribute('title') || el.textContent)
  let roots = [document]
  if (query.within) {
    roots = [...document.querySelectorAll(query.within.css)].filter(
      (el) => shown(el) && norm(el.textContent).includes(query.within.text))
  }
  const found = []
  for (const root of roots) {
    for (const el of root.querySelectorAll(query.css)) {
      if (!shown(el) || found.includes(el)) continue
      if (query.name !== undefined && query.name !== null) {
        const name = nameOf(el)
        if (query.exact === false ? !name.includes(query.name) : name !== query.name) continue
      }
      found.push(el)
    }
  }
  return found
}"""


class DriverError(AssertionError):
    pass


class VirtualDisplay:
    """An X server with no screen (Xvfb), on a display number it picks itself."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as announced:
            self.name = f":{announced.readline().strip()}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Firefox:
    """One Firefox, started headless (or, given a ``display``, on it); ``page()`` opens a tab."""

    def __init__(self, display: VirtualDisplay | None = None) -> None:
        environment = dict(os.environ)
        if display is not None:
            environment.update(DISPLAY=display.name, IMP_FIREFOX_ON_DISPLAY="1")
        self.process = subprocess.Popen(
            ["node", str(DRIVER)],
            cwd=ROOT / "web",
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.ids = itertools.count(1)
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()
        self.version = self.send("launch", timeout=60)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(json.loads(line))

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip())

    def send(self, command: str, timeout: float = 60, **fields: Any) -> Any:
        request_id = next(self.ids)
        assert self.process.stdin is not None
        self.process.stdin.write(
            json.dumps({"id": request_id, "command": command, **fields}) + "\n"
        )
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self.answers.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty as exc:
                raise DriverError(
                    f"Firefox did not answer {command} in {timeout} s; {self.errors[-5:]}"
                ) from exc
            if answer["id"] == request_id:
                break
        if not answer["ok"]:
            raise DriverError(f"{command}: {answer['error']}")
        return answer["value"]

    def page(
        self, viewport: dict[str, int] | None = None, beside: FirefoxPage | None = None
    ) -> FirefoxPage:
        """A tab of a new person (a browser context of its own), or beside another tab."""
        page_id = self.send("newPage", viewport=viewport, beside=beside.id if beside else None)
        return FirefoxPage(self, page_id)

    def pages(self) -> list[dict[str, Any]]:
        return self.send("pages")  # type: ignore[no-any-return]

    def close_pages(self) -> None:
        """Close every tab opened so far, and their sockets: a test's server can then stop."""
        self.send("closeContexts")

    def close(self) -> None:
        try:
            self.send("close", timeout=30)
        finally:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


class FirefoxPage:
    """A tab, or a frame in it (``frame``: the CSS selector of its iframe)."""

    def __init__(self, firefox: Firefox, page_id: int, frame: str | None = None) -> None:
        self.firefox = firefox
        self.id = page_id
        self.frame_selector = frame

    def frame(self, selector: str) -> FirefoxPage:
        return FirefoxPage(self.firefox, self.id, selector)

    def _send(self, command: str, **fields: Any) -> Any:
        return self.firefox.send(command, page=self.id, frame=self.frame_selector, **fields)

    def goto(self, url: str) -> None:
        self._send("goto", url=url)

    def reload(self) -> None:
        self._send("reload")

    @property
    def url(self) -> str:
        return self._send("url")  # type: ignore[no-any-return]

    def evaluate(self, source: str, *args: Any) -> Any:
        return self._send("evaluate", source=source, args=list(args))

    def wait_for(
        self, source: str, *args: Any, what: str = "condition", timeout_ms: int = WAIT_MS
    ) -> Any:
        return self._send(
            "waitFor",
            source=source,
            args=list(args),
            what=what,
            timeout=timeout_ms,
        )

    # -- by what a person sees -----------------------------------------------------------------

    def count(self, css: str, name: str | None = None, exact: bool = True) -> int:
        query = {"css": css, "name": name, "exact": exact}
        return self.evaluate(f"(q) => ({FIND})(q).length", query)  # type: ignore[no-any-return]

    def wait_until_shown(
        self, css: str, name: str | None = None, exact: bool = True, timeout_ms: int = WAIT_MS
    ) -> None:
        query = {"css": css, "name": name, "exact": exact}
        self.wait_for(
            f"(q) => ({FIND})(q).length > 0", query, what=f"{css} {name!r}", timeout_ms=timeout_ms
        )

    def wait_until_gone(self, css: str, name: str | None = None, exact: bool = True) -> None:
        query = {"css": css, "name": name, "exact": exact}
        self.wait_for(f"(q) => ({FIND})(q).length === 0", query, what=f"no {css} {name!r}")

    def wait_text(self, text: str, timeout_ms: int = WAIT_MS) -> None:
        self.wait_for(
            "(t) => document.body && document.body.innerText.includes(t)",
            text,
            what=f"text {text!r}",
            timeout_ms=timeout_ms,
        )

    def text(self) -> str:
        return self.evaluate("() => document.body.innerText")  # type: ignore[no-any-return]

    def click(
        self,
        css: str,
        name: str | None = None,
        exact: bool = True,
        within: tuple[str, str] | None = None,
    ) -> None:
        query: dict[str, Any] = {"css": css, "name": name, "exact": exact}
        if within:
            query["within"] = {"css": within[0], "text": within[1]}
        # Waits for it first, as a person would look for it.
        self.wait_for(f"(q) => ({FIND})(q).length > 0", query, what=f"{css} {name!r}")
        self._send(
            "click",
            source=f"(q, marker) => {{ const el = ({FIND})(q)[0]; "
            "if (!el) return false; el.setAttribute('data-ff', marker); return true }",
            args=[query],
            what=f"{css} {name!r}",
        )

    def click_button(self, name: str, exact: bool = True) -> None:
        self.click("button, [role=button], a", name, exact)

    def fill(self, label: str, text: str, press: str | None = None) -> None:
        """Type into the field with this label (its old text removed first)."""
        query = {"css": "input, textarea", "name": label}
        self.wait_for(f"(q) => ({FIND})(q).length > 0", query, what=f"field {label!r}")
        self._send(
            "type",
            source=f"(q, marker) => {{ const el = ({FIND})(q)[0]; if (!el) return false; "
            "el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true })); "
            "el.setAttribute('data-ff', marker); return true }",
            args=[query],
            text=text,
            press=press,
            what=f"field {label!r}",
        )

    def press(self, key: str) -> None:
        self._send("press", key=key)

    def mouse_click(self, x: float, y: float) -> None:
        self._send("mouseClick", x=x, y=y)

    def keyboard_type(self, text: str) -> None:
        self._send("keyboardType", text=text)

    def upload(self, selector: str, files: list[tuple[str, bytes]]) -> None:
        self._send(
            "upload",
            selector=selector,
            files=[
                {"name": name, "base64": base64.b64encode(data).decode()} for name, data in files
            ],
        )
