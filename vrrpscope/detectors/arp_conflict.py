"""``arp_conflict``: two MACs claim one IP at the same time.

For a **VIP** (an address some group advertises; critical):

1. a claim (gratuitous ARP, ARP reply/request, NA) by a MAC that is not the MAC of a router
   currently advertising as master of the group (nor the group's virtual MAC) while the group has a
   master — a hidden second master, a dead master whose kernel still answers for the VIP, or
   another device using the address;
2. during a split brain, the VIP's owner flipping between the masters' MACs (both sides named; the
   episode starts at the first move inside the split brain, even when that move came from a router
   advertising only once, keepalived's one-advert MASTER of ``samples/real/vrid_collision_transient``);
3. **stale ownership**: ``grace_s`` after a split brain ends, or after a router that sent a few
   adverts stops, the VIP is still owned by a MAC that is not the current master's — the hosts'
   caches point at the wrong router (keepalived issues #166, #14, #1528; PROTOCOL.md "observed" 7).

The condition lasts until a claim by the master's MAC (then it is one finding with start and end;
another conflict within ``merge_window_s`` extends it) or the end of the capture.

For **other IPs** (warning): the previous owner claims the IP back within ``window_s`` of losing
it (A -> B -> A): a duplicate address. A single move (new NIC, DHCP) is not flagged.

Not flagged: a normal failover or preemption (the new master's GARPs move the VIP to a master MAC),
Wireshark's "duplicate use of <VIP> detected!" on hand-over GARPs, ARP replies from the VMAC.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, group_text
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    OwnerChanged,
    SplitBrainEnded,
    TransientAdverts,
)
from vrrpscope.reconstruct.state import GroupKey, GroupState, OwnerInterval


@dataclass(frozen=True)
class ArpConflictConfig:
    """Thresholds of the ARP-conflict detector."""

    #: After a split brain ends / a transient router stops, wait this long for the master to re-announce.
    grace_s: float = 1.0
    #: A new conflict on the same IP within this long after the last one ended extends it.
    merge_window_s: float = 30.0
    #: Non-VIP IPs: the old owner reclaiming within this long is a conflict.
    window_s: float = 10.0
    #: A claim by a MAC of no current master is judged this much later (a router may GARP its VIPs
    #: just before its first advert).
    lead_s: float = 1.0


class ArpConflict(Detector):
    """Flags VIPs claimed by a non-master MAC (incl. stale ownership) and IPs claimed by two MACs."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen, OwnerChanged, SplitBrainEnded, TransientAdverts)

    kind = "arp_conflict"
    severity = Severity.CRITICAL

    def __init__(self, config: ArpConflictConfig | None = None) -> None:
        super().__init__()
        self.config = config or ArpConflictConfig()
        self._eps: dict[tuple[str, str], Episode] = {}
        self._changes: dict[tuple[str, str], deque[tuple[float, str | None, str]]] = {}
        self._checks: list[tuple[float, GroupKey, str, str]] = []
        self._deferred: list[tuple[float, OwnerChanged, GroupKey]] = []

    # ----------------------------------------------------------------- events

    def on_event(self, event: Event) -> list[Finding]:
        out: list[Finding] = []
        now = self.recon.last_time
        if now is not None and self._deferred:
            out.extend(self._run_deferred(now, final=False))
        if now is not None and self._checks:
            out.extend(self._run_checks(now, final=False))
        if isinstance(event, OwnerChanged):
            out.extend(self._owner_changed(event))
        elif isinstance(event, SplitBrainEnded):
            self._schedule(event.group, f"the split brain ended at {clock(event.end)}", "", now or event.end)
        elif isinstance(event, TransientAdverts):
            self._schedule(
                event.group,
                f"{event.router} stopped advertising at {clock(event.last)} after {event.adverts} advert(s)",
                event.router,
                now or event.last,
            )
        return out

    def on_tick(self, now: float) -> list[Finding]:
        return self._run_deferred(now, final=False) + self._run_checks(now, final=False)

    def on_end(self, now: float) -> list[Finding]:
        out = self._run_deferred(now, final=True)
        out += self._run_checks(now, final=True)
        for key, ep in self._eps.items():
            if not ep.closed:
                ep.closed = True
                if ep.data.get("group") is not None:
                    ep.end = max(ep.end, now)
                    ep.data["capture_end"] = True
                out.append(self._emit(key, ep))
        return out

    # ----------------------------------------------------------------- VIP ownership

    def _schedule(self, group: GroupKey, reason: str, router: str, now: float) -> None:
        self._checks.append((now + self.config.grace_s, group, reason, router))

    def _run_checks(self, now: float, *, final: bool) -> list[Finding]:
        out: list[Finding] = []
        keep = []
        for due, gk, reason, router in self._checks:
            if now < due and not final:
                keep.append((due, gk, reason, router))
                continue
            g = self.group(gk)
            if g is None:
                continue
            masters = self._masters(g)
            if not masters:
                continue
            expected = {g.vmac}
            for m in masters:
                expected |= g.macs_of(m)
            master_vips: set[str] = set()
            for m in masters:
                if m in g.routers:
                    master_vips.update(g.routers[m].vips)
            for vip in sorted(master_vips):
                owner = self.recon.owners.owner(gk.segment, vip)
                if owner is None:
                    continue
                key = (gk.segment, vip)
                ep = self._eps.get(key)
                if owner.mac in expected:
                    if ep is not None and not ep.closed and ep.data.get("split"):
                        ep.closed = True
                        ep.data["healed"] = reason
                        out.append(self._emit(key, ep))
                    continue
                if (ep is not None and not ep.closed) or owner.start > due - self.config.grace_s:
                    continue  # a claim after the check was scheduled is judged as a claim
                ep = self._open(key, owner.start, gk)
                ep.add(owner.start, owner.frame)
                ep.data.update(stale=reason, owner=owner.mac, owner_since=owner.start, owner_frame=owner.frame)
                ep.data["master_text"] = self._master_text(g, masters)
                for m in masters:
                    ep.add(owner.start, None, m)
                if router:
                    ep.add(owner.start, None, router)
                ep.data.setdefault("macs", []).append(owner.mac)
                out.append(self._emit(key, ep))
        self._checks = keep
        return out

    @staticmethod
    def _masters(g: GroupState) -> list[str]:
        """Routers advertising as master now (at the capture end: those still master then)."""
        if g.claims:
            return [c.router for c in g.claims.values()]
        return [s.master for s in g.timeline if s.end_reason == "capture_end"]

    @staticmethod
    def _master_text(g: GroupState, masters: list[str]) -> str:
        out = []
        for m in masters:
            mac = g.routers[m].mac if m in g.routers else None
            out.append(f"{m} ({mac})" if mac else m)
        return ", ".join(out) or "another router"

    def _open(self, key: tuple[str, str], start: float, group: GroupKey | None) -> Episode:
        ep = self._eps.get(key)
        if ep is not None and (not ep.closed or start - ep.end <= self.config.merge_window_s):
            ep.closed = False
            ep.data.pop("capture_end", None)
            return ep
        ep = Episode(start, start)
        ep.data["group"] = group
        ep.data["changes"] = 0
        self._eps[key] = ep
        return ep

    def _owner_changed(self, e: OwnerChanged) -> list[Finding]:
        key = (e.segment, e.ip)
        if not e.groups:
            return self._non_vip(e)
        out: list[Finding] = []
        for gk in e.groups:
            g = self.group(gk)
            if g is None or not g.claims:
                continue
            if not any(e.ip in g.routers[c].vips for c in g.claims if c in g.routers):
                continue  # no current master advertises this address: nobody to conflict with
            router_macs = set()
            for r in g.routers.values():
                router_macs |= set(r.macs)
            fight = (
                g.current_split is not None
                and e.old_mac is not None
                and e.old_mac in router_macs
                and e.mac in router_macs
            )
            if fight:
                out.append(self._record(e, gk, g, fight=True))
            elif e.mac not in g.expected_macs():
                # Judge a moment later: a router may announce its VIP just before its first advert.
                self._deferred.append((e.time + self.config.lead_s, e, gk))
            else:
                cur = self._eps.get(key)
                if cur is not None and not cur.closed:
                    cur.add(e.time, e.frame)
                    cur.closed = True
                    cur.data["resolved_by"] = (e.mac, e.via, e.time)
                    out.append(self._emit(key, cur))
            break
        return out

    def _run_deferred(self, now: float, *, final: bool) -> list[Finding]:
        out: list[Finding] = []
        keep = []
        for due, e, gk in self._deferred:
            if now < due and not final:
                keep.append((due, e, gk))
                continue
            g = self.group(gk)
            if g is None:
                continue
            masters = self._masters(g)
            expected = {g.vmac}
            for m in masters:
                expected |= g.macs_of(m)
            if not masters or e.mac in expected:
                continue
            f = self._record(e, gk, g, fight=False, masters=masters)
            owner = self.recon.owners.owner(e.segment, e.ip)
            key = (e.segment, e.ip)
            ep = self._eps[key]
            if owner is not None and owner.start > e.time and owner.mac in expected and not ep.closed:
                ep.add(owner.start, owner.frame)
                ep.closed = True
                ep.data["resolved_by"] = (owner.mac, owner.via, owner.start)
                f = self._emit(key, ep)
            out.append(f)
        self._deferred = keep
        return out

    def _record(
        self, e: OwnerChanged, gk: GroupKey, g: GroupState, *, fight: bool, masters: list[str] | None = None
    ) -> Finding:
        """Open or extend the conflict episode of ``e``'s IP with the claim ``e``."""
        key = (e.segment, e.ip)
        masters = masters if masters is not None else g.masters
        ep = self._open(key, e.time, gk)
        ep.add(e.time, e.frame)
        ep.data["changes"] = ep.data.get("changes", 0) + 1
        macs = ep.data.setdefault("macs", [])
        for m in (e.old_mac, e.mac):
            if m is not None and m not in macs:
                macs.append(m)
        for m in masters:
            ep.add(e.time, None, m)
        for _gk, rip in self.recon.routers_for_mac(e.segment, e.mac):
            if _gk == gk:
                ep.add(e.time, None, rip)
        ep.data.setdefault("first_claim", (e.mac, e.via, e.time, e.frame))
        if fight:
            ep.data["split"] = True
            # Both sides of a flip are parties: the MAC the VIP was taken from too. If its own claim
            # came during this split brain and opened no episode (its router was a claimant then),
            # it is the first move of the fight: the episode starts there and cites it.
            if e.old_mac is not None:
                for _gk, rip in self.recon.routers_for_mac(e.segment, e.old_mac):
                    if _gk == gk:
                        ep.add(e.time, None, rip)
                prev = self._previous_owner(e)
                sb = g.current_split
                if (
                    prev is not None
                    and sb is not None
                    and prev.mac == e.old_mac
                    and prev.start >= sb.start
                    and prev.start < ep.start
                ):
                    ep.start = prev.start
                    ep.add(prev.start, prev.frame)
                    ep.data["changes"] += 1
        ep.data.setdefault("master_text", self._master_text(g, masters))
        return self._emit(key, ep)

    def _previous_owner(self, e: OwnerChanged) -> OwnerInterval | None:
        """The owner interval ``e`` ended (the one before ``e.interval``), if still kept."""
        hist = self.recon.owners.history.get((e.segment, e.ip))
        if not hist or len(hist) < 2 or hist[-1] is not e.interval:
            return None
        return hist[-2]

    def _non_vip(self, e: OwnerChanged) -> list[Finding]:
        key = (e.segment, e.ip)
        hist = self._changes.get(key)
        if hist is None:
            hist = self._changes[key] = deque(maxlen=16)
        hist.append((e.time, e.old_mac, e.mac))
        reclaimed = any(old == e.mac and e.time - t <= self.config.window_s for t, old, _new in list(hist)[:-1])
        if not reclaimed:
            ep = self._eps.get(key)
            if ep is not None and not ep.closed and e.time - ep.end > self.config.window_s:
                ep.closed = True
                return [self._emit(key, ep)]
            return []
        ep = self._open(key, e.time, None)
        if ep.data.get("changes", 0) == 0:
            for t, old, _new in hist:
                if e.time - t <= self.config.window_s and old is not None:
                    ep.start = min(ep.start, t)
        ep.add(e.time, e.frame)
        ep.data["changes"] = ep.data.get("changes", 0) + 1
        macs = ep.data.setdefault("macs", [])
        for _t, old, new_mac in hist:
            for m in (old, new_mac):
                if m is not None and m not in macs:
                    macs.append(m)
        ep.data["family"] = e.family
        return [self._emit(key, ep)]

    # ----------------------------------------------------------------- messages

    def _emit(self, key: tuple[str, str], ep: Episode) -> Finding:
        segment, ip = key
        group: GroupKey | None = ep.data.get("group")
        macs = [self.mac_label(segment, m) for m in ep.data.get("macs", [])]
        if group is None:
            msg = (
                f"{ip} on {segment} is claimed by more than one MAC: {', '.join(macs)} "
                f"({ep.data.get('changes', 0)} reclaim(s) within {self.config.window_s:g} s, from "
                f"{clock(ep.start)} "
                f"to {clock(ep.end)}): a duplicate IP address."
            )
            return self.finding(
                group=None,
                segment=segment,
                family=ep.data.get("family", "ipv6" if ":" in ip else "ipv4"),
                start=ep.start,
                end=ep.end if ep.closed else None,
                routers=ep.routers,
                frames=ep.frames,
                frame_count=ep.frame_count,
                message=msg,
                severity=Severity.WARNING,
                subject=ip,
                details={"ip": ip, "macs": ep.data.get("macs", [])},
            )
        master_text = ep.data.get("master_text", "another router")
        if "stale" in ep.data:
            msg = (
                f"VIP {ip} of {group_text(group)}: after {ep.data['stale']}, the VIP is still owned by "
                f"{self.mac_label(segment, ep.data['owner'])} (claimed at {clock(ep.data['owner_since'])}, "
                f"{self.frame(ep.data['owner_frame'])}) while {master_text} is master and did not "
                "re-announce it: "
                "hosts send the VIP's traffic to a router that is not master until their ARP/ND "
                "caches expire "
                "(keepalived garp_master_refresh / garp_lower_prio_repeat re-announce)."
            )
        else:
            first = ep.data.get("first_claim")
            if ep.data.get("split"):
                msg = (
                    f"VIP {ip} of {group_text(group)} is claimed alternately by the MACs of two "
                    "masters during a "
                    f"split brain: {', '.join(macs)} ({ep.data.get('changes', 0)} ownership change(s) from "
                    f"{clock(ep.start)})."
                )
            elif first is not None:
                mac, via, t, frame = first
                msg = (
                    f"VIP {ip} of {group_text(group)} was claimed by {self.mac_label(segment, mac)} ({via}, "
                    f"{self.frame(frame)} at {clock(t)}) while {master_text} was master: hosts that "
                    "accept it send "
                    "the VIP's traffic to a router that is not master (a hidden second master, a "
                    "dead master whose "
                    "kernel still answers for the VIP, or another device using the address)."
                )
                if ep.data.get("changes", 0) > 1:
                    msg += f" {ep.data['changes']} such claims among {', '.join(macs)}."
            else:
                msg = f"VIP {ip} of {group_text(group)} is claimed by {', '.join(macs)}."
        if ep.data.get("healed"):
            msg += f" Over when {ep.data['healed']} and the master's MAC owned the VIP."
        elif ep.data.get("capture_end"):
            msg += " Still so at the end of the capture."
        elif ep.closed and "resolved_by" in ep.data:
            mac, via, t = ep.data["resolved_by"]
            msg += f" Resolved at {clock(t)} when {self.mac_label(segment, mac)} claimed it again ({via})."
        return self.finding(
            group=group,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=ep.routers,
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            severity=Severity.CRITICAL,
            subject=ip,
            details={"ip": ip, "macs": ep.data.get("macs", []), "stale": "stale" in ep.data},
        )
