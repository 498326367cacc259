"""The HTML report rendered by headless Debian Chromium from file://.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on
fd 3, replies and events on fd 4, NUL-separated JSON), so the test sees every request the page
attempts, every console message and uncaught exception, can click the zoom buttons, read the DOM
back and take a full-page screenshot. The zoom script is checked against the Python chart renderer:
the whole-capture chart zoomed in the browser must lay out exactly like the chart Python renders for
that window.

Set ``VRRPSCOPE_REPORT_PREVIEW=/path/report.png`` to also copy the split-brain screenshot there.
Skips when chromium is missing, unless CI=true.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vrrpscope.output.html import render_report
from vrrpscope.output.html_model import _Report

pytestmark = pytest.mark.browser

DATA = Path(__file__).parent / "data" / "report"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]


def _need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required when CI=true (apt-get install chromium)")
        pytest.skip("chromium not installed (Debian package 'chromium')")
    return CHROMIUM


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe (one page session)."""

    def __init__(self, exe: str, profile: Path, width: int = 1400, height: int = 2000) -> None:
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def wire_fds() -> None:  # in the child: fd 3 = commands in, fd 4 = replies out
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=wire_fds,  # the pipe protocol needs fds 3/4 in the child
            pass_fds=(3, 4),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the debugging pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, since: int = 0, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the first event ``method`` after ``self.events[since]`` (at once if it already came)."""
        deadline = time.monotonic() + timeout
        for ev in self.events[since:]:
            if ev.get("method") == method:
                return ev
        while True:
            ev = self._read(deadline)
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JS expression in the page and return its JSON value."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        since = len(self.events)
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", since)

    def screenshot(self, path: Path, width: int = 1400) -> None:
        """Full-page PNG of the current page."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1, mobile=False)
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and error log entries seen so far."""
        out = []
        for ev in self.events:
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
                "assert",
            ):
                out.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                out.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return out

    def requests(self) -> list[str]:
        """URLs of every request the page attempted."""
        return [ev["params"]["request"]["url"] for ev in self.events if ev.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        """Close the browser and reap it."""
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            os.close(fd)
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """A fresh headless Chromium with a throw-away profile."""
    exe = _need_chromium()
    dt = DevTools(exe, tmp_path / "profile")
    try:
        yield dt
    finally:
        dt.close()


def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def test_split_brain_report_renders_offline(browser: DevTools, tmp_path: Path) -> None:
    html = render_report(_load("splitbrain"))
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    url = page.as_uri()
    browser.open(url)
    time.sleep(0.3)  # let late console messages arrive
    browser.call("Runtime.evaluate", expression="1")

    assert browser.problems() == []
    assert browser.requests() == [url], "the report must not fetch anything but itself"
    assert browser.evaluate("document.documentElement.dataset.js") == "ready"
    charts = browser.evaluate("[...document.querySelectorAll('svg.timeline')].map(s => s.dataset.zoomable)")
    assert charts == ["1"] * html.count('<svg class="timeline"')
    assert len(charts) == 4  # two group timelines, two virtual IPs

    state = browser.evaluate(
        """(() => {
          const g = document.getElementById('g1');
          const f = document.querySelector('#findings .finding.sev-critical');
          const svg = document.getElementById('g1-chart');
          const box = svg.getBoundingClientRect();
          return {
            finding: f.querySelector('.kind').textContent,
            findingLink: f.querySelector('.where a').getAttribute('href'),
            routers: [...g.querySelectorAll('table.routers tbody tr td:first-child')]
                       .map(td => td.firstChild.nextSibling.textContent),
            svgWidth: box.width, svgHeight: box.height,
            lanes: [...svg.querySelectorAll('.lane-label')].map(t => t.textContent),
            band: svg.querySelector('.blabel').textContent,
            bodyText: document.body.innerText.length,
          };
        })()"""
    )
    assert state["finding"] == "split_brain"
    assert state["findingLink"] == "#g1"  # groups sorted by segment, family, VRID: VRID 33 IPv4 first
    assert state["routers"] == ["192.0.2.11", "192.0.2.12"]
    assert state["lanes"] == ["192.0.2.11", "192.0.2.12"]
    assert state["band"] == "split brain 8.00 s"
    assert state["svgWidth"] > 900 and state["svgHeight"] > 60
    g2 = browser.evaluate(
        "[...document.getElementById('g2-chart').querySelectorAll('.lane-label')].map(t => t.textContent)"
    )
    assert g2 == ["fe80::5054:ff:fe0b:11"]

    shot = tmp_path / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    preview = os.environ.get("VRRPSCOPE_REPORT_PREVIEW")
    if preview:
        Path(preview).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, preview)


def _layout_of(svg_text: str) -> dict[str, Any]:
    """The time-dependent layout of a chart: span boxes, tick x positions, axis labels, visible labels."""
    root = ET.fromstring(svg_text)
    spans = [
        (float(e.get("x", "0")), float(e.get("width", "0")))
        for e in root.iter("rect")
        if "z-span" in e.get("class", "")
    ]
    ticks = []
    for e in root.iter("path"):
        if "z-ticks" in e.get("class", ""):
            d = e.get("d", "")
            ticks.append([float(p.split(" ")[0]) for p in d.split("M")[1:] if p and not p.startswith("0 0")])
    axis = [t.text for t in root.iter("text") if t.get("class") == "tick"]
    labels = []
    inbar_x = []
    for g in root.iter():
        cls = g.get("class", "")
        if "mlabel" in cls or "blabel" in cls or "inbar" in cls:
            labels.append((g.text, "hidden" not in cls, "left" in cls))
        if "inbar" in cls:
            inbar_x.append(float(g.get("x", "0")))
    return {"spans": spans, "ticks": ticks, "axis": axis, "labels": labels, "inbar_x": inbar_x}


def _close(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["axis"] and a["spans"] and a["ticks"] and any(visible for _, visible, _ in a["labels"])
    assert a["axis"] == b["axis"]
    assert a["labels"] == b["labels"]
    assert all(abs(p - q) < 0.05 for p, q in zip(a["inbar_x"], b["inbar_x"], strict=True))
    assert len(a["spans"]) == len(b["spans"])
    for (x1, w1), (x2, w2) in zip(a["spans"], b["spans"], strict=True):
        assert abs(x1 - x2) < 0.05 and abs(w1 - w2) < 0.05
    assert len(a["ticks"]) == len(b["ticks"])
    for t1, t2 in zip(a["ticks"], b["ticks"], strict=True):
        assert len(t1) == len(t2)
        # ticks: 0.1 px and 1 ms resolution, relative to different epochs
        assert all(abs(p - q) < 0.2 for p, q in zip(t1, t2, strict=True))


@pytest.mark.parametrize(
    ("case", "chips", "windows"),
    [
        ("failover", 2, ["30 36.5", "-20 500"]),  # one chip per takeover
        ("splitbrain", 1, ["45 60", "30 36", "0.5 0.52"]),  # after the split brain: its label goes
    ],
)
def test_zoom_script_lays_out_like_the_python_renderer(
    browser: DevTools, tmp_path: Path, case: str, chips: int, windows: list[str]
) -> None:
    analysis = _load(case)
    page = tmp_path / f"{case}.html"
    page.write_text(render_report(analysis), encoding="utf-8")
    browser.open(page.as_uri())
    found = browser.evaluate(
        "[...document.querySelectorAll('figure[data-chart=\"g1-chart\"] button[data-win]')].map(b => b.dataset.win)"
    )
    assert len(found) == chips
    report = _Report(analysis)
    gd = report.group_data(report.groups[0])
    chart = "document.getElementById('g1-chart')"
    for win in [*found, *windows]:
        browser.evaluate(
            "(() => { const b = document.createElement('button'); b.dataset.win = " + json.dumps(win) + ";"
            " document.querySelector('figure[data-chart=\"g1-chart\"] .zoombar').appendChild(b);"
            " b.click(); b.remove(); })()"
        )
        a, b = (float(x) for x in browser.evaluate(f"[{chart}.dataset.a, {chart}.dataset.b]"))
        assert 0 <= a < b <= report.t1 - report.t0
        got = browser.evaluate(f"{chart}.outerHTML")
        want = report.group_chart(gd, window=(report.t0 + a, report.t0 + b))
        _close(_layout_of(got), _layout_of(str(want.svg)))
    # whole range again: back to exactly what Python rendered for the report
    browser.evaluate('document.querySelector(\'figure[data-chart="g1-chart"] button[data-zoom="reset"]\').click()')
    got = browser.evaluate("document.getElementById('g1-chart').outerHTML")
    _close(_layout_of(got), _layout_of(str(report.group_chart(gd).svg)))
    assert browser.problems() == []
