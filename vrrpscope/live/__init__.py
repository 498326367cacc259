"""Live analysis (``vrrpscope watch``): capture, the watch loop, and its outputs.

* :mod:`~vrrpscope.live.bpf` — the kernel filter (tcpdump-compiled, or the hand-written program);
* :mod:`~vrrpscope.live.capture` — ``AF_PACKET`` sockets: VLAN tags restored, kernel timestamps,
  kernel drops;
* :mod:`~vrrpscope.live.source` — the source/clock abstraction, and :class:`ReplaySource`, which
  plays a file through the same loop on a virtual clock;
* :mod:`~vrrpscope.live.session` — the loop: frames -> :class:`~vrrpscope.analysis.AnalysisEngine`
  -> master changes and findings -> sinks, ticking at least every 0.25 s;
* :mod:`~vrrpscope.live.events` — the event records, JSON Lines and plain-line sinks;
* :mod:`~vrrpscope.live.dashboard` — the rich terminal view;
* :mod:`~vrrpscope.live.metrics` — Prometheus metrics;
* :mod:`~vrrpscope.live.writer` — pcapng output with rotation.

Submodules are imported on use (rich, prometheus_client and the engine are not needed to import
this package).
"""

from __future__ import annotations

from vrrpscope.live.source import CapturedFrame, CaptureError, FrameSource, InterfaceInfo, ReplaySource

__all__ = ["CaptureError", "CapturedFrame", "FrameSource", "InterfaceInfo", "ReplaySource"]
