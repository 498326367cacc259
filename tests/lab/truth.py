"""Ground truth from keepalived's own console log.

Every line the lab reads is stamped on arrival (see :mod:`tests.lab.keepalived`); this module turns
the lines into structured events. The wording matches keepalived 2.2.7 (``strings
/usr/sbin/keepalived``; PROTOCOL.md §4.5 lists the newer wording, which differs by ``from %s``).

Log files written beside the capture have one line per console line::

    <epoch seconds, 6 decimals> <keepalived's line, including its own whole-second stamp>
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .keepalived import LogLine

_I = r"\((?P<instance>[^)]+)\) "

#: (event kind, regex over the message without keepalived's own stamp). First match wins.
EVENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx))
    for kind, rx in (
        ("state", _I + r"Entering (?P<state>MASTER|BACKUP|FAULT) STATE(?: \((?P<reason>[^)]*)\))?"),
        ("frr_state", r"^\[CORE\] \[VRID (?P<vrid>\d+)\] \[(?P<fam>IPv[46])\] (?P<previous>\w+) -> (?P<to>\w+)$"),
        ("timeout", r"^\[CORE\] \[VRID (?P<vrid>\d+)\] \[(?P<fam>IPv[46])\] Master_Down_Timer expired"),
        ("resign", _I + r"sent 0 priority"),
        ("timeout", _I + r"Receive advertisement timeout"),
        ("auth_failure", _I + r"received an invalid passwd!"),
        ("auth_type_mismatch", _I + r"received a (?P<received>\d+) auth, expecting (?P<expected>\d+)!"),
        (
            "auth_type_mismatch",
            _I + r"(?:Received AH header but auth type not AH|No AH header but auth "
            r"type is AH)",
        ),
        ("auth_failure", _I + r"IPSEC-AH : invalid IPSEC HMAC-MD5 value"),
        (
            "interval_mismatch",
            _I + r"advertisement interval mismatch mine=(?P<mine>\d+) sec "
            r"rcv'd=(?P<received>\d+) sec",
        ),
        (
            "interval_updated",
            _I + r"advertisement interval updated from (?P<old_ms>\d+)ms to "
            r"(?P<new_ms>\d+)ms by master",
        ),
        ("version_mismatch", _I + r"wrong version\. Received (?P<received>\d+) and expect (?P<expected>\d+)"),
        (
            "vip_mismatch",
            _I + r"ip address associated with VRID (?P<vrid>\d+) not present in MASTER "
            r"advert: (?P<address>\S+)",
        ),
        (
            "vip_mismatch",
            _I + r"(?:expected (?P<expected>\d+) VIPs but received (?P<received>\d+)|"
            r"received an unexpected ip number count)",
        ),
        (
            "lower_priority_received",
            _I + r"Received advert from (?P<peer>\S+) with lower priority "
            r"(?P<priority>\d+), ours (?P<ours>\d+)",
        ),
        (
            "lower_priority_discarded",
            _I + r"received lower priority \((?P<priority>\d+)\) advert from "
            r"(?P<peer>\S+) - discarding",
        ),
        (
            "higher_priority_received",
            _I + r"Master received advert from (?P<peer>\S+) with higher priority "
            r"(?P<priority>\d+), ours (?P<ours>\d+)",
        ),
        (
            "same_priority_higher_ip",
            _I + r"Master received advert from (?P<peer>\S+) with same priority "
            r"(?P<priority>\d+) but higher IP address than ours",
        ),
        ("priority_zero_received", _I + r"Backup received priority 0 advertisement"),
        ("master_priority_zero_received", _I + r"Master received priority 0 message"),
        ("checksum_error", _I + r"Invalid VRRPv(?P<version>[23]) checksum"),
        ("ttl_error", _I + r"invalid TTL/HL"),
        ("owner_conflict", _I + r"CONFIGURATION ERROR"),
        ("removing_vips", _I + r"removing VIPs\."),
        ("setting_vips", _I + r"setting VIPs\."),
        ("garp", r"^Sending gratuitous ARP on (?P<interface>\S+) for (?P<address>\S+)"),
        (
            "unsolicited_na",
            r"^Sending unsolicited Neighbour Advert on (?P<interface>\S+) for (?P<address>\S+)",
        ),
        ("timer_expired", r"A thread timer expired (?P<seconds>[\d.]+) seconds ago"),
        ("child_started", r"Starting VRRP child process, pid=(?P<pid>\d+)"),
        ("child_died", r"VRRP child process\((?P<pid>\d+)\) died: (?P<action>\w+)"),
        ("unknown_vrid", r"Unknown VRID\((?P<vrid>\d+)\) received on interface\((?P<interface>[^)]+)\)"),
        ("starting", r"^Starting Keepalived v(?P<version>\S+)"),
        ("stopping", r"^Stopping$"),
        ("stopped", r"^Stopped"),
    )
)


@dataclass(frozen=True)
class LogEvent:
    """One recognised keepalived log line: ``kind`` from :data:`EVENT_PATTERNS`, groups in ``fields``."""

    time: float
    router: str
    kind: str
    instance: str | None
    fields: dict[str, str] = field(default_factory=dict)
    line: str = ""

    @property
    def state(self) -> str | None:
        """For ``state`` events: MASTER, BACKUP or FAULT."""
        return self.fields.get("state")

    def to_dict(self) -> dict[str, object]:
        """JSON description."""
        out: dict[str, object] = {"time": round(self.time, 6), "router": self.router, "kind": self.kind}
        if self.instance is not None:
            out["instance"] = self.instance
        out.update({k: v for k, v in self.fields.items() if v is not None and k != "instance"})
        out["line"] = self.line
        return out


#: FRR state names -> the lab's (keepalived's) state names.
FRR_STATES = {"Master": "MASTER", "Backup": "BACKUP", "Initialize": "INIT"}


def parse_line(line: LogLine) -> LogEvent | None:
    """The event for one log line, or None if the line is not one the lab tracks.

    FRR lines are normalised: instance ``VRID<n>_<IPv4|IPv6>`` (see :func:`tests.lab.frr.frr_instance`),
    ``Master -> Backup`` becomes a ``state`` event with state ``BACKUP``.
    """
    message = line.message
    for kind, rx in EVENT_PATTERNS:
        match = rx.search(message)
        if match:
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            instance = groups.pop("instance", None)
            if "fam" in groups:
                instance = f"VRID{groups.pop('vrid')}_{groups.pop('fam')}"
            if kind == "frr_state":
                kind = "state"
                groups["state"] = FRR_STATES.get(groups.pop("to"), groups.get("to", "").upper())
            return LogEvent(line.time, line.router, kind, instance, groups, message)
    return None


def parse_lines(lines: Iterable[LogLine]) -> list[LogEvent]:
    """Every recognised event, in time order."""
    events = [ev for ev in (parse_line(ln) for ln in lines) if ev is not None]
    return sorted(events, key=lambda ev: ev.time)


def transitions(events: Iterable[LogEvent]) -> list[LogEvent]:
    """Only the state transitions."""
    return [ev for ev in events if ev.kind == "state"]


def format_log(lines: Iterable[LogLine]) -> str:
    """The text of a router's ``rN.log``."""
    return "".join(f"{ln.time:.6f} {ln.text}\n" for ln in lines)


def read_log(path: Path, router: str) -> list[LogLine]:
    """Read an ``rN.log`` written by :func:`format_log` back into lines."""
    out = []
    for raw in path.read_text().splitlines():
        stamp, _, text = raw.partition(" ")
        out.append(LogLine(float(stamp), router, text))
    return out


#: Faults after which a router stops advertising although its log never says it left MASTER.
_SILENCING_FAULTS = {
    "crash": "crash",
    "sigterm": "resign",
    "kill_parent": "resign",
    "kill_child": "crash",
    "stall": "stall",
    "link_down": "link_down",
}


def mastership(
    transitions: Iterable[dict[str, object]], faults: Iterable[dict[str, object]], end: float
) -> list[dict[str, object]]:
    """Per router and instance, the periods keepalived's log (plus the injected faults) says it was master.

    A period opens at ``Entering MASTER STATE`` (or at ``resume`` of a router frozen while master) and
    closes at the next BACKUP/FAULT line, or at a fault that silences the router (``crash``,
    ``sigterm``, ``stall``, …), or at ``end`` (``capture_end``).
    """
    items: list[tuple[float, int, dict[str, object]]] = []
    for tr in transitions:
        items.append((float(tr["time"]), 0, dict(tr, _type="state")))  # type: ignore[arg-type]
    for f in faults:
        items.append((float(f["time"]), 1, dict(f, _type="fault")))  # type: ignore[arg-type]
    items.sort(key=lambda it: (it[0], it[1]))
    open_: dict[tuple[str, str], dict[str, object]] = {}
    stalled: dict[str, list[str]] = {}
    out: list[dict[str, object]] = []

    def close(key: tuple[str, str], at: float, reason: str) -> None:
        period = open_.pop(key)
        period["end"] = round(at, 6)
        period["end_reason"] = reason
        out.append(period)

    for at, _, item in items:
        router = str(item["router"])
        if item["_type"] == "state":
            key = (router, str(item["instance"]))
            if item["state"] == "MASTER":
                if key not in open_:
                    open_[key] = {
                        "router": router,
                        "instance": key[1],
                        "start": round(at, 6),
                        "start_reason": "log",
                    }
            elif key in open_:
                close(key, at, str(item["state"]).lower())
            continue
        kind = str(item["kind"])
        if kind in _SILENCING_FAULTS:
            mine = [k for k in open_ if k[0] == router]
            if kind == "stall":
                stalled[router] = [k[1] for k in mine]
            for key in mine:
                close(key, at, _SILENCING_FAULTS[kind])
        elif kind == "resume":
            for inst in stalled.pop(router, []):
                open_[(router, inst)] = {
                    "router": router,
                    "instance": inst,
                    "start": round(at, 6),
                    "start_reason": "resume",
                }
    for key in list(open_):
        close(key, end, "capture_end")
    return sorted(out, key=lambda p: (float(p["start"]), str(p["router"])))  # type: ignore[arg-type]
