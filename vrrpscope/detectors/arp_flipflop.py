"""``arp_flipflop`` (warning): an IP's owner MAC alternates back and forth.

Counts owner changes of one IP (ARP/ND claims by a different MAC than the current owner) within a
sliding ``window_s``; at ``min_changes`` changes, with at least one MAC regaining ownership, the IP
is flip-flopping. One finding per episode (it ends when no change came for ``window_s``).

Normal operation stays below: a failover and a failback are two changes. Typical causes: a one-way
split brain, where the true master answers each of the other's adverts with a GARP burst and the
VIP moves back within a millisecond each time (PROTOCOL.md "observed" 6: 115 vs 10 GARPs), two
devices answering ARP for one address, or a flapping bond/link.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, close_episodes
from vrrpscope.findings import Finding, Severity
from vrrpscope.model import FrameRef
from vrrpscope.reconstruct.events import (
    Event,
    OwnerChanged,
)


@dataclass(frozen=True)
class ArpFlipflopConfig:
    """Thresholds of the flip-flop detector."""

    #: Sliding window (seconds).
    window_s: float = 60.0
    #: Owner changes within the window that make a flip-flop.
    min_changes: int = 4


class ArpFlipflop(Detector):
    """Flags IPs whose owner MAC keeps changing back and forth."""

    #: Event types this detector subscribes to.
    events = (OwnerChanged,)

    kind = "arp_flipflop"
    severity = Severity.WARNING

    def __init__(self, config: ArpFlipflopConfig | None = None) -> None:
        super().__init__()
        self.config = config or ArpFlipflopConfig()
        self._changes: dict[tuple[str, str], deque[tuple[float, str, FrameRef]]] = {}
        self._eps: dict[tuple[str, str], Episode] = {}

    def on_event(self, event: Event) -> list[Finding]:
        if not isinstance(event, OwnerChanged) or event.old_mac is None:
            return []
        out: list[Finding] = []
        key = (event.segment, event.ip)
        hist = self._changes.get(key)
        if hist is None:
            hist = self._changes[key] = deque()
        hist.append((event.time, event.mac, event.frame))
        while hist and event.time - hist[0][0] > self.config.window_s:
            hist.popleft()
        ep = self._eps.get(key)
        if ep is not None and not ep.closed:
            if event.time - ep.end <= self.config.window_s:
                ep.add(event.time, event.frame)
                ep.data["macs"][event.mac] = ep.data["macs"].get(event.mac, 0) + 1
                return []
            ep.closed = True
            out.append(self._emit(key, ep))
        macs = [m for _t, m, _f in hist]
        if len(hist) >= self.config.min_changes and len(set(macs)) < len(macs):
            ep = Episode(hist[0][0], hist[0][0])
            ep.data["macs"] = {}
            ep.data["family"] = event.family
            for t, m, f in hist:
                ep.add(t, f)
                ep.data["macs"][m] = ep.data["macs"].get(m, 0) + 1
            self._eps[key] = ep
            out.append(self._emit(key, ep))
        return out

    def on_tick(self, now: float) -> list[Finding]:
        # Live: an episode is over once no change came for the window (offline, the next one or
        # the end of the capture closes it, with the same result).
        return close_episodes(self._eps, self._emit, now - self.config.window_s)

    def on_end(self, now: float) -> list[Finding]:
        return close_episodes(self._eps, self._emit)

    def _emit(self, key: tuple[str, str], ep: Episode) -> Finding:
        segment, ip = key
        groups = sorted(self.recon.groups_for_ip(segment, ip))
        group = groups[0] if groups else None
        macs = ep.data["macs"]
        parts = [f"{self.mac_label(segment, m)} x{n}" for m, n in macs.items()]
        routers = sorted({ip_ for m in macs for _g, ip_ in self.recon.routers_for_mac(segment, m)})
        msg = (
            f"{'VIP ' if group else ''}{ip} on {segment} changed owner {ep.frame_count} times between "
            f"{clock(ep.start)} and {clock(ep.end)} among {', '.join(parts)}: hosts' ARP/ND caches flip back "
            "and forth (a one-way split brain where the master re-announces after every GARP of "
            "the other, two "
            "devices answering for the address, or a flapping link)."
        )
        return self.finding(
            group=group,
            segment=segment,
            family=ep.data["family"],
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=routers,
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            subject=ip,
            details={"ip": ip, "changes": ep.frame_count, "macs": dict(macs)},
        )
