"""Check a lab capture against keepalived's log with tshark as the decoder.

* :func:`read_adverts` — every VRRP advertisement on the wire (tshark; ICMP-quoted VRRP headers
  excluded, PROTOCOL.md item 9).
* :func:`read_announcements` — gratuitous ARPs and unsolicited neighbour advertisements.
* :func:`match_masters` — for each ``Entering MASTER STATE`` log line, the router's first advert on
  the wire for that VRID and family, and the log-minus-wire difference.
* :func:`wire_takeovers` — gap between the previous master's last advert and the new master's first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .netns import LabError
from .truth import LogEvent

#: VRRP display filter without the headers quoted inside ICMP errors.
ADVERT_FILTER = "vrrp && !icmp && !icmpv6"
#: How far before the log line the first advert may be (keepalived sends, then logs).
EARLY_S = 0.25
#: How far after the log line the first advert may be.
LATE_S = 3.0


def tshark_available() -> bool:
    """True if a tshark binary is on PATH."""
    return shutil.which("tshark") is not None


def tshark_fields(capture: Path, display_filter: str, fields: Sequence[str]) -> list[list[str]]:
    """Rows of ``tshark -T fields``: one list per packet, repeated values joined by ``,``."""
    argv = [
        "tshark",
        "-n",
        "-r",
        str(capture),
        "-Y",
        display_filter,
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]
    for name in fields:
        argv += ["-e", name]
    env = {**os.environ, "LC_ALL": "C"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    if proc.returncode != 0:
        raise LabError(f"tshark failed on {capture}: {proc.stderr.strip()}")
    rows = []
    for line in proc.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        rows.append(cols)
    return rows


def first_frame_time(capture: Path) -> float | None:
    """Epoch time of the capture's first frame (Wireshark's ``frame.time_relative`` origin)."""
    rows = tshark_fields(capture, "frame.number == 1", ["frame.time_epoch"])
    return float(rows[0][0]) if rows and rows[0][0] else None


@dataclass(frozen=True)
class WireAdvert:
    """One VRRP advertisement as tshark decodes it."""

    frame: int
    time: float
    src: str
    dst: str
    family: str
    version: int
    vrid: int
    priority: int
    src_mac: str
    ttl: int


def read_adverts(capture: Path) -> list[WireAdvert]:
    """Every VRRP advert in ``capture`` (Ethernet, VLAN, SLL or SLL2; pcap or pcapng)."""
    rows = tshark_fields(
        capture,
        ADVERT_FILTER,
        [
            "frame.number",
            "frame.time_epoch",
            "ip.src",
            "ipv6.src",
            "ip.dst",
            "ipv6.dst",
            "vrrp.version",
            "vrrp.virt_rtr_id",
            "vrrp.prio",
            "eth.src",
            "sll.src.eth",
            "ip.ttl",
            "ipv6.hlim",
        ],
    )
    out = []
    for r in rows:
        v4 = bool(r[2])
        out.append(
            WireAdvert(
                frame=int(r[0]),
                time=float(r[1]),
                src=r[2] if v4 else r[3],
                dst=r[4] if v4 else r[5],
                family="ipv4" if v4 else "ipv6",
                version=int(r[6]),
                vrid=int(r[7]),
                priority=int(r[8]),
                src_mac=(r[9] or r[10]).split(",")[0],
                ttl=int((r[11] if v4 else r[12]) or 0),
            )
        )
    return out


@dataclass(frozen=True)
class Announcement:
    """A gratuitous ARP (``arp``) or unsolicited neighbour advertisement (``na``) for an address."""

    frame: int
    time: float
    kind: str
    address: str
    mac: str


def read_announcements(capture: Path) -> list[Announcement]:
    """Gratuitous ARPs (sender IP == target IP) and NAs to ff02::1, in frame order."""
    out = []
    arp = tshark_fields(
        capture,
        "arp && arp.src.proto_ipv4 == arp.dst.proto_ipv4",
        ["frame.number", "frame.time_epoch", "arp.src.proto_ipv4", "arp.src.hw_mac"],
    )
    for r in arp:
        out.append(Announcement(int(r[0]), float(r[1]), "arp", r[2], r[3]))
    na = tshark_fields(
        capture,
        "icmpv6.type == 136 && ipv6.dst == ff02::1",
        ["frame.number", "frame.time_epoch", "icmpv6.nd.na.target_address", "icmpv6.opt.linkaddr"],
    )
    for r in na:
        out.append(Announcement(int(r[0]), float(r[1]), "na", r[2], r[3].split(",")[0]))
    return sorted(out, key=lambda a: a.frame)


@dataclass(frozen=True)
class MasterMatch:
    """A log MASTER transition and the router's first advert on the wire after it."""

    router: str
    instance: str
    vrid: int
    family: str
    log_time: float
    wire_time: float | None
    frame: int | None

    @property
    def delta_ms(self) -> float | None:
        """log − wire in milliseconds (positive: the log line arrived after the advert)."""
        if self.wire_time is None:
            return None
        return (self.log_time - self.wire_time) * 1000.0

    def to_dict(self) -> dict[str, object]:
        """JSON description."""
        return {
            "router": self.router,
            "instance": self.instance,
            "vrid": self.vrid,
            "family": self.family,
            "log_time": round(self.log_time, 6),
            "wire_time": None if self.wire_time is None else round(self.wire_time, 6),
            "frame": self.frame,
            "delta_ms": None if self.delta_ms is None else round(self.delta_ms, 3),
        }


def match_masters(
    events: Iterable[LogEvent],
    adverts: Sequence[WireAdvert],
    router_addresses: Mapping[str, Iterable[str]],
    instances: Mapping[tuple[str, str], tuple[int, str]],
) -> list[MasterMatch]:
    """Pair each MASTER transition with the router's first non-zero-priority advert after it.

    ``router_addresses``: router -> its source addresses. ``instances``: (router, instance name) ->
    (vrid, family). Adverts up to :data:`EARLY_S` before the log line count (keepalived sends first).
    """
    matches = []
    for ev in events:
        if ev.kind != "state" or ev.state != "MASTER" or ev.instance is None:
            continue
        vrid, family = instances[(ev.router, ev.instance)]
        addrs = set(router_addresses[ev.router])
        first = next(
            (
                a
                for a in adverts
                if a.src in addrs
                and a.vrid == vrid
                and a.family == family
                and a.priority > 0
                and ev.time - EARLY_S <= a.time <= ev.time + LATE_S
            ),
            None,
        )
        matches.append(
            MasterMatch(
                ev.router,
                ev.instance,
                vrid,
                family,
                ev.time,
                None if first is None else first.time,
                None if first is None else first.frame,
            )
        )
    return matches


@dataclass(frozen=True)
class WireTakeover:
    """A change of advertising router on the wire: previous sender's last advert -> new master's first."""

    vrid: int
    family: str
    old: str
    new: str
    last_old_time: float
    last_old_priority: int
    first_new_time: float

    @property
    def gap(self) -> float:
        """Seconds between the two adverts."""
        return self.first_new_time - self.last_old_time

    def to_dict(self) -> dict[str, object]:
        """JSON description."""
        return {
            "vrid": self.vrid,
            "family": self.family,
            "from": self.old,
            "to": self.new,
            "last_old": round(self.last_old_time, 6),
            "last_old_priority": self.last_old_priority,
            "first_new": round(self.first_new_time, 6),
            "gap": round(self.gap, 6),
        }


def wire_takeovers(
    matches: Iterable[MasterMatch],
    adverts: Sequence[WireAdvert],
    router_addresses: Mapping[str, Iterable[str]],
) -> list[WireTakeover]:
    """For each matched MASTER transition, the gap since the last advert of any *other* router."""
    owner = {addr: router for router, addrs in router_addresses.items() for addr in addrs}
    out = []
    for m in matches:
        if m.wire_time is None:
            continue
        before = [
            a
            for a in adverts
            if a.vrid == m.vrid
            and a.family == m.family
            and a.time < m.wire_time
            and owner.get(a.src, a.src) != m.router
        ]
        if not before:
            continue
        last = before[-1]
        out.append(
            WireTakeover(
                m.vrid,
                m.family,
                owner.get(last.src, last.src),
                m.router,
                last.time,
                last.priority,
                m.wire_time,
            )
        )
    return out


def skew_time(priority: int, advert_int: float, version: int) -> float:
    """RFC Skew_Time in seconds: v2 ``(256-p)/256``; v3 ``(256-p)*interval/256``."""
    if version == 2:
        return (256 - priority) / 256.0
    return (256 - priority) * advert_int / 256.0


def master_down_interval(priority: int, advert_int: float, version: int) -> float:
    """RFC Master_Down_Interval in seconds: ``3 * interval + Skew_Time``."""
    return 3 * advert_int + skew_time(priority, advert_int, version)
