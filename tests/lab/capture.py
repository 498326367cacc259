"""Packet capture in the observer namespace: tcpdump (pcap, cooked SLL/SLL2), dumpcap (pcapng).

The observer's interface has no address, ARP off and IPv6 disabled, so it transmits nothing;
captures run there in promiscuous mode on the hub-mode bridge and see every frame on the segment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .netns import LabError, Namespace

#: Ready banners printed on stderr by each tool once the capture is live.
_READY = {"tcpdump": "listening on", "dumpcap": "Capturing on", "tshark": "Capturing on"}


@dataclass(frozen=True)
class CaptureSpec:
    """What to capture and how.

    ``tool``: ``tcpdump`` (pcap), ``dumpcap`` or ``tshark`` (pcapng).
    ``interface``: ``eth0`` (Ethernet) or ``any`` (Linux cooked capture).
    ``linktype``: tcpdump ``-y`` value, e.g. ``LINUX_SLL`` or ``LINUX_SLL2`` (only with ``any``).
    """

    file: str = "capture.pcap"
    tool: str = "tcpdump"
    interface: str = "eth0"
    linktype: str | None = None

    def argv(self, path: Path) -> list[str]:
        """Command line writing to ``path``."""
        if self.tool == "tcpdump":
            argv = ["tcpdump", "-i", self.interface, "-n", "-U", "-Z", "root", "--immediate-mode"]
            if self.linktype:
                argv += ["-y", self.linktype]
            return [*argv, "-w", str(path)]
        if self.tool == "dumpcap":
            return ["dumpcap", "-i", self.interface, "-q", "-w", str(path)]
        if self.tool == "tshark":
            return ["tshark", "-i", self.interface, "-q", "-F", "pcapng", "-w", str(path)]
        raise LabError(f"unknown capture tool {self.tool!r}")

    def to_dict(self) -> dict[str, object]:
        """JSON description."""
        return {"file": self.file, "tool": self.tool, "interface": self.interface, "linktype": self.linktype}


class Capture:
    """One running capture process in a namespace."""

    def __init__(self, spec: CaptureSpec, ns: Namespace, outdir: Path) -> None:
        """Prepare a capture of ``spec`` into ``outdir / spec.file``."""
        self.spec = spec
        self.ns = ns
        self.path = outdir / spec.file
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_lines: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self.started_at = 0.0
        self.stopped_at = 0.0

    def start(self, timeout: float = 10.0) -> None:
        """Start the tool and wait for its ready banner."""
        self.path.unlink(missing_ok=True)
        self.proc = self.ns.popen(self.spec.argv(self.path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout):
            self.close()
            raise LabError(f"{self.spec.tool} did not start: {' | '.join(self.stderr_lines)}")
        # the banner is printed just before the capture loop; give it a moment to be live.
        time.sleep(0.2)
        self.started_at = time.time()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        banner = _READY[self.spec.tool]
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.stderr_lines.append(line)
            if banner in line:
                self._ready.set()
        proc.stderr.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop with SIGINT (flushes the file) and wait; SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        # let in-flight frames reach the file before stopping
        time.sleep(0.3)
        self.stopped_at = time.time()
        os.kill(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if self._reader is not None:
            self._reader.join(2.0)
        if not self.path.exists():
            raise LabError(f"{self.spec.tool} wrote no file: {' | '.join(self.stderr_lines)}")
        self.path.chmod(0o644)  # dumpcap creates 0600 files; samples are meant to be shared

    def close(self) -> None:
        """Kill the capture if still running (cleanup path)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def stats(self) -> str:
        """The tool's closing statistics lines (e.g. ``12 packets captured``)."""
        return "; ".join(ln for ln in self.stderr_lines if "packets" in ln)
