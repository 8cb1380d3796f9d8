"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): no
websocket library, no driver, no network port; what tests/test_html_report.py opens the report with
(and how the README's screenshot was taken: `python -m tests.headless_chromium PAGE PNG`).

Chromium reads commands from its file descriptor 3 and writes answers and events to 4, each a
JSON text ended by a NUL byte.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


class Browser:
    """One page in a fresh headless Chromium; `events` collects every event the page sends."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900):
        self.profile = tempfile.TemporaryDirectory()
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()

        def pipes_as_3_and_4():  # in the child, before exec
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        flags = ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"]
        flags += ["--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}"]
        self.process = subprocess.Popen([executable, *flags, "about:blank"], preexec_fn=pipes_as_3_and_4, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.session = None
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def send(self, method: str, **params) -> dict:
        """A command; returns its result once answered (events meanwhile go to `events`)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, event: str) -> dict:
        while True:
            found = next((e for e in self.events if e["method"] == event), None)
            if found:
                self.events.remove(found)
                return found
            reply = self._read()
            if "method" in reply:
                self.events.append(reply)

    def _read(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = os.read(self.answers, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, path: Path) -> None:
        """Load a file and wait until it has loaded (images decoded, scripts run)."""
        self.send("Page.navigate", url=Path(path).resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) in the middle of the element."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView(); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path: Path, height: int | None = None) -> None:
        """The page from its top, `height` pixels of it (default: the window)."""
        width = self.evaluate("document.documentElement.clientWidth")
        height = height or self.evaluate("window.innerHeight")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.send("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.answers)
        self.profile.cleanup()


if __name__ == "__main__":  # python -m tests.headless_chromium report.html shot.png [height]
    browser = Browser(find_chromium() or sys.exit("no chromium found"))
    try:
        browser.open(Path(sys.argv[1]))
        browser.screenshot(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
    finally:
        browser.close()
