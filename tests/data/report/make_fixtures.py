"""Build the hand-made analysis dicts that the HTML report tests render.

Each scenario is written out event by event with the numbers keepalived would produce (RFC 3768
timing: Master_Down_Interval = 3 x 1 s + (256 - priority)/256 s), then frame numbers are assigned
in capture order, and the dict is built in the ``analyze --format json`` contract of DESIGN.md plus
the optional per-group keys the reconstructor adds (``priority_changes``, ``resigns``, ``garps``,
``advert_times``, ``vantage``). Run it to rewrite ``failover.json`` and ``splitbrain.json``::

    .venv/bin/python tests/data/report/make_fixtures.py

Scenarios:

* failover (one file): r1 (192.0.2.11, priority 150, lowered to 140 by a failing track script)
  crashes after its advert at 14:03:07.200; r2 (priority 100) takes over 3.609 s later (within its
  Master_Down_Interval of 3.609375 s), sends 5 gratuitous ARPs and 5 more 5 s later; r1 reboots,
  waits its own Master_Down_Interval (3.414 s) and preempts back, with its own two GARP bursts.
* splitbrain (two vantage files): r2 restarts with a different VRRPv2 password; each router drops
  the other's adverts, so r2 becomes master next to r1 for 8.0 s, GARPs the VIP onto its MAC, then
  resigns (priority 0) when stopped. Nobody re-announces the VIP: it stays on r2's MAC until the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def mdi(priority: int, interval: float = 1.0) -> float:
    """RFC 3768 Master_Down_Interval for a backup of ``priority``."""
    return 3 * interval + (256 - priority) / 256


@dataclass
class Event:
    """One captured packet of the scenario (kind: advert, resign, garp, na, arp, malformed)."""

    time: float
    kind: str
    router: str = ""
    priority: int = 0
    ip: str = ""
    mac: str = ""
    via: str = ""
    frames: dict[str, int] = field(default_factory=dict)


def number_frames(events: list[Event], files: dict[str, float], t0: float, other_per_s: int) -> dict[str, int]:
    """Assign 1-based frame numbers per file (a file holds the packets from its start time on).

    Each file also holds ``other_per_s`` unrelated frames per second (counted, never cited).
    Returns the total packet count per file.
    """
    events.sort(key=lambda e: (e.time, e.kind, e.router))
    totals: dict[str, int] = {}
    for name, start in files.items():
        seen = 0
        for e in events:
            if e.time < start:
                continue
            seen += 1
            others = int((e.time - start) * other_per_s)
            e.frames[name] = seen + others
        totals[name] = seen + int((max(e.time for e in events) - start) * other_per_s) + 1
    return totals


def cite(e: Event, files: list[str], only: str | None = None) -> Any:
    """Cite ``e`` like the contract does: an int for one input file, else ``{"file","frame"}``."""
    if len(files) == 1:
        return e.frames[files[0]]
    name = only or next(f for f in files if f in e.frames)
    return {"file": name, "frame": e.frames[name]}


def r6(t: float) -> float:
    """Round a time to microseconds, as a pcap timestamp is."""
    return round(t, 6)


def failover() -> dict[str, Any]:
    """The failover scenario (see the module docstring)."""
    t0 = 1715695370.0  # 2024-05-14 14:02:50 UTC
    end = t0 + 100.0
    r1, r2, vip, client = "192.0.2.11", "192.0.2.12", "192.0.2.33", "192.0.2.50"
    mac1, mac2, macc = "52:54:00:0a:00:11", "52:54:00:0a:00:12", "52:54:00:0a:00:50"
    ev: list[Event] = []
    # r1 master from the start, advert every 1 s; track script lowers it to 140 from 14:03:00.2.
    r1_first = [r6(t0 + 0.2 + k) for k in range(18)]  # last at 14:03:07.200, then it crashes
    for t in r1_first:
        ev.append(Event(t, "advert", r1, 150 if t < t0 + 10 else 140))
    # r2 (priority 100) waits Master_Down_Interval after r1's last advert.
    r2_start = r6(r1_first[-1] + 3.6091)
    r2_times = [r6(r2_start + k) for k in range(33)]  # until 14:03:42.809
    for t in r2_times:
        ev.append(Event(t, "advert", r2, 100))
    for burst in (0.0, 5.0):
        for i in range(5):
            ev.append(Event(r6(r2_start + 0.0004 + burst + i * 0.00021), "garp", r2, ip=vip, mac=mac2))
    # r1 reboots at 14:03:40.0, starts as backup, preempts after its own MDI (priority 150).
    r1_back = r6(t0 + 50.0 + mdi(150) + 0.0001)
    r1_second = [r6(r1_back + k) for k in range(47)]
    for t in r1_second:
        ev.append(Event(t, "advert", r1, 150))
    for burst in (0.0, 5.0):
        for i in range(5):
            ev.append(Event(r6(r1_back + 0.0004 + burst + i * 0.00019), "garp", r1, ip=vip, mac=mac1))
    ev.append(Event(r6(t0 + 4.4991), "arp", client, ip=client, mac=macc, via="request"))
    ev.append(Event(r6(t0 + 4.4996), "arp", r1, ip=vip, mac=mac1, via="reply"))
    ev.append(Event(r6(t0 + 70.0312), "malformed", "192.0.2.99"))
    name = "core-sw1-span-vlan30.pcapng"
    totals = number_frames(ev, {name: t0}, t0, 12)
    files = [name]

    def first(kind: str, router: str, after: float = 0.0) -> Event:
        return next(e for e in ev if e.kind == kind and e.router == router and e.time >= after)

    adverts = {r: [e for e in ev if e.kind == "advert" and e.router == r] for r in (r1, r2)}
    garps = [e for e in ev if e.kind == "garp"]
    malformed = next(e for e in ev if e.kind == "malformed")
    group = {
        "segment": "eth0/vlan30",
        "family": "ipv4",
        "vrid": 33,
        "versions": [2],
        "routers": [
            {
                "ip": r1,
                "mac": mac1,
                "priorities": [140, 150],
                "advert_int": 1.0,
                "auth": {"type": "none", "fingerprint": None},
                "vips": [vip],
                "adverts": len(adverts[r1]),
                "first_seen": adverts[r1][0].time,
                "last_seen": adverts[r1][-1].time,
                "checksum_variants": ["v2"],
                "macs": [mac1],
                "ttls": [255],
            },
            {
                "ip": r2,
                "mac": mac2,
                "priorities": [100],
                "advert_int": 1.0,
                "auth": {"type": "none", "fingerprint": None},
                "vips": [vip],
                "adverts": len(adverts[r2]),
                "first_seen": adverts[r2][0].time,
                "last_seen": adverts[r2][-1].time,
                "checksum_variants": ["v2"],
                "macs": [mac2],
                "ttls": [255],
            },
        ],
        "timeline": [
            {"master": r1, "start": r1_first[0], "end": r1_first[-1], "end_reason": "timeout"},
            {"master": r2, "start": r2_start, "end": r2_times[-1], "end_reason": "preempted"},
            {"master": r1, "start": r1_back, "end": end, "end_reason": "capture_end"},
        ],
        "takeovers": [
            {
                "from": r1,
                "to": r2,
                "at": r2_start,
                "gap": round(r2_start - r1_first[-1], 6),
                "allowed": mdi(100),
                "cause": "timeout",
                "garp_delay": round(garps[0].time - r2_start, 6),
            },
            {
                "from": r2,
                "to": r1,
                "at": r1_back,
                "gap": round(r1_back - r2_times[-1], 6),
                "allowed": None,
                "cause": "preempt",
                "garp_delay": round(first("garp", r1).time - r1_back, 6),
            },
        ],
        "priority_changes": [
            {"router": r1, "time": e.time, "priority": e.priority, "frame": cite(e, files)}
            for e in (first("advert", r1, t0 + 10), first("advert", r1, t0 + 50))
        ],
        "garps": [
            {
                "router": e.router,
                "ip": e.ip,
                "mac": e.mac,
                "time": e.time,
                "frame": cite(e, files),
                "kind": "garp",
            }
            for e in garps
        ],
        "advert_times": {r: [e.time for e in adverts[r]] for r in (r1, r2)},
    }
    n_vrrp = sum(1 for e in ev if e.kind == "advert")
    n_arp = sum(1 for e in ev if e.kind in ("garp", "arp"))
    return {
        "input": {
            "files": files,
            "packets": totals[name],
            "vrrp": n_vrrp,
            "arp": n_arp,
            "nd": 0,
            "malformed": 1,
            "start": t0,
            "end": end,
            "capture_loss": 0,
        },
        "groups": [group],
        "arp_owners": [
            {"ip": client, "mac": macc, "start": r6(t0 + 4.4991), "end": end, "via": "request"},
            {"ip": vip, "mac": mac1, "start": r6(t0 + 4.4996), "end": garps[0].time, "via": "reply"},
            {"ip": vip, "mac": mac2, "start": garps[0].time, "end": first("garp", r1).time, "via": "garp"},
            {"ip": vip, "mac": mac1, "start": first("garp", r1).time, "end": end, "via": "garp"},
        ],
        "findings": [
            {
                "kind": "malformed",
                "severity": "warning",
                "segment": "eth0/vlan30",
                "family": "ipv4",
                "vrid": None,
                "start": malformed.time,
                "end": malformed.time,
                "routers": [],
                "frames": [cite(malformed, files)],
                "message": "VRRP packet from 192.0.2.99 could not be decoded (count_exceeds_length): "
                "count=2 needs 8 address bytes, 3 present",
            }
        ],
    }


def splitbrain() -> dict[str, Any]:
    """The split-brain scenario (see the module docstring)."""
    s0 = 1715679680.0  # 2024-05-14 09:41:20 UTC
    end = s0 + 60.0
    r1, r2, vip = "192.0.2.11", "192.0.2.12", "192.0.2.33"
    r1v6, vip6 = "fe80::5054:ff:fe0b:11", "2001:db8:34::1"
    mac1, mac2 = "52:54:00:0b:00:11", "52:54:00:0b:00:12"
    fp1, fp2 = "sha256:5d41402abc4b2a76", "sha256:7e240de74fb1ed08"
    ev: list[Event] = []
    for k in range(60):
        ev.append(Event(r6(s0 + 0.35 + k), "advert", r1, 150))
        ev.append(Event(r6(s0 + 0.6 + k), "advert6", r1v6, 150))
    # r2 restarts at 09:41:51.0 with another password, never accepts r1's adverts: master after MDI.
    r2_start = r6(s0 + 31.0 + mdi(100))
    for k in range(8):
        ev.append(Event(r6(r2_start + k), "advert", r2, 100))
    resign = r6(r2_start + 8.0)
    ev.append(Event(resign, "resign", r2, 0))
    for burst in (0.0, 5.0):
        for i in range(5):
            ev.append(Event(r6(r2_start + 0.0004 + burst + i * 0.00023), "garp", r2, ip=vip, mac=mac2))
    ev.append(Event(r6(s0 + 2.1297), "arp", "192.0.2.50", ip="192.0.2.50", mac="52:54:00:0b:00:50"))
    ev.append(Event(r6(s0 + 2.1300), "arp", r1, ip=vip, mac=mac1, via="reply"))
    ev.append(Event(r6(s0 + 12.0), "na", r1v6, ip=vip6, mac=mac1, via="na"))
    fa, fb = "r1-eth1.pcapng", "r2-eth1.pcapng"
    totals = number_frames(ev, {fa: s0, fb: s0 + 30.5}, s0, 7)
    files = [fa, fb]
    adverts = {r: [e for e in ev if e.kind in ("advert", "advert6") and e.router == r] for r in (r1, r2, r1v6)}
    garps = [e for e in ev if e.kind == "garp"]
    resign_ev = next(e for e in ev if e.kind == "resign")
    r2_first = adverts[r2][0]
    r1_after = next(e for e in adverts[r1] if e.time > r2_first.time)
    overlap = round(resign - r2_start, 6)
    group33 = {
        "segment": "eth1/vlan30",
        "family": "ipv4",
        "vrid": 33,
        "versions": [2],
        "routers": [
            {
                "ip": r1,
                "mac": mac1,
                "priorities": [150],
                "advert_int": 1.0,
                "auth": {"type": "simple", "fingerprint": fp1},
                "vips": [vip],
                "adverts": len(adverts[r1]),
                "first_seen": adverts[r1][0].time,
                "last_seen": adverts[r1][-1].time,
                "checksum_variants": ["v2"],
                "macs": [mac1],
                "ttls": [255],
            },
            {
                "ip": r2,
                "mac": mac2,
                "priorities": [0, 100],
                "advert_int": 1.0,
                "auth": {"type": "simple", "fingerprint": fp2},
                "vips": [vip],
                "adverts": len(adverts[r2]) + 1,
                "first_seen": adverts[r2][0].time,
                "last_seen": resign,
                "checksum_variants": ["v2"],
                "macs": [mac2],
                "ttls": [255],
            },
        ],
        "timeline": [
            {"master": r1, "start": adverts[r1][0].time, "end": end, "end_reason": "capture_end"},
            {"master": r2, "start": r2_start, "end": resign, "end_reason": "resign"},
        ],
        "takeovers": [],
        "priority_changes": [],
        "resigns": [{"router": r2, "time": resign, "frame": cite(resign_ev, files)}],
        "garps": [
            {
                "router": e.router,
                "ip": e.ip,
                "mac": e.mac,
                "time": e.time,
                "frame": cite(e, files),
                "kind": "garp",
            }
            for e in garps
        ],
        "advert_times": {r: [e.time for e in adverts[r]] for r in (r1, r2)},
        "vantage": {r1: [fa, fb], r2: [fa, fb]},
    }
    na = next(e for e in ev if e.kind == "na")
    group34 = {
        "segment": "eth1/vlan30",
        "family": "ipv6",
        "vrid": 34,
        "versions": [3],
        "routers": [
            {
                "ip": r1v6,
                "mac": mac1,
                "priorities": [150],
                "advert_int": 1.0,
                "auth": None,
                "vips": [vip6],
                "adverts": len(adverts[r1v6]),
                "first_seen": adverts[r1v6][0].time,
                "last_seen": adverts[r1v6][-1].time,
                "checksum_variants": ["v3-ipv6"],
                "macs": [mac1],
                "ttls": [255],
            }
        ],
        "timeline": [{"master": r1v6, "start": adverts[r1v6][0].time, "end": end, "end_reason": "capture_end"}],
        "takeovers": [],
        "priority_changes": [],
        "resigns": [],
        "garps": [],
        "advert_times": {r1v6: [e.time for e in adverts[r1v6]]},
        "vantage": {r1v6: [fa, fb]},
    }
    frames_split = [cite(r2_first, files, fa), cite(r1_after, files, fa), cite(r2_first, files, fb)]
    return {
        "input": {
            "files": files,
            "packets": totals[fa] + totals[fb],
            "vrrp": sum(1 for e in ev if e.kind in ("advert", "advert6", "resign") for f in e.frames),
            "arp": sum(1 for e in ev if e.kind in ("garp", "arp") for f in e.frames),
            "nd": sum(1 for e in ev if e.kind == "na" for f in e.frames),
            "malformed": 0,
            "start": s0,
            "end": end,
            "capture_loss": 3,
            "problems": [
                f"{fb}: last record truncated (38 of 102 bytes) after frame {totals[fb] - 1}; earlier frames analysed"
            ],
        },
        "groups": [group34, group33],
        "arp_owners": [
            {"ip": vip6, "mac": mac1, "start": na.time, "end": end, "via": "na"},
            {"ip": vip, "mac": mac1, "start": r6(s0 + 2.13), "end": garps[0].time, "via": "reply"},
            {"ip": vip, "mac": mac2, "start": garps[0].time, "end": end, "via": "garp"},
        ],
        "findings": [
            {
                "kind": "priority_zero_resign",
                "severity": "info",
                "segment": "eth1/vlan30",
                "family": "ipv4",
                "vrid": 33,
                "start": resign,
                "end": resign,
                "routers": [r2],
                "frames": [cite(resign_ev, files, fa), cite(resign_ev, files, fb)],
                "message": f"{r2} resigned mastership of VRID 33 with a priority-0 advert",
            },
            {
                "kind": "split_brain",
                "severity": "critical",
                "segment": "eth1/vlan30",
                "family": "ipv4",
                "vrid": 33,
                "start": r2_start,
                "end": resign,
                "routers": [r1, r2],
                "frames": frames_split,
                "message": f"{r1} (priority 150) and {r2} (priority 100) both advertised as master of "
                f"VRID 33 for {overlap:.1f} s: 8 adverts from {r2} while {r1} kept advertising every 1 s",
            },
            {
                "kind": "arp_conflict",
                "severity": "critical",
                "segment": "eth1/vlan30",
                "family": "ipv4",
                "vrid": 33,
                "start": garps[0].time,
                "end": end,
                "routers": [r1, r2],
                "frames": [cite(e, files, fa) for e in garps],
                "message": f"{vip} was claimed by {mac2} ({r2}, 10 gratuitous ARPs) while {r1} ({mac1}) "
                f"was master; after {r2} resigned nobody re-announced it, so it stayed on {mac2} for "
                f"{end - resign:.1f} s, until the end of the capture",
            },
            {
                "kind": "auth_mismatch",
                "severity": "warning",
                "segment": "eth1/vlan30",
                "family": "ipv4",
                "vrid": 33,
                "start": r2_start,
                "end": resign,
                "routers": [r1, r2],
                "frames": [cite(r2_first, files, fa), cite(r1_after, files, fa)],
                "message": f"VRRPv2 simple-password authentication differs: {r1} sends {fp1}, {r2} sends "
                f"{fp2}; each router discards the other's adverts (RFC 3768 §7.1), so both became master",
            },
        ],
    }


def main() -> None:
    """Write both fixtures next to this script."""
    for name, build in (("failover", failover), ("splitbrain", splitbrain)):
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
