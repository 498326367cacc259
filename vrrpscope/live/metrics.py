"""``watch --metrics-port N``: Prometheus metrics of the live analysis (prometheus_client).

Metrics (all in their own registry; group labels are ``segment``, ``family``, ``vrid``):

=================================================  ==========================================================
``vrrpscope_master_info{group,master,priority}``   current master(s) of each group (``master`` empty: none;
                                                   comma-separated during a split brain)
``vrrpscope_group_masters{group}``                 number of routers advertising as master (2+: split brain)
``vrrpscope_adverts_total{group,router}``          VRRP adverts seen
``vrrpscope_takeovers_total{group,cause}``         takeovers (``timeout``, ``resign``, ``preempt``)
``vrrpscope_takeover_gap_seconds{group}``          histogram of takeover gaps (old master's last advert to
                                                   the new master's first)
``vrrpscope_seconds_since_last_advert{group,router}`` age of each router's last advert (capture clock)
``vrrpscope_findings_total{kind,severity}``        findings opened
``vrrpscope_findings_open{kind,severity}``         findings open now
``vrrpscope_capture_packets_total{interface}``     frames captured (after the kernel filter)
``vrrpscope_capture_kernel_drops_total{interface}`` frames the kernel dropped (socket buffer full)
``vrrpscope_capture_up{interface}``                1 while capturing on the interface, 0 when stopped/down
``vrrpscope_capture_gaps_total{interface}``        capture gaps (interface down, no carrier, deleted)
``vrrpscope_capture_gap_seconds_total{interface}`` seconds without capture on the interface (the open gap
                                                   included, up to the last tick)
``vrrpscope_last_packet_timestamp_seconds{interface}`` capture time of the interface's last frame
=================================================  ==========================================================

A stopped capture is visible: ``vrrpscope_capture_up`` drops to 0, and
``time() - vrrpscope_last_packet_timestamp_seconds`` grows (VRRP masters advertise every second, so
an age of more than a few seconds means no traffic is reaching the capture). The loop updates the
gauges on every tick; the HTTP server runs in prometheus_client's own thread.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

from vrrpscope.live.events import FindingEvent, MasterChange, Sink
from vrrpscope.live.session import WatchSession
from vrrpscope.reconstruct.state import GroupKey, GroupState

GROUP_LABELS = ("segment", "family", "vrid")
#: Takeover gap histogram buckets (seconds): sub-second v3 up to slow v2 takeovers.
GAP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 3.5, 4.0, 5.0, 7.5, 10.0, 30.0)


def _group(key: GroupKey) -> tuple[str, str, str]:
    return key.segment, key.family, str(key.vrid)


class Metrics(Sink):
    """Keeps the Prometheus metrics of a watch session up to date (a :class:`Sink`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.master_info = Info("vrrpscope_master", "Current master(s) of a VRRP group", GROUP_LABELS, registry=r)
        self.group_masters = Gauge(
            "vrrpscope_group_masters",
            "Routers advertising as master (2 or more: split brain)",
            GROUP_LABELS,
            registry=r,
        )
        self.adverts = Counter("vrrpscope_adverts", "VRRP advertisements seen", (*GROUP_LABELS, "router"), registry=r)
        self.takeovers = Counter(
            "vrrpscope_takeovers", "Changes of master (takeovers)", (*GROUP_LABELS, "cause"), registry=r
        )
        self.gaps = Histogram(
            "vrrpscope_takeover_gap_seconds",
            "Gap between the old master's last advert and the new master's first",
            GROUP_LABELS,
            buckets=GAP_BUCKETS,
            registry=r,
        )
        self.advert_age = Gauge(
            "vrrpscope_seconds_since_last_advert",
            "Seconds since the router's last advert (capture clock)",
            (*GROUP_LABELS, "router"),
            registry=r,
        )
        self.findings_total = Counter("vrrpscope_findings", "Findings opened", ("kind", "severity"), registry=r)
        self.findings_open = Gauge("vrrpscope_findings_open", "Findings open now", ("kind", "severity"), registry=r)
        self.packets = Counter(
            "vrrpscope_capture_packets", "Frames captured (after the kernel filter)", ("interface",), registry=r
        )
        self.drops = Counter(
            "vrrpscope_capture_kernel_drops",
            "Frames dropped by the kernel (socket buffer full)",
            ("interface",),
            registry=r,
        )
        self.up = Gauge("vrrpscope_capture_up", "1 while capturing on the interface", ("interface",), registry=r)
        self.capture_gaps = Counter(
            "vrrpscope_capture_gaps",
            "Capture gaps (interface down, without carrier or deleted)",
            ("interface",),
            registry=r,
        )
        self.capture_gap_seconds = Counter(
            "vrrpscope_capture_gap_seconds",
            "Seconds without capture on the interface (frames meanwhile unknown)",
            ("interface",),
            registry=r,
        )
        self.last_packet = Gauge(
            "vrrpscope_last_packet_timestamp_seconds", "Capture time of the last frame", ("interface",), registry=r
        )
        self._counted: dict[tuple[GroupKey, str], int] = {}
        self._io: dict[str, tuple[int, int]] = {}
        self._blind: dict[str, tuple[int, float]] = {}
        self._masters: dict[GroupKey, tuple[str, ...]] = {}
        self._server: Any = None
        self._thread: Any = None

    # ------------------------------------------------------------------ HTTP

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        """Start the HTTP endpoint (``/metrics``) in a background thread."""
        self._server, self._thread = start_http_server(port, addr=address, registry=self.registry)

    @property
    def port(self) -> int | None:
        """The port the endpoint listens on (useful after ``serve(0)``), ``None`` when not serving."""
        return int(self._server.server_port) if self._server is not None else None

    def shutdown(self) -> None:
        """Stop the HTTP endpoint."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------ sink hooks

    def start(self, session: WatchSession) -> None:
        """Mark the capture interfaces up."""
        super().start(session)
        self._update(session.now)

    def master_change(self, event: MasterChange) -> None:
        """Count takeovers and their gaps; show the new master(s) at once (not at the next tick)."""
        labels = _group(event.group)
        if event.gap is not None:
            self.takeovers.labels(*labels, event.cause).inc()
            self.gaps.labels(*labels).observe(max(0.0, event.gap))
        if self.session is not None:
            g = self.session.engine.recon.groups.get(event.group)
            if g is not None:
                self._masters_of(event.group, g)

    def finding(self, event: FindingEvent) -> None:
        """Count findings opened; keep the open ones gauged."""
        f = event.finding
        sev = f.severity.label
        if event.state == "open":
            self.findings_total.labels(f.kind, sev).inc()
            self.findings_open.labels(f.kind, sev).inc()
        elif event.state == "closed":
            self.findings_open.labels(f.kind, sev).dec()

    def tick(self, now: float) -> None:
        """Refresh gauges and counters from the session's state."""
        self._update(now)

    def end(self) -> None:
        """The capture stopped: every interface down."""
        if self.session is not None:
            self._update(self.session.now)
            for st in self.session.source.stats():
                self.up.labels(st.name or "?").set(0)

    def _masters_of(self, key: GroupKey, g: GroupState) -> None:
        masters = tuple(g.masters)
        if self._masters.get(key) == masters:
            return
        self._masters[key] = masters
        labels = _group(key)
        lead = g.claims.get(masters[0]) if masters else None
        self.master_info.labels(*labels).info(
            {"master": ",".join(masters), "priority": str(lead.priority) if lead is not None else ""}
        )
        self.group_masters.labels(*labels).set(len(masters))

    def _update(self, now: float) -> None:
        session = self.session
        if session is None:
            return
        for (key, router), n in session.adverts.items():
            done = self._counted.get((key, router), 0)
            if n > done:
                self.adverts.labels(*_group(key), router).inc(n - done)
                self._counted[(key, router)] = n
        for key, g in session.engine.recon.groups.items():
            labels = _group(key)
            self._masters_of(key, g)
            for ip, r in g.routers.items():
                self.advert_age.labels(*labels, ip).set(max(0.0, now - r.last_seen))
        running = not session.stopping
        for st in session.source.stats():
            name = st.name or "?"
            packets, drops = self._io.get(name, (0, 0))
            pc, dc = self.packets.labels(name), self.drops.labels(name)  # exported from 0 on
            if st.packets > packets:
                pc.inc(st.packets - packets)
            if st.kernel_drops > drops:
                dc.inc(st.kernel_drops - drops)
            self._io[name] = (max(packets, st.packets), max(drops, st.kernel_drops))
            gaps, blind = self._blind.get(name, (0, 0.0))
            gc, sc = self.capture_gaps.labels(name), self.capture_gap_seconds.labels(name)
            now_blind = st.blind_seconds(now)
            if st.gaps > gaps:
                gc.inc(st.gaps - gaps)
            if now_blind > blind:
                sc.inc(now_blind - blind)
            self._blind[name] = (max(gaps, st.gaps), max(blind, now_blind))
            self.up.labels(name).set(1 if (running and st.up) else 0)
            if st.last_packet is not None:
                self.last_packet.labels(name).set(st.last_packet)
