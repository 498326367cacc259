"""``missing_garp`` (warning): a new master sent no gratuitous ARP / unsolicited NA for its VIPs.

On becoming master a router must announce each VIP (RFC 9568 §6.4.1/§6.4.2: gratuitous ARP per
IPv4 VIP, unsolicited NA per IPv6 VIP) so hosts and switches move the VIP to it; without that,
traffic keeps going to the old master's MAC until caches expire (keepalived issues #1510, #2459).
keepalived sends its first burst right after its first advert (5 per VIP, again 5 s later); FRR
one. After each takeover the detector waits ``wait_s`` and then lists the VIPs (from the new
master's adverts) with no GARP/NA from the new master's MAC or the group's virtual MAC.

Not judged when the capture holds no ARP (IPv4) / ND (IPv6) packet at all on that segment — a
capture filtered on ``vrrp`` cannot show GARPs — nor when the capture ends before ``wait_s``.
IPv6 link-local VIPs are judged too (``include_link_local``): they are the hosts' default gateway,
and keepalived 2.2.7 sends its unsolicited NAs for them like for global VIPs (samples/real/v3_ipv6).
"""

from __future__ import annotations

import bisect
import ipaddress
from collections import deque
from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, clock, group_text
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    GarpSeen,
    Takeover,
)
from vrrpscope.reconstruct.state import TakeoverRecord

#: Most takeovers kept per (segment, family) while waiting for any ARP/ND to be seen there.
NO_L2_CAP = 256


def _at(rec: TakeoverRecord) -> float:
    return rec.at


def _link_local(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_link_local
    except ValueError:
        return False


@dataclass(frozen=True)
class MissingGarpConfig:
    """Thresholds of the missing-GARP detector."""

    #: How long after the new master's first advert its GARP/NA must have been seen (seconds).
    wait_s: float = 3.0
    #: Also require NAs for IPv6 link-local (fe80::/10) VIPs.
    include_link_local: bool = True


class MissingGarp(Detector):
    """Flags takeovers after which the new master did not announce (some of) its VIPs."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen, GarpSeen, Takeover)

    kind = "missing_garp"
    severity = Severity.WARNING

    def __init__(self, config: MissingGarpConfig | None = None) -> None:
        super().__init__()
        self.config = config or MissingGarpConfig()
        #: Takeovers whose wait has not elapsed, in takeover-time order (a few seconds' worth).
        self._pending: list[TakeoverRecord] = []
        #: Takeovers due while no ARP/ND was seen yet on their (segment, family): judged if some
        #: shows up later, dropped at the end otherwise. At most :data:`NO_L2_CAP` per key (a
        #: ``vrrp``-only capture or a long ``watch`` must not keep every takeover).
        self._no_l2: dict[tuple[str, str], deque[TakeoverRecord]] = {}

    def on_event(self, event: Event) -> list[Finding]:
        out: list[Finding] = []
        t = getattr(event, "time", None)
        if isinstance(t, float | int):
            out.extend(self._due(float(t), final=False))
        if isinstance(event, Takeover):
            bisect.insort(self._pending, event.record, key=_at)
        return out

    def on_tick(self, now: float) -> list[Finding]:
        return self._due(now, final=False)

    def on_end(self, now: float) -> list[Finding]:
        return self._due(now, final=True)

    def _vips(self, rec: TakeoverRecord) -> list[str]:
        out = []
        for v in rec.vips:
            if not self.config.include_link_local and _link_local(v):
                continue
            out.append(v)
        return out

    def _due(self, now: float, *, final: bool) -> list[Finding]:
        out: list[Finding] = []
        l2_seen = self.recon.l2_seen
        wait = self.config.wait_s
        if self._no_l2:
            for key in [k for k in self._no_l2 if l2_seen.get(k, 0)]:
                for rec in self._no_l2.pop(key):
                    f = self._judge(rec)
                    if f is not None:
                        out.append(f)
        pending = self._pending
        while pending and (final or now >= pending[0].at + wait):
            rec = pending.pop(0)
            if final and now < rec.at + wait:
                continue  # the capture ended before its wait did
            key = (rec.group.segment, rec.group.family)
            if not l2_seen.get(key, 0):
                if not final:
                    waiting = self._no_l2.setdefault(key, deque())
                    waiting.append(rec)  # maybe ARP/ND shows up later in the capture
                    if len(waiting) > NO_L2_CAP:
                        waiting.popleft()
                continue
            f = self._judge(rec)
            if f is not None:
                out.append(f)
        if final:
            self._no_l2.clear()
        return out

    def _judge(self, rec: TakeoverRecord) -> Finding | None:
        vips = self._vips(rec)
        if not vips:
            return None
        within = rec.at + self.config.wait_s
        missing = [v for v in vips if v not in rec.stint.garps or rec.stint.garps[v].first > within]
        if not missing:
            return None
        kind = "gratuitous ARP" if rec.group.family == "ipv4" else "unsolicited neighbour advertisement"
        announced = [v for v in vips if v not in missing]
        if announced:
            what = f"announced {', '.join(announced)} but sent no {kind} for {', '.join(missing)}"
        else:
            what = f"sent no {kind} for its VIPs {', '.join(missing)}"
        msg = (
            f"{rec.new} became master of {group_text(rec.group)} at {clock(rec.at)} "
            f"({self.frame(rec.frame)}, "
            f"taking over from {rec.old}) and {what} within {self.config.wait_s:g} s: hosts and "
            "switches keep "
            f"sending that traffic to {rec.old}'s MAC until their caches expire."
        )
        return self.finding(
            group=rec.group,
            start=rec.at,
            end=within,
            routers=[rec.new, rec.old],
            frames=[rec.frame],
            message=msg,
            subject=rec.new,
            details={"missing": missing, "announced": announced},
        )
