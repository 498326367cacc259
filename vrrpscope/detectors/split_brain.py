"""``split_brain`` (critical): two or more routers act as master of one group at the same time.

Flags:

1. **Advertised split brain** — the reconstructor's :class:`SplitBrainStarted`: two routers kept
   advertising as master beyond the normal hand-over overlap (about one advert interval after the
   later one's first advert, ``ReconstructorConfig.overlap_intervals`` + tolerance; PROTOCOL.md
   §9.7). A preemption hand-over, a master's immediate answer to a lower-priority advert and a
   yielding router's one-shot advert stay below that and are not flagged.
2. **Hidden second master** — a router that is *not* currently advertising as master (it went
   silent after a few adverts, or never advertised at all in this capture) sends gratuitous ARP /
   unsolicited NA for a VIP of the group while another router is master. keepalived masters that
   reject each other's adverts (wrong password, different VIP set, interval, version) often stop
   advertising after one to three adverts yet keep the VIP and its GARP bursts at +0 s and +5 s
   (PROTOCOL.md "observed" 7). GARPs from the group's virtual MAC are never evidence (every
   ``use_vmac`` router uses it); GARPs less than ``garp_grace_s`` after the router's own last
   advert are not either.

The message states the likely cause when the capture shows it (:func:`~.compare.differences`:
authentication, version, v2 interval, VIP set, checksum variant, TTL, unicast/multicast), the
one-way case (the master answers each of the other's adverts within ``answer_window_s``: it hears
them, the other does not hear it), else "adverts are probably not reaching each other".
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vrrpscope.detectors.base import Detector, Episode, clock, group_text, seconds
from vrrpscope.detectors.compare import differences
from vrrpscope.findings import FRAME_CAP, Finding, Severity
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    GarpSeen,
    SplitBrainEnded,
    SplitBrainStarted,
    TransientAdverts,
)
from vrrpscope.reconstruct.state import GroupKey, GroupState


@dataclass(frozen=True)
class SplitBrainConfig:
    """Thresholds of the split-brain detector."""

    #: Treat GARP/NA for a VIP from a router that is not advertising as master as evidence.
    hidden_master_garp: bool = True
    #: GARPs up to this long after the router's own last advert are not evidence (in-flight burst).
    garp_grace_s: float = 0.5
    #: GARP evidence this close to an earlier split brain / transient of the same router extends it.
    merge_window_s: float = 60.0
    #: A router that sends transient adverts again within this window while another router is
    #: master considers itself master too (a backup never advertises).
    recurrence_window_s: float = 30.0
    #: A master advert this soon after the other router's advert counts as an answer (RFC 9568 §6.4.3).
    answer_window_s: float = 0.05
    #: GARP/NA from a MAC of no advertising router is judged this much later (it may advertise next).
    lead_s: float = 1.0
    #: ... and counts only as part of a burst of at least this many for one VIP within a second, as
    #: VRRP routers send them (keepalived: garp_master_repeat 5); a single or sporadic gratuitous ARP
    #: is more likely another device using the address (reported by ``arp_conflict``).
    min_burst: int = 3


#: Per-episode history kept for messages (first half and latest entries beyond it).
_HISTORY = 400


@dataclass(slots=True, eq=False)
class _Hidden:
    episode: Episode
    router: str | None
    mac: str | None
    masters: list[str]
    transients: list[tuple[float, float, int]] = field(default_factory=list)
    vips: set[str] = field(default_factory=set)
    garp_times: list[float] = field(default_factory=list)
    garp_count: int = 0
    #: Once reported, ``episode.start`` (part of the finding's identity) stays put.
    emitted: bool = False



def _note_garps_after(data: dict[str, Any], times: Iterable[float]) -> None:
    """Count GARP/NA bursts sent after a split brain's stopped side went quiet; keep the earliest
    :data:`_HISTORY` times (sorted) for the message. A side that keeps refreshing for days must
    not grow the finding."""
    kept: list[float] = data.setdefault("garps_after", [])
    for t in times:
        data["garps_after_count"] = data.get("garps_after_count", 0) + 1
        if len(kept) < _HISTORY:
            bisect.insort(kept, t)
        elif t < kept[-1]:
            bisect.insort(kept, t)
            kept.pop()

class SplitBrain(Detector):
    """Detects advertised and hidden split brains and explains their likely cause."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen, SplitBrainStarted, SplitBrainEnded, TransientAdverts, GarpSeen)

    kind = "split_brain"
    severity = Severity.CRITICAL

    def __init__(self, config: SplitBrainConfig | None = None) -> None:
        super().__init__()
        self.config = config or SplitBrainConfig()
        self._open: dict[GroupKey, Episode] = {}
        self._closed: dict[tuple[GroupKey, str], Episode] = {}
        self._last_advert: dict[GroupKey, dict[str, float]] = {}
        self._answers: dict[GroupKey, dict[tuple[str, str], int]] = {}
        self._hidden: dict[tuple[GroupKey, str], _Hidden] = {}
        self._transients: dict[tuple[GroupKey, str], list[TransientAdverts]] = {}
        self._deferred: list[tuple[float, GarpSeen, GroupKey]] = []
        self._foreign: dict[tuple[GroupKey, str, str], list[float]] = {}

    # ----------------------------------------------------------------- events

    def on_event(self, event: Event) -> list[Finding]:
        if self._deferred and self.recon.last_time is not None:
            found = self._run_deferred(self.recon.last_time, final=False)
            if found:
                return found + self.on_event(event)
        if isinstance(event, AdvertSeen):
            return self._advert(event)
        if isinstance(event, SplitBrainStarted):
            ep = Episode(event.episode.start, event.time, routers=list(event.routers))
            for ref in event.episode.frames:
                ep.add(event.episode.start, ref)
            ep.data["confirmed_at"] = event.time
            self._open[event.group] = ep
            self._answers[event.group] = {}
            return [self._advertised(event.group, ep)]
        if isinstance(event, SplitBrainEnded):
            if event.group not in self._open:
                return []
            ep = self._open.pop(event.group)
            ep.end = event.end
            for r in event.routers:
                if r not in ep.routers:
                    ep.routers.append(r)
            ep.closed = True
            ep.data["end_reason"] = event.episode.end_reason
            ep.data["adverts_end"] = event.end
            if event.episode.end_reason == "capture_end":
                ep.data["capture_end"] = True
            for r in ep.routers:
                self._closed[(event.group, r)] = ep
            self._garps_after_stop(event, ep)
            return [self._advertised(event.group, ep)]
        if isinstance(event, TransientAdverts):
            return self._transient(event)
        if isinstance(event, GarpSeen) and self.config.hidden_master_garp:
            return self._garp(event)
        return []

    def on_end(self, now: float) -> list[Finding]:
        out = self._run_deferred(now, final=True)
        for key, ep in list(self._open.items()):
            ep.end = max(ep.end, now)
            ep.closed = True
            ep.data["capture_end"] = True
            out.append(self._advertised(key, ep))
        self._open.clear()
        return out

    # ----------------------------------------------------------------- advertised split brain

    def _advert(self, event: AdvertSeen) -> list[Finding]:
        key = event.group
        ep = self._open.get(key)
        if ep is None:
            return []
        last = self._last_advert.setdefault(key, {})
        answers = self._answers.setdefault(key, {})
        for other, t in last.items():
            if other != event.router and 0 <= event.time - t <= self.config.answer_window_s:
                answers[(event.router, other)] = answers.get((event.router, other), 0) + 1
        last[event.router] = event.time
        if event.router in ep.routers:
            ep.add(event.time)
            adverts = ep.data.setdefault("adverts", [])
            adverts.append((event.time, event.frame))
            if len(adverts) > 4 * FRAME_CAP:
                del adverts[FRAME_CAP : 2 * FRAME_CAP]
            ep.data["advert_count"] = ep.data.get("advert_count", 0) + 1
        return []

    def _causes(self, g: GroupState, routers: list[str]) -> list[str]:
        rs = [g.routers[r] for r in routers if r in g.routers]
        out: list[str] = []
        for i, a in enumerate(rs):
            for b in rs[i + 1 :]:
                for d in differences(a, b, self.recon.show_secrets):
                    if d not in out:
                        out.append(d)
        return out

    @staticmethod
    def _merge_causes(ep: Episode, causes: list[str]) -> list[str]:
        """Causes seen so far in the episode (a reconfiguration that ends it must not erase them)."""
        kept: list[str] = ep.data.setdefault("causes", [])
        for c in causes:
            if c not in kept:
                kept.append(c)
        return list(kept)

    def _one_way(self, key: GroupKey, routers: list[str]) -> str | None:
        answers = self._answers.get(key, {})
        best = None
        for (answerer, other), n in answers.items():
            if n >= 2 and answerer in routers and other in routers and (best is None or n > best[2]):
                best = (answerer, other, n)
        if best is None:
            return None
        answerer, other, n = best
        return (
            f"{answerer} answered {n} of {other}'s adverts within "
            f"{self.config.answer_window_s * 1000:.0f} ms, "
            f"so it hears them, while {other} kept advertising: {other} does not receive "
            f"{answerer}'s adverts "
            "(one-way loss, e.g. multicast filtering or a firewall towards it)"
        )

    def _advertised(self, key: GroupKey, ep: Episode) -> Finding:
        g = self.group(key)
        routers = list(ep.routers)
        parts = []
        if g is not None:
            for r in routers:
                st = g.routers.get(r)
                if st is not None:
                    parts.append(f"{r} (priority {st.priority}, {st.adverts} adverts)")
        dur = ep.data.get("adverts_end", ep.end) - ep.start
        msg = (
            f"{len(routers)} routers advertised as master of {group_text(key)} at the same time: "
            f"{', '.join(parts) or ', '.join(routers)}, from {clock(ep.start)} for {seconds(dur)}"
        )
        if ep.data.get("capture_end"):
            msg += " (still going at the end of the capture)"
        elif ep.closed:
            msg += f" (until {clock(ep.data.get('adverts_end', ep.end))}, when one stopped advertising)"
        else:
            msg += " (ongoing)"
        msg += "; a normal hand-over overlaps by at most about one advert interval."
        causes = self._merge_causes(ep, self._causes(g, routers) if g is not None else [])
        one_way = self._one_way(key, routers)
        if one_way:
            causes.insert(0, one_way)
        if causes:
            msg += " Likely cause: " + "; ".join(causes) + "."
        else:
            msg += (
                " The captured adverts show no difference, so they are probably not reaching each other "
                "(multicast/IGMP snooping, a firewall dropping IP protocol 112, a VLAN or bridge problem)."
            )
        times = ep.data.get("garps_after", [])
        if times:
            bursts = ", ".join(clock(t) for t in times[:6])
            msg += (
                f" After it stopped advertising, {ep.data['stopper']} kept sending gratuitous ARP/NA for "
                f"{', '.join(ep.data.get('garp_vips', []))} (bursts at {bursts}): "
                "it most likely still considers itself master and holds the VIP."
            )
        limit = ep.data.get("adverts_end", float("inf"))
        cited = [ref for t, ref in ep.data.get("adverts", []) if t <= limit]
        return self.finding(
            group=key,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=routers,
            frames=ep.frames + cited,
            frame_count=ep.frame_count + len(cited),
            message=msg,
            details={
                "duration": dur,
                "causes": causes,
                "hidden": False,
                "garps_after": ep.data.get("garps_after_count", 0),
            },
        )

    # ----------------------------------------------------------------- hidden master (GARP evidence)

    def _garp(self, event: GarpSeen) -> list[Finding]:
        out = []
        for key in event.groups:
            g = self.group(key)
            if g is None or not g.claims or event.mac == g.vmac:
                continue
            if event.mac in g.expected_macs():
                continue
            sender = self._sender(key, event.mac)
            if sender is None:
                # A MAC of no router yet: judge a moment later (a router may GARP just before its
                # first advert, and a burst needs to be complete).
                times = self._foreign.setdefault((key, event.mac, event.ip), [])
                times.append(event.time)
                if len(times) > 64:
                    del times[:32]
                self._deferred.append((event.time + self.config.lead_s, event, key))
                continue
            r = g.routers.get(sender)
            if r is not None and event.time - r.last_seen <= self.config.garp_grace_s:
                continue
            out.append(self._hidden_evidence(key, g, sender, event))
        return out

    def _sender(self, key: GroupKey, mac: str) -> str | None:
        for rk, rip in sorted(self.recon.routers_for_mac(key.segment, mac)):
            if rk == key:
                return rip
        return None

    def _run_deferred(self, now: float, *, final: bool) -> list[Finding]:
        out = []
        keep = []
        for due, event, key in self._deferred:
            if now < due and not final:
                keep.append((due, event, key))
                continue
            g = self.group(key)
            if g is None:
                continue
            if g.claims:
                masters = [c.router for c in g.claims.values()]
            else:
                masters = [s.master for s in g.timeline if s.end_reason == "capture_end"]
            expected = {g.vmac}
            for m in masters:
                expected |= g.macs_of(m)
            if not masters or event.mac in expected:
                continue
            sender = self._sender(key, event.mac)
            if sender is not None and sender in g.claims:
                continue
            if sender is None:
                times = self._foreign.get((key, event.mac, event.ip), [])
                burst = [t for t in times if abs(t - event.time) <= 1.0]
                if len(burst) < self.config.min_burst:
                    continue
            out.append(self._hidden_evidence(key, g, sender, event))
        self._deferred = keep
        return out

    def _recent_transients(self, key: GroupKey, router: str, now: float) -> list[TransientAdverts]:
        kept = [t for t in self._transients.get((key, router), []) if now - t.last <= self.config.merge_window_s]
        self._transients[(key, router)] = kept
        return kept

    def _hidden_for(self, key: GroupKey, g: GroupState, router: str | None, mac: str | None, now: float) -> _Hidden:
        """The hidden-master episode of ``router`` (or ``mac``), opened if needed."""
        ident = (key, router or mac or "?")
        h = self._hidden.get(ident)
        if h is not None and now - h.episode.end > self.config.merge_window_s:
            h = None
        if h is None:
            h = _Hidden(Episode(now, now), router, mac, list(g.masters))
            if router is not None:
                h.episode.routers.append(router)
                for t in self._recent_transients(key, router, now):
                    self._add_transient(h, t)
            for m in h.masters:
                if m not in h.episode.routers:
                    h.episode.routers.append(m)
            self._hidden[ident] = h
        return h

    @staticmethod
    def _add_transient(h: _Hidden, t: TransientAdverts) -> None:
        if (t.first, t.last, t.adverts) in h.transients:
            return
        h.transients.append((t.first, t.last, t.adverts))
        if len(h.transients) > _HISTORY:
            del h.transients[_HISTORY // 2 : _HISTORY // 2 + 1]
        if not h.emitted:
            h.episode.start = min(h.episode.start, t.first)
        h.episode.add(t.last)
        for ref in t.frames:
            h.episode.add(t.first, ref)
        for m in t.masters:
            if m not in h.masters:
                h.masters.append(m)
            if m not in h.episode.routers:
                h.episode.routers.append(m)

    def _transient(self, event: TransientAdverts) -> list[Finding]:
        key = event.group
        recent = self._recent_transients(key, event.router, event.first)
        recent = [t for t in recent if event.first - t.last <= self.config.recurrence_window_s]
        recent.append(event)
        self._transients[(key, event.router)] = recent
        h = self._hidden.get((key, event.router))
        if len(recent) < 2 and (h is None or event.first - h.episode.end > self.config.merge_window_s):
            return []
        g = self.group(key)
        if g is None:
            return []
        h = self._hidden_for(
            key, g, event.router, g.routers[event.router].mac if event.router in g.routers else None, event.first
        )
        for t in recent:
            self._add_transient(h, t)
        return [self._hidden_finding(key, g, h)]

    def _hidden_evidence(self, key: GroupKey, g: GroupState, sender: str | None, event: GarpSeen) -> Finding:
        if sender is not None:
            closed = self._closed.get((key, sender))
            if closed is not None and event.time - closed.end <= self.config.merge_window_s:
                # The silent side of an advertised split brain keeps GARPing: extend that finding.
                closed.add(event.time, event.frame)
                _note_garps_after(closed.data, (event.time,))
                return self._advertised_with_garps(key, closed, sender, event)
        h = self._hidden_for(key, g, sender, event.mac, event.time)
        h.mac = event.mac
        h.episode.add(event.time, event.frame)
        h.vips.add(event.ip)
        h.garp_times.append(event.time)
        h.garp_count += 1
        if len(h.garp_times) > _HISTORY:
            del h.garp_times[_HISTORY // 2 : _HISTORY // 2 + 1]
        return self._hidden_finding(key, g, h)

    def _garps_after_stop(self, event: SplitBrainEnded, ep: Episode) -> None:
        """GARP/NA the stopped master sent after its last advert (still holding the VIP)."""
        g = self.group(event.group)
        if g is None or event.episode.end_reason != "split_brain":
            return
        for st in g.timeline:
            if st.end_reason != "split_brain" or st.end != event.end:
                continue
            for ip, gs in st.garps.items():
                late = [b for b in gs.bursts if b > event.end + self.config.garp_grace_s]
                if late:
                    ep.data["stopper"] = st.master
                    _note_garps_after(ep.data, late)
                    ep.data.setdefault("garp_vips", []).append(ip)
                    ep.add(max(gs.last, *late), None)

    def _advertised_with_garps(self, key: GroupKey, ep: Episode, sender: str, event: GarpSeen) -> Finding:
        ep.data["stopper"] = sender
        if event.ip not in ep.data.setdefault("garp_vips", []):
            ep.data["garp_vips"].append(event.ip)
        return self._advertised(key, ep)

    def _hidden_finding(self, key: GroupKey, g: GroupState, h: _Hidden) -> Finding:
        masters = ", ".join(h.masters) or "another router"
        parts = []
        if h.router is not None and len(h.transients) > 1:
            shots = ", ".join(f"{n} at {clock(first)}" for first, _last, n in h.transients[:8])
            parts.append(
                f"{h.router} sent adverts {len(h.transients)} times while {masters} was master ({shots}), "
                "falling silent after each — a backup never advertises"
            )
        elif h.router is not None and h.transients:
            _first, last, n = h.transients[0]
            parts.append(
                f"{h.router} sent {n} advert(s) while {masters} was master and stopped advertising at {clock(last)}"
            )
        if h.garp_times:
            bursts: list[list[float]] = []
            for t in h.garp_times:
                if bursts and t - bursts[-1][-1] <= 1.0:
                    bursts[-1].append(t)
                else:
                    bursts.append([t])
            times = ", ".join(f"{len(b)} at {clock(b[0])}" for b in bursts[:6])
            if len(bursts) > 6:
                times += f" and {len(bursts) - 6} more burst(s)"
            who = h.router if h.router is not None else f"a device with MAC {h.mac} that sent no adverts"
            verb = "yet kept sending" if parts else f"{who} sends"
            parts.append(
                f"{verb} gratuitous ARP/NA for {', '.join(sorted(h.vips))} from {h.mac} ({times}) while "
                f"{masters} is master"
            )
        msg = (
            f"Hidden second master in {group_text(key)}: {', '.join(parts)}. It most likely still considers "
            "itself master and holds the VIP: keepalived masters that reject each other's adverts keep "
            "resetting each other's advert timer, so one advertises only now and then, or not at all, "
            "while both keep the VIP and their GARP bursts."
        )
        h.emitted = True
        causes = self._merge_causes(h.episode, self._causes(g, [h.router, *h.masters]) if h.router else [])
        if causes:
            msg += " Likely cause: " + "; ".join(causes) + "."
        elif h.router is None:
            msg += (
                " Its adverts are not in this capture: they do not reach this segment, or another device uses the VIP."
            )
        else:
            msg += " The captured adverts show no difference: they are probably not reaching each other."
        return self.finding(
            group=key,
            start=h.episode.start,
            end=h.episode.end,
            routers=h.episode.routers,
            frames=h.episode.frames,
            frame_count=h.episode.frame_count,
            message=msg,
            subject=h.router or h.mac or "",
            details={"hidden": True, "causes": causes, "garps": h.garp_count, "transients": len(h.transients)},
        )
