"""Configuration versus capture: what ``vrrpscope analyze --config FILE ...`` adds to an analysis.

Each ``--config`` file is one node's keepalived.conf (read by :mod:`vrrpscope.config.parser`, so
includes, defaults and keepalived 2.2.7's derived values apply). The comparison works on the
analysis JSON (:meth:`vrrpscope.analysis.Analysis.to_dict`), so it runs on a fresh analysis or on a
saved ``--format json`` output alike.

Matching, per configured instance (one node file, one ``vrrp_instance`` with a VRID):

1. **Wire group.** Groups with the instance's VRID and address family, on a segment compatible with
   its ``interface``: capture segments are named ``if0``, ``ifindex3``, ``eth0``, ``eth0/vlan30``
   (:func:`vrrpscope.pipeline.segment_name`), so the interface name is used only when the segment
   carries a real one, and a VLAN id is used when both sides imply one (``eth0.30`` or ``vlan30`` is
   VLAN 30; a segment tagged 20 is then another group, never this one). Among those, the groups
   whose routers advertise one of the instance's virtual addresses (or one of the node's own
   addresses sends there) are its groups. None: ``config_vrid_absent``.
2. **The node's router** in that group, in decreasing order of certainty: an advert source address
   that the node's configuration names (``unicast_src_ip`` of any instance, ``static_ipaddress``,
   an IP-address ``router_id``); for unicast instances the address the *other* nodes list as
   ``unicast_peer`` that this node does not list, or the router whose destinations are exactly its
   peers; else the only router advertising its healthy priority; else the only one advertising a
   priority its track weights explain; else, when the other configured nodes of the group have been
   identified, the only router left (``elimination``). A silent backup is normal and is not
   reported; an instance left unidentified while an unidentified router with its addresses
   advertises gives ``config_router_unidentified`` (info).

Comparisons for an identified router, each one finding naming instance, node, file:line and the
numbers: ``priority_differs`` (with keepalived's tracking arithmetic: every ``track_script`` /
``track_interface`` with a non-zero weight contributes either 0 or its weight, positive weights when
up and negative ones when down, the other way round with ``reverse``; the effective priority is
clamped to 1..254; an address owner, priority 255, ignores weights; members of a
``vrrp_sync_group`` have their weights zeroed unless ``sync_group_tracking_weight``; a
``track_script`` whose ``vrrp_script`` block comes *after* the instance is ignored, as keepalived
2.2.7 does: "track script NAME not found, ignoring..."),
``advert_int_differs``, ``version_differs``, ``vips_differ``, ``auth_differs`` (type, and for
PASS the fingerprint of the password truncated to 8 bytes, computed exactly as the dissector
fingerprints the wire; authentication is only effective for VRRPv2 outside strict mode),
``unicast_differs`` (configured ``unicast_peer`` set and ``unicast_src_ip`` against the observed
destinations and source; multicast group otherwise), ``vmac_differs`` (``use_vmac`` without
``vmac_xmit_base`` means adverts from 00:00:5e:00:01:VRID, 00:00:5e:00:02:VRID for IPv6).

Traffic no configuration explains is ``unknown_group``: a VRID that no given configuration uses
(info: someone else on the segment), or a router advertising a configured VRID with none of the
configured virtual addresses (warning: the classic VRID collision with another cluster).

Severities: a running node that differs from its file is a ``warning``; ``config_vrid_absent`` is a
``warning`` when the capture has VRRP traffic from a compatible segment, else ``info`` (the capture
did not cover that interface); missing unicast destinations alone are ``info`` (a capture point on
a switch sees only the adverts sent to it).
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vrrpscope.config.model import KeepalivedConfig, Location, Statement, VrrpInstance
from vrrpscope.findings import ExitStatus, Finding, Severity, exit_status_for

#: Finding kinds this module emits (stable snake_case ids).
KINDS = (
    "config_vrid_absent",
    "config_router_unidentified",
    "priority_differs",
    "advert_int_differs",
    "version_differs",
    "vips_differ",
    "auth_differs",
    "unicast_differs",
    "vmac_differs",
    "unknown_group",
)

#: keepalived's default IPv4 / IPv6 advertisement groups (RFC 3768 §5.2.2, RFC 5798 §5.1.2.2).
DEFAULT_MCAST = {"ipv4": "224.0.0.18", "ipv6": "ff02::12"}
#: Priority of the address owner: keepalived ignores tracking weights for it.
PRIORITY_OWNER = 255
#: Bounds of a non-owner effective priority after tracking weights (keepalived clamps to these).
PRIORITY_MIN, PRIORITY_MAX = 1, 254
#: Up to this many weighted trackers, every up/down combination is enumerated (to name the culprits).
MAX_ENUMERATED_TRACKERS = 12
#: At most this many alternative explanations are named for one priority value.
MAX_EXPLANATIONS = 3
#: Tracking keywords whose weights are not modelled here (mentioned when a priority is unexplained).
UNMODELLED_TRACKERS = ("track_file", "track_process", "track_bfd", "track_group")

_GENERIC_SEGMENT = re.compile(r"^(if\d+|ifindex\d+|any)$")
_DOT_VLAN = re.compile(r"\.(\d+)$")
_VLAN_NAME = re.compile(r"^vlan(\d+)$")


class ConfigError(ValueError):
    """A configuration file given with ``--config`` could not be read (the CLI exits 3)."""


# --------------------------------------------------------------------------------------------------
# the finding record


@dataclass(frozen=True)
class ConfigFinding:
    """One configuration-versus-capture conclusion.

    Group fields, ``start``/``end`` (capture clock, epoch seconds), ``routers`` and ``frames`` (as
    cited in the analysis JSON: ints, or ``{"file","frame"}`` with several inputs) have the meaning
    of :class:`vrrpscope.findings.Finding`. ``locations`` are the configuration lines concerned,
    the first one is the main one (``file``/``line`` in JSON). ``node``/``instance`` name the
    configured instance (``None`` for traffic that no configuration claims).
    """

    kind: str
    severity: Severity
    segment: str | None
    family: str | None
    vrid: int | None
    start: float | None
    end: float | None
    routers: tuple[str, ...]
    frames: tuple[Any, ...]
    message: str
    locations: tuple[Location, ...] = ()
    node: str | None = None
    instance: str | None = None
    subject: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: analyze's finding keys plus ``file``, ``line``, ``locations``, ``node``,
        ``instance``."""
        first = self.locations[0] if self.locations else None
        return {
            "kind": self.kind,
            "severity": self.severity.label,
            "segment": self.segment,
            "family": self.family,
            "vrid": self.vrid,
            "start": self.start,
            "end": self.end,
            "routers": list(self.routers),
            "frames": list(self.frames),
            "frame_count": len(self.frames),
            "message": self.message,
            "subject": self.subject,
            "details": dict(self.details),
            "file": first.file if first else None,
            "line": first.line if first else None,
            "locations": [loc.to_dict() for loc in self.locations],
            "node": self.node,
            "instance": self.instance,
        }


# --------------------------------------------------------------------------------------------------
# what keepalived would advertise: priorities under tracking


@dataclass(frozen=True)
class Tracker:
    """A weighted tracked object of an instance: ``track_script`` or ``track_interface``.

    ``weight`` is the effective one (a ``track_script`` line without weight takes the
    ``vrrp_script``'s). Its contribution to the priority is ``weight`` or 0: positive weights count
    while the object is up, negative ones while it is down; ``reverse`` swaps the two.
    """

    kind: str
    name: str
    weight: int
    reverse: bool
    location: Location

    @property
    def up_delta(self) -> int:
        """Contribution while the tracked object is up (healthy)."""
        if self.reverse:
            return min(self.weight, 0)
        return max(self.weight, 0)

    @property
    def down_delta(self) -> int:
        """Contribution while the tracked object is down (failing)."""
        if self.reverse:
            return max(self.weight, 0)
        return min(self.weight, 0)

    def describe(self) -> str:
        """``-10, track_script chk_nginx``, or ``+20 lost, track_interface eth1`` for a positive weight."""
        if self.down_delta != 0:
            return f"{self.down_delta:+d}, {self.kind} {self.name}"
        return f"{self.up_delta:+d} lost, {self.kind} {self.name}"


@dataclass(frozen=True)
class PriorityModel:
    """The priorities an instance can advertise, per keepalived's tracking arithmetic.

    ``healthy`` is the priority with every tracked object up; ``explained`` maps each reachable
    priority to up to :data:`MAX_EXPLANATIONS` sets of trackers whose failure gives it (smallest
    first; an empty tuple of sets when the trackers are too many to enumerate). ``unmodelled``
    lists tracking keywords present whose weights are not modelled; ``ignored_scripts`` the
    ``track_script`` names keepalived ignores because their ``vrrp_script`` is defined after the
    instance.
    """

    configured: int
    healthy: int
    explained: Mapping[int, tuple[tuple[Tracker, ...], ...]]
    trackers: tuple[Tracker, ...]
    owner: bool = False
    zeroed_by_sync_group: str | None = None
    unmodelled: tuple[str, ...] = ()
    ignored_scripts: tuple[str, ...] = ()

    def explains(self, priority: int) -> bool:
        """True when some combination of tracked objects gives ``priority``."""
        return priority in self.explained

    @property
    def possible(self) -> list[int]:
        """Every reachable priority, descending."""
        return sorted(self.explained, reverse=True)


def _walk(statements: Iterable[Statement]) -> Iterable[Statement]:
    for st in statements:
        yield st
        if st.children:
            yield from _walk(st.children)


def _block(cfg: KeepalivedConfig, keyword: str, name: str) -> Statement | None:
    for st in _walk(cfg.statements):
        if st.keyword == keyword and st.args and st.args[0] == name and st.children is not None:
            return st
    return None


def _reading_order(cfg: KeepalivedConfig) -> dict[tuple[str, str], int]:
    """Position of each named top-level block in reading order (includes are read in place)."""
    out: dict[tuple[str, str], int] = {}
    for i, st in enumerate(_walk(cfg.statements)):
        if st.keyword in ("vrrp_instance", "vrrp_script") and st.args and st.children is not None:
            out.setdefault((st.keyword, st.args[0]), i)
    return out


def _clamp(p: int) -> int:
    return min(PRIORITY_MAX, max(PRIORITY_MIN, p))


def priority_model(inst: VrrpInstance, cfg: KeepalivedConfig) -> PriorityModel:
    """What priorities ``inst`` of node ``cfg`` can advertise, and which tracker failures give each."""
    scripts = {s.name: s for s in cfg.scripts}
    order = _reading_order(cfg)
    here = order.get(("vrrp_instance", inst.name))
    trackers: list[Tracker] = []
    ignored: list[str] = []
    for t in inst.track_scripts:
        script = scripts.get(t.name)
        if script is None:
            continue  # keepalived ignores a track_script naming no vrrp_script
        defined = order.get(("vrrp_script", t.name))
        if here is not None and defined is not None and defined > here:
            # keepalived 2.2.7 resolves the name while reading the instance: "track script NAME not
            # found, ignoring..." when the vrrp_script block comes later (checked in the lab test)
            ignored.append(t.name)
            continue
        weight = t.weight if t.weight is not None else (script.weight or 0)
        trackers.append(Tracker("track_script", t.name, weight, t.reverse, t.location))
    for t in inst.track_interfaces:
        trackers.append(Tracker("track_interface", t.name, t.weight or 0, t.reverse, t.location))
    zeroed: str | None = None
    for sg in cfg.sync_groups:
        if inst.name in sg.instances:
            st = _block(cfg, "vrrp_sync_group", sg.name)
            keeps = st is not None and any(c.keyword == "sync_group_tracking_weight" for c in st.children or ())
            if not keeps:
                zeroed = sg.name
    unmodelled: list[str] = []
    st = _block(cfg, "vrrp_instance", inst.name)
    if st is not None:
        unmodelled = sorted({c.keyword for c in st.children or () if c.keyword in UNMODELLED_TRACKERS})
    base = inst.priority
    if base >= PRIORITY_OWNER:
        return PriorityModel(
            base,
            base,
            {base: ((),)},
            tuple(trackers),
            owner=True,
            unmodelled=tuple(unmodelled),
            ignored_scripts=tuple(ignored),
        )
    weighted = [] if zeroed else [t for t in trackers if t.weight != 0]
    healthy = _clamp(base + sum(t.up_delta for t in weighted))
    explained: dict[int, list[tuple[Tracker, ...]]] = {}
    if len(weighted) <= MAX_ENUMERATED_TRACKERS:
        for size in range(len(weighted) + 1):
            for down in itertools.combinations(weighted, size):
                total = sum(t.down_delta if t in down else t.up_delta for t in weighted)
                ways = explained.setdefault(_clamp(base + total), [])
                if len(ways) < MAX_EXPLANATIONS:
                    ways.append(down)
    else:
        sums = {0}
        for w in weighted:
            sums = {s + d for s in sums for d in (w.up_delta, w.down_delta)}
        for s in sums:
            explained.setdefault(_clamp(base + s), [])
    return PriorityModel(
        configured=base,
        healthy=healthy,
        explained={p: tuple(ways) for p, ways in explained.items()},
        trackers=tuple(trackers),
        zeroed_by_sync_group=zeroed,
        unmodelled=tuple(unmodelled),
        ignored_scripts=tuple(ignored),
    )


# --------------------------------------------------------------------------------------------------
# the wire side, read from the analysis JSON


def _norm_ip(text: Any) -> str:
    try:
        return str(ipaddress.ip_address(str(text)))
    except ValueError:
        return str(text).lower()


def _num(x: Any) -> float | None:
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


@dataclass
class _Router:
    ip: str
    macs: list[str]
    priorities: list[int]
    advert_ints: list[float]
    versions: list[int]
    auths: list[tuple[str, str | None, int]]
    vip_sets: list[frozenset[str]]
    destinations: list[str]
    first_seen: float | None
    last_seen: float | None
    first_frame: Any
    last_frame: Any
    adverts: int

    @property
    def vips(self) -> frozenset[str]:
        out: set[str] = set()
        for s in self.vip_sets:
            out |= s
        return frozenset(out)

    @classmethod
    def from_dict(cls, r: Mapping[str, Any]) -> _Router:
        vip_sets = [frozenset(_norm_ip(v) for v in s) for s in r.get("vip_sets") or []]
        if not vip_sets and r.get("vips"):
            vip_sets = [frozenset(_norm_ip(v) for v in r["vips"])]
        macs = [str(m).lower() for m in r.get("macs") or []]
        if not macs and r.get("mac"):
            macs = [str(r["mac"]).lower()]
        auths: list[tuple[str, str | None, int]] = []
        for a in r.get("auths") or []:
            auths.append((str(a.get("type") or "none"), a.get("fingerprint"), int(a.get("count") or 0)))
        if not auths and isinstance(r.get("auth"), Mapping):
            a = r["auth"]
            auths.append((str(a.get("type") or "none"), a.get("fingerprint"), int(r.get("adverts") or 0)))
        advert_ints = [float(x) for x in r.get("advert_ints") or [] if _num(x) is not None]
        if not advert_ints and _num(r.get("advert_int")):
            advert_ints = [float(r["advert_int"])]
        return cls(
            ip=_norm_ip(r.get("ip")),
            macs=macs,
            priorities=[int(p) for p in r.get("priorities") or [] if isinstance(p, int)],
            advert_ints=advert_ints,
            versions=[int(v) for v in r.get("versions") or [] if isinstance(v, int)],
            auths=auths,
            vip_sets=vip_sets,
            destinations=[_norm_ip(d) for d in r.get("destinations") or []],
            first_seen=_num(r.get("first_seen")),
            last_seen=_num(r.get("last_seen")),
            first_frame=r.get("first_frame"),
            last_frame=r.get("last_frame"),
            adverts=int(r.get("adverts") or 0),
        )


@dataclass
class _Group:
    segment: str
    family: str
    vrid: int
    routers: list[_Router]
    priority_changes: list[Mapping[str, Any]]

    @property
    def vips(self) -> frozenset[str]:
        out: set[str] = set()
        for r in self.routers:
            out |= r.vips
        return frozenset(out)

    @property
    def label(self) -> str:
        return f"VRID {self.vrid} ({_fam(self.family)}) on {self.segment}"

    @classmethod
    def from_dict(cls, g: Mapping[str, Any]) -> _Group:
        return cls(
            segment=str(g.get("segment") or ""),
            family=str(g.get("family") or ""),
            vrid=int(g.get("vrid") or 0),
            routers=[_Router.from_dict(r) for r in g.get("routers") or []],
            priority_changes=[pc for pc in g.get("priority_changes") or [] if isinstance(pc, Mapping)],
        )

    def key(self) -> tuple[str, str, int]:
        return (self.segment, self.family, self.vrid)


@dataclass
class _Stint:
    priority: int
    start: float | None
    end: float | None
    frame: Any


def _priority_stints(g: _Group, r: _Router) -> list[_Stint]:
    """The router's advertised non-zero priority over time (from the group's priority changes)."""
    if not r.priorities:
        return []
    changes = sorted(
        (pc for pc in g.priority_changes if _norm_ip(pc.get("router")) == r.ip and _num(pc.get("time")) is not None),
        key=lambda pc: float(pc["time"]),
    )
    first = int(changes[0]["old"]) if changes and isinstance(changes[0].get("old"), int) else r.priorities[0]
    stints = [_Stint(first, r.first_seen, None, r.first_frame)]
    for pc in changes:
        t = float(pc["time"])
        stints[-1].end = t
        stints.append(_Stint(int(pc.get("priority") or 0), t, None, pc.get("frame")))
    stints[-1].end = r.last_seen
    # changes lost to the history cap: keep the distinct priorities at least
    seen = {s.priority for s in stints}
    for p in r.priorities:
        if p not in seen:
            stints.append(_Stint(p, r.first_seen, r.last_seen, r.first_frame))
    return stints


# --------------------------------------------------------------------------------------------------
# matching configuration to wire


def _iface_vlan(name: str | None) -> int | None:
    if not name:
        return None
    m = _DOT_VLAN.search(name) or _VLAN_NAME.match(name)
    return int(m.group(1)) if m else None


def segment_rank(segment: str, interface: str | None) -> int | None:
    """How well a capture segment fits an instance's ``interface``.

    ``None``: incompatible (both imply VLAN ids and they differ); 2: the segment names the
    interface or its VLAN; 1: the segment carries no interface name (``if0``, ``ifindex3``,
    ``any``) or the instance names no interface; 0: another real interface name (a capture taken on
    another host may still see the same LAN).
    """
    base, _, tags = segment.partition("/vlan")
    seg_vlan: int | None = None
    if tags:
        last = tags.split(".")[-1]
        seg_vlan = int(last) if last.isdigit() else None
    else:
        seg_vlan = _iface_vlan(base)
    if interface is None:
        return 1
    iface_vlan = _iface_vlan(interface)
    if seg_vlan is not None and iface_vlan is not None and seg_vlan != iface_vlan:
        return None
    if base == interface or (seg_vlan is not None and iface_vlan == seg_vlan):
        return 2
    if _GENERIC_SEGMENT.match(base):
        return 1
    return 0


@dataclass
class _Inst:
    cfg: KeepalivedConfig
    inst: VrrpInstance
    vips: frozenset[str]
    own: frozenset[str]
    model: PriorityModel

    @property
    def node(self) -> str:
        return self.inst.node

    def where(self, keyword: str, loc: Location | None = None) -> str:
        """``instance NAME on NODE (file:line)`` with the line of ``keyword`` (or ``loc``)."""
        loc = loc or self.inst.at(keyword)
        return f"instance {self.inst.name} on {self.inst.node} ({os.path.basename(loc.file)}:{loc.line})"


def _own_addresses(cfg: KeepalivedConfig) -> frozenset[str]:
    out: set[str] = set()
    for i in cfg.instances:
        if i.unicast_src_ip is not None:
            out.add(str(i.unicast_src_ip))
    for a in cfg.static_addresses:
        out.add(str(a.ip))
    rid = cfg.global_defs.router_id
    if rid:
        try:
            out.add(str(ipaddress.ip_address(rid)))
        except ValueError:
            pass
    return frozenset(out)


@dataclass(frozen=True)
class InstanceMatch:
    """One configured instance against one wire group: which router is the node's, and how it was told.

    ``router`` is ``None`` when the node could not be identified (a silent backup, usually).
    ``method`` is ``address``, ``unicast_src_ip``, ``unicast_peers``, ``destinations``,
    ``priority``, ``track_weights`` or ``elimination``.
    """

    node: str
    instance: str
    segment: str
    family: str
    vrid: int
    router: str | None
    method: str | None


@dataclass
class _Matching:
    insts: list[_Inst]
    groups: list[_Group]
    #: per instance index: the groups it is matched to (indexes)
    matched: dict[int, list[int]]
    #: per instance index: any VRRP on a compatible segment at all
    compatible_traffic: dict[int, bool]
    #: per group index: instance index -> (router, method)
    identified: dict[int, dict[int, tuple[_Router, str]]]


def _overlaps(i: _Inst, r: _Router) -> bool:
    return not i.vips or not r.vips or bool(i.vips & r.vips)


def _match(data: Mapping[str, Any], configs: Sequence[KeepalivedConfig]) -> _Matching:
    groups = [_Group.from_dict(g) for g in data.get("groups") or [] if isinstance(g, Mapping)]
    insts: list[_Inst] = []
    for cfg in configs:
        own = _own_addresses(cfg)
        for inst in cfg.instances:
            if inst.vrid is None:
                continue
            vips = frozenset(str(v) for v in inst.vip_ips)
            insts.append(_Inst(cfg, inst, vips, own, priority_model(inst, cfg)))
    matched: dict[int, list[int]] = {}
    compatible: dict[int, bool] = {}
    for ii, it in enumerate(insts):
        ranked: list[tuple[int, int]] = []
        any_compatible = False
        for gi, g in enumerate(groups):
            rank = segment_rank(g.segment, it.inst.interface)
            if rank is None or g.family != it.inst.family:
                continue
            any_compatible = True
            if g.vrid != it.inst.vrid:
                continue
            if any(_overlaps(it, r) and (r.vips or not it.vips) for r in g.routers) or any(
                r.ip in it.own for r in g.routers
            ):
                ranked.append((rank, gi))
        best = max((rk for rk, _ in ranked), default=None)
        matched[ii] = [gi for rk, gi in ranked if rk == best]
        compatible[ii] = any_compatible
    identified: dict[int, dict[int, tuple[_Router, str]]] = {}
    for gi, g in enumerate(groups):
        members = [ii for ii, gis in matched.items() if gi in gis]
        identified[gi] = _identify(g, [(ii, insts[ii]) for ii in members])
    return _Matching(insts, groups, matched, compatible, identified)


def _identify(g: _Group, members: list[tuple[int, _Inst]]) -> dict[int, tuple[_Router, str]]:
    """Which router of ``g`` is each member instance's node (see the module doc for the order)."""
    out: dict[int, tuple[_Router, str]] = {}
    taken: set[str] = set()

    def assign(ii: int, r: _Router, method: str) -> None:
        out[ii] = (r, method)
        taken.add(r.ip)

    # 1. an address the node's own configuration names
    for ii, it in members:
        hits = [r for r in g.routers if r.ip in it.own and r.ip not in taken]
        if len(hits) == 1:
            src = it.inst.unicast_src_ip
            assign(ii, hits[0], "unicast_src_ip" if src is not None and str(src) == hits[0].ip else "address")
    # 2. unicast: the address the other nodes send to, or destinations equal to its peers
    for ii, it in members:
        if ii in out or not it.inst.unicast_peers:
            continue
        mine = {str(p.address) for p in it.inst.unicast_peers}
        theirs: set[str] = set()
        for jj, other in members:
            if jj != ii and other.node != it.node:
                theirs |= {str(p.address) for p in other.inst.unicast_peers}
        derived = theirs - mine
        hits = [r for r in g.routers if r.ip in derived and r.ip not in taken]
        if len(hits) == 1:
            assign(ii, hits[0], "unicast_peers")
            continue
        hits = [r for r in g.routers if r.ip not in taken and r.destinations and set(r.destinations) == mine]
        if len(hits) == 1:
            assign(ii, hits[0], "destinations")

    # 3./4. the only router advertising its healthy priority, then one its track weights explain
    def by_priority(method: str) -> None:
        changed = True
        while changed:
            changed = False
            cands: dict[int, list[_Router]] = {}
            for ii, it in members:
                if ii in out:
                    continue
                rs = [r for r in g.routers if r.ip not in taken and _overlaps(it, r) and r.vips]
                if method == "priority":
                    rs = [r for r in rs if it.model.healthy in r.priorities or it.model.configured in r.priorities]
                else:
                    rs = [r for r in rs if any(it.model.explains(p) for p in r.priorities)]
                cands[ii] = rs
            for ii, rs in cands.items():
                if len(rs) != 1 or rs[0].ip in taken:
                    continue
                if sum(1 for other in cands.values() if any(r.ip == rs[0].ip for r in other)) == 1:
                    assign(ii, rs[0], method)
                    changed = True

    by_priority("priority")
    by_priority("track_weights")
    # 5. elimination, only when the other configured nodes of this group were identified
    left = [ii for ii, _ in members if ii not in out]
    if len(left) == 1 and out:
        it = dict(members)[left[0]]
        rs = [r for r in g.routers if r.ip not in taken and r.vips and _overlaps(it, r)]
        if len(rs) == 1:
            assign(left[0], rs[0], "elimination")
    return out


def match_instances(data: Mapping[str, Any], configs: Sequence[KeepalivedConfig]) -> list[InstanceMatch]:
    """Every (configured instance, matched wire group) pair with the node's router, if identified."""
    m = _match(data, configs)
    out: list[InstanceMatch] = []
    for ii, it in enumerate(m.insts):
        for gi in m.matched[ii]:
            g = m.groups[gi]
            hit = m.identified[gi].get(ii)
            out.append(
                InstanceMatch(
                    node=it.node,
                    instance=it.inst.name,
                    segment=g.segment,
                    family=g.family,
                    vrid=g.vrid,
                    router=hit[0].ip if hit else None,
                    method=hit[1] if hit else None,
                )
            )
    return out


# --------------------------------------------------------------------------------------------------
# wording helpers


def _fam(family: str | None) -> str:
    return "IPv6" if family == "ipv6" else "IPv4"


def _clock(t: float | None) -> str:
    if t is None:
        return "?"
    return time.strftime("%H:%M:%S", time.gmtime(int(t)))


def _ip_key(ip: str) -> tuple[int, int, str]:
    try:
        a = ipaddress.ip_address(ip)
        return (a.version, int(a), "")
    except ValueError:
        return (9, 0, ip)


def _addrs(ips: Iterable[str]) -> str:
    items = sorted(set(ips), key=_ip_key)
    return ", ".join(items) if items else "none"


def _secs(x: float) -> str:
    return f"{x:g} s"


def _frames(*refs: Any) -> tuple[Any, ...]:
    out: list[Any] = []
    for ref in refs:
        if ref is not None and ref not in out:
            out.append(ref)
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# the comparisons


class _Emitter:
    def __init__(self) -> None:
        self.findings: list[ConfigFinding] = []

    def add(
        self,
        kind: str,
        severity: Severity,
        it: _Inst | None,
        g: _Group | None,
        message: str,
        *,
        keywords: Sequence[str] = (),
        locations: Sequence[Location] = (),
        routers: Sequence[str] = (),
        frames: Sequence[Any] = (),
        start: float | None = None,
        end: float | None = None,
        subject: str = "",
        details: dict[str, Any] | None = None,
        segment: str | None = None,
        family: str | None = None,
        vrid: int | None = None,
    ) -> None:
        locs = list(locations)
        if it is not None:
            locs = [it.inst.at(k) for k in keywords] + locs
            if not locs:
                locs = [it.inst.location]
        self.findings.append(
            ConfigFinding(
                kind=kind,
                severity=severity,
                segment=g.segment if g is not None else segment,
                family=g.family if g is not None else family,
                vrid=g.vrid if g is not None else vrid,
                start=start,
                end=end,
                routers=tuple(routers),
                frames=_frames(*frames),
                message=message,
                locations=tuple(dict.fromkeys(locs)),
                node=it.node if it is not None else None,
                instance=it.inst.name if it is not None else None,
                subject=subject or (f"{it.node}/{it.inst.name}" if it is not None else ""),
                details=details or {},
            )
        )


def _check_priority(em: _Emitter, it: _Inst, g: _Group, r: _Router, method: str) -> None:
    model = it.model
    where = it.where("priority")
    configured = f"priority {model.configured}"
    if model.healthy != model.configured:
        configured += f" ({model.healthy} with its tracked objects up)"
    for p in sorted({s.priority for s in _priority_stints(g, r)}, reverse=True):
        if p == model.healthy:
            continue
        stints = [s for s in _priority_stints(g, r) if s.priority == p]
        start = min((s.start for s in stints if s.start is not None), default=None)
        end = max((s.end for s in stints if s.end is not None), default=None)
        first = min(stints, key=lambda s: s.start if s.start is not None else math.inf)
        ongoing = end is not None and r.last_seen is not None and end >= r.last_seen
        when = f"since {_clock(start)}" if ongoing else f"from {_clock(start)} to {_clock(end)}"
        verb = "advertises" if ongoing else "advertised"
        head = f"{where} is configured with {configured} but {r.ip} {verb} {p} {when}"
        details: dict[str, Any] = {
            "configured": model.configured,
            "healthy": model.healthy,
            "advertised": p,
            "router": r.ip,
            "identified_by": method,
        }
        locations: list[Location] = []
        ways = model.explained.get(p)
        if ways:
            down = ways[0]
            text = "; ".join(t.describe() for t in down)
            if len(down) == 1:
                cause = f"a tracked script or interface weight ({text}) is probably down"
            else:
                cause = f"tracked scripts or interfaces ({text}) are probably down"
            if len(ways) > 1:
                alts = " or ".join("(" + "; ".join(t.describe() for t in w) + ")" for w in ways[1:])
                cause += f" (or {alts})"
            message = f"{head}: {cause}"
            details["down"] = [{"kind": t.kind, "name": t.name, "weight": t.weight} for t in down]
            locations = [t.location for t in down]
            details["explained"] = True
        elif ways is not None:
            message = f"{head}: some of its {len(model.trackers)} tracked objects are probably down"
            details["explained"] = True
        else:
            possible = ", ".join(str(x) for x in model.possible[:8])
            if model.owner:
                why = "an address owner (255) ignores tracking weights"
            elif model.zeroed_by_sync_group:
                why = f"its tracking weights are zeroed by vrrp_sync_group {model.zeroed_by_sync_group}"
            elif any(t.weight for t in model.trackers):
                why = f"no combination of its track weights gives it (possible: {possible})"
            else:
                why = "it tracks nothing with a weight that could change it"
            extra = ""
            if model.ignored_scripts:
                names = ", ".join(model.ignored_scripts)
                extra += f"; keepalived ignores track_script {names}: its vrrp_script is defined after the instance"
            if model.unmodelled:
                extra += f"; its {', '.join(model.unmodelled)} weights are not evaluated here"
            message = f"{head}, and {why}{extra}: the running configuration differs from this file"
            details["explained"] = False
            details["possible"] = model.possible
        em.add(
            "priority_differs",
            Severity.WARNING,
            it,
            g,
            message,
            keywords=("priority",),
            locations=locations,
            routers=(r.ip,),
            frames=(first.frame,),
            start=start,
            end=end,
            subject=f"{it.node}/{it.inst.name}/{p}",
            details=details,
        )


def _check_interval(em: _Emitter, it: _Inst, g: _Group, r: _Router) -> None:
    want = it.inst.advert_int_cs
    other = [x for x in r.advert_ints if round(x * 100) != want]
    if not other:
        return
    configured = it.inst.configured_advert_int
    if configured is None:
        conf = f"the default advert_int ({_secs(it.inst.advert_int)})"
    elif float(configured) != it.inst.advert_int:
        conf = f"advert_int {configured} (keepalived runs {_secs(it.inst.advert_int)})"
    else:
        conf = f"advert_int {configured}"
    seen = ", ".join(_secs(x) for x in r.advert_ints)
    consequence = ""
    if it.inst.version == 2:
        consequence = "; VRRPv2 keepalived peers discard adverts whose interval differs from theirs"
    em.add(
        "advert_int_differs",
        Severity.WARNING,
        it,
        g,
        f"{it.where('advert_int')} is configured with {conf} but {r.ip} advertises {seen}{consequence}",
        keywords=("advert_int",),
        routers=(r.ip,),
        frames=(r.first_frame,),
        start=r.first_seen,
        end=r.last_seen,
        details={"configured": it.inst.advert_int, "advertised": r.advert_ints, "router": r.ip},
    )


def _check_version(em: _Emitter, it: _Inst, g: _Group, r: _Router) -> None:
    other = [v for v in r.versions if v != it.inst.version]
    if not other:
        return
    if it.inst.configured_version is None:
        how = f"runs VRRPv{it.inst.version} (no version keyword)"
    elif it.inst.configured_version != it.inst.version:
        how = f"is configured with version {it.inst.configured_version} (keepalived runs VRRPv{it.inst.version})"
    else:
        how = f"is configured with version {it.inst.version}"
    seen = "/".join(f"VRRPv{v}" for v in r.versions)
    em.add(
        "version_differs",
        Severity.WARNING,
        it,
        g,
        f"{it.where('version')} {how} but {r.ip} advertises {seen}",
        keywords=("version",),
        routers=(r.ip,),
        frames=(r.first_frame,),
        start=r.first_seen,
        end=r.last_seen,
        details={"configured": it.inst.version, "advertised": r.versions, "router": r.ip},
    )


def _check_vips(em: _Emitter, it: _Inst, g: _Group, r: _Router) -> None:
    if not it.vips:
        return
    wrong = [s for s in r.vip_sets if s != it.vips]
    if not wrong:
        return
    seen = frozenset().union(*wrong)
    missing = it.vips - seen
    extra = seen - it.vips
    parts = []
    if missing:
        parts.append(f"without {_addrs(missing)}")
    if extra:
        parts.append(f"with {_addrs(extra)} that the file does not have")
    sets = " / ".join("{" + _addrs(s) + "}" for s in wrong)
    em.add(
        "vips_differ",
        Severity.WARNING,
        it,
        g,
        f"{it.where('virtual_ipaddress')} configures virtual_ipaddress {{{_addrs(it.vips)}}} but {r.ip} "
        f"advertises {sets} ({', '.join(parts)}); keepalived peers that check advert addresses discard "
        "such adverts",
        keywords=("virtual_ipaddress",),
        routers=(r.ip,),
        frames=(r.first_frame,),
        start=r.first_seen,
        end=r.last_seen,
        details={
            "configured": sorted(it.vips, key=_ip_key),
            "advertised": [sorted(s, key=_ip_key) for s in wrong],
            "missing": sorted(missing, key=_ip_key),
            "extra": sorted(extra, key=_ip_key),
            "router": r.ip,
        },
    )


def _check_auth(em: _Emitter, it: _Inst, g: _Group, r: _Router) -> None:
    inst = it.inst
    auth = inst.auth
    if inst.auth_effective and auth is not None:
        want_type = auth.type_text
    else:
        want_type = "none"
    want_fp = inst.auth_fingerprint
    if want_type == "none" and auth is not None:
        why = "VRRPv3" if inst.version == 3 else "strict mode"
        conf_text = f"no effective authentication (the authentication block is ignored with {why})"
    elif want_type == "none":
        conf_text = "no authentication"
    elif want_type == "simple":
        conf_text = f"auth_type PASS with password fingerprint {want_fp}"
        if auth is not None and auth.truncated:
            conf_text += " (the first 8 bytes, as keepalived sends it)"
    else:
        conf_text = f"auth_type {auth.auth_type if auth else want_type}"
    bad_type = [(t, fp, n) for t, fp, n in r.auths if t != want_type]
    bad_pass = [(t, fp, n) for t, fp, n in r.auths if t == want_type == "simple" and want_fp and fp != want_fp]
    if not bad_type and not bad_pass:
        return
    seen = "; ".join(f"{_auth_text(t, fp)} in {n} advert{'s' if n != 1 else ''}" for t, fp, n in bad_type + bad_pass)
    locs: list[Location] = [inst.at("authentication")]
    if bad_pass and not bad_type:
        tail = f"the password running on {it.node} is not the one in this file"
        if auth is not None and auth.pass_location is not None:
            locs = [auth.pass_location]
    else:
        tail = "the authentication running differs from this file"
        if auth is not None and auth.type_location is not None:
            locs = [auth.type_location]
    em.add(
        "auth_differs",
        Severity.WARNING,
        it,
        g,
        f"{it.where('authentication', locs[0])} has {conf_text} but {r.ip} advertises {seen}: {tail}",
        locations=locs,
        routers=(r.ip,),
        frames=(r.first_frame,),
        start=r.first_seen,
        end=r.last_seen,
        details={
            "configured": {"type": want_type, "fingerprint": want_fp},
            "advertised": [{"type": t, "fingerprint": fp, "count": n} for t, fp, n in r.auths],
            "router": r.ip,
        },
    )


def _auth_text(kind: str, fingerprint: str | None) -> str:
    if kind == "none":
        return "no authentication"
    if kind == "simple":
        return f"PASS with password fingerprint {fingerprint}"
    if kind == "ah":
        return "IPsec AH"
    return kind


def _check_unicast(em: _Emitter, it: _Inst, g: _Group, r: _Router) -> None:
    inst = it.inst
    if not r.destinations:
        return
    dsts = set(r.destinations)
    mcast = {d for d in dsts if _is_multicast(d)}
    uni = dsts - mcast
    problems: list[str] = []
    severity = Severity.WARNING
    keyword = "unicast_peer"
    details: dict[str, Any] = {"destinations": sorted(dsts, key=_ip_key), "router": r.ip}
    if inst.unicast_peers:
        peers = {str(p.address) for p in inst.unicast_peers}
        details["configured_peers"] = sorted(peers, key=_ip_key)
        if mcast:
            problems.append(f"sends multicast to {_addrs(mcast)}")
        extra = uni - peers
        if extra:
            problems.append(f"sends to {_addrs(extra)}, not a configured unicast_peer")
        if inst.unicast_src_ip is not None and str(inst.unicast_src_ip) != r.ip:
            problems.append(f"sends from {r.ip}, not unicast_src_ip {inst.unicast_src_ip}")
            keyword = "unicast_src_ip"
        missing = peers - uni
        if not problems and missing:
            severity = Severity.INFO
            problems.append(
                f"was never seen sending to {_addrs(missing)} (a capture point on a switch sees only the adverts "
                "sent to it)"
            )
        conf = f"unicast_peer {{{_addrs(peers)}}}"
    else:
        gd = it.cfg.global_defs
        group = inst.mcast_dst_ip or (gd.vrrp_mcast_group6 if inst.family == "ipv6" else gd.vrrp_mcast_group4)
        want = _norm_ip(group or DEFAULT_MCAST[inst.family])
        details["configured_group"] = want
        keyword = "mcast_dst_ip" if inst.mcast_dst_ip else "virtual_router_id"
        if uni:
            problems.append(f"sends unicast adverts to {_addrs(uni)}")
        other = mcast - {want}
        if other:
            problems.append(f"sends to the multicast group {_addrs(other)}")
        conf = f"multicast adverts to {want} (no unicast_peer)"
    if not problems:
        return
    em.add(
        "unicast_differs",
        severity,
        it,
        g,
        f"{it.where(keyword)} is configured with {conf} but {r.ip} {'; '.join(problems)}",
        keywords=(keyword,),
        routers=(r.ip,),
        frames=(r.first_frame,),
        start=r.first_seen,
        end=r.last_seen,
        details=details,
    )


def _is_multicast(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_multicast
    except ValueError:
        return False


def vmac_of(family: str, vrid: int) -> str:
    """The VRRP virtual MAC of a group: 00:00:5e:00:01:VRID (IPv4), 00:00:5e:00:02:VRID (IPv6)."""
    return f"00:00:5e:00:{2 if family == 'ipv6' else 1:02x}:{vrid:02x}"


def _check_vmac(em: _Emitter, it: _Inst, g: _Group, r: _Router) -> None:
    inst = it.inst
    if not r.macs:
        return
    vmac = vmac_of(g.family, g.vrid)
    expect = inst.use_vmac and not inst.vmac_xmit_base
    if expect:
        wrong = [m for m in r.macs if m != vmac]
        if not wrong:
            return
        message = (
            f"{it.where('use_vmac')} has use_vmac, so its adverts should come from the virtual MAC {vmac}, "
            f"but {r.ip} advertises from {', '.join(wrong)}"
        )
        keyword = "use_vmac"
    else:
        if vmac not in r.macs:
            return
        why = "use_vmac with vmac_xmit_base sends from the base interface" if inst.use_vmac else "no use_vmac"
        message = (
            f"{it.where('use_vmac' if inst.use_vmac else 'virtual_router_id')} has {why}, but {r.ip} advertises "
            f"from the virtual MAC {vmac}"
        )
        keyword = "vmac_xmit_base" if inst.use_vmac else "virtual_router_id"
    em.add(
        "vmac_differs",
        Severity.WARNING,
        it,
        g,
        message,
        keywords=(keyword,),
        routers=(r.ip,),
        frames=(r.first_frame,),
        start=r.first_seen,
        end=r.last_seen,
        details={"use_vmac": inst.use_vmac, "vmac_xmit_base": inst.vmac_xmit_base, "macs": r.macs, "vmac": vmac},
    )


def _router_text(r: _Router) -> str:
    prios = "/".join(str(p) for p in r.priorities) or "0"
    return f"{r.ip} (priority {prios}, {_addrs(r.vips)})"


def _absent(em: _Emitter, m: _Matching, ii: int, it: _Inst, start: float | None, end: float | None) -> None:
    inst = it.inst
    vrid = inst.vrid
    same = [g for g in m.groups if g.vrid == vrid and g.family == inst.family]
    compatible = [g for g in same if segment_rank(g.segment, inst.interface) is not None]
    base = f"{it.where('virtual_router_id')} configures VRID {vrid} ({_fam(inst.family)})"
    if compatible:
        foreign = [r for g in compatible for r in g.routers]
        message = (
            f"{base} for {_addrs(it.vips)} but the only adverts for VRID {vrid} carry other addresses: "
            + "; ".join(_router_text(r) for r in foreign)
            + f"; another cluster uses VRID {vrid} and this instance's own group was not seen"
        )
    elif same:
        message = (
            f"{base} on {inst.interface} but adverts for VRID {vrid} were only seen on "
            f"{', '.join(sorted({g.segment for g in same}))}, another VLAN"
        )
    else:
        message = f"{base} but no advert for VRID {vrid} was seen"
    severity = Severity.WARNING if m.compatible_traffic.get(ii) else Severity.INFO
    if severity is Severity.INFO:
        message += " (the capture has no VRRP traffic from a segment compatible with its interface"
        message += f" {inst.interface})" if inst.interface else ")"
    em.add(
        "config_vrid_absent",
        severity,
        it,
        None,
        message,
        keywords=("virtual_router_id",),
        start=start,
        end=end,
        segment=inst.interface,
        family=inst.family,
        vrid=vrid,
        details={"interface": inst.interface, "vips": sorted(it.vips, key=_ip_key)},
    )


def _unknown(em: _Emitter, m: _Matching) -> None:
    nodes = sorted({it.node for it in m.insts})
    for gi, g in enumerate(m.groups):
        claimers = [
            it
            for it in m.insts
            if it.inst.vrid == g.vrid
            and it.inst.family == g.family
            and segment_rank(g.segment, it.inst.interface) is not None
        ]
        if not claimers:
            if not g.routers:
                continue
            first = min(g.routers, key=lambda r: r.first_seen if r.first_seen is not None else math.inf)
            em.add(
                "unknown_group",
                Severity.INFO,
                None,
                g,
                f"{g.label}: adverts from {'; '.join(_router_text(r) for r in g.routers)}, but none of the "
                f"configurations given ({', '.join(nodes) or 'none'}) has an {_fam(g.family)} instance with VRID "
                f"{g.vrid}: "
                "another cluster or router is on this segment",
                routers=tuple(r.ip for r in g.routers),
                frames=tuple(r.first_frame for r in g.routers),
                start=first.first_seen,
                end=max((r.last_seen for r in g.routers if r.last_seen is not None), default=None),
                subject=f"vrid{g.vrid}",
                details={"vips": sorted(g.vips, key=_ip_key), "nodes": nodes},
            )
            continue
        claimed = frozenset().union(*(it.vips for it in claimers))
        identified = {r.ip for r, _ in m.identified.get(gi, {}).values()}
        for r in g.routers:
            if r.ip in identified or not r.vips or not claimed or (r.vips & claimed):
                continue
            users = ", ".join(it.where("virtual_router_id") for it in claimers)
            em.add(
                "unknown_group",
                Severity.WARNING,
                None,
                g,
                f"{g.label}: {r.ip} advertises {_addrs(r.vips)} at priority "
                f"{'/'.join(str(p) for p in r.priorities) or '0'}, but the configured instances with VRID "
                f"{g.vrid} ({users}) protect {_addrs(claimed)}: another cluster uses the same VRID on this "
                "segment (VRID collision); keepalived discards adverts whose addresses differ from its own, so "
                "both clusters may elect a master",
                locations=[it.inst.at("virtual_router_id") for it in claimers],
                routers=(r.ip,),
                frames=(r.first_frame,),
                start=r.first_seen,
                end=r.last_seen,
                subject=r.ip,
                details={
                    "vips": sorted(r.vips, key=_ip_key),
                    "configured_vips": sorted(claimed, key=_ip_key),
                    "instances": [f"{it.inst.name}@{it.node}" for it in claimers],
                },
            )


def _unidentified(em: _Emitter, m: _Matching, ii: int, it: _Inst, gi: int) -> None:
    g = m.groups[gi]
    taken = {r.ip for r, _ in m.identified[gi].values()}
    left = [r for r in g.routers if r.ip not in taken and r.vips and _overlaps(it, r)]
    if not left:
        return  # a silent backup: normal
    model = it.model
    prio = f"priority {model.configured}"
    if model.healthy != model.configured:
        prio += f" ({model.healthy} with its tracked objects up)"
    em.add(
        "config_router_unidentified",
        Severity.INFO,
        it,
        g,
        f"{it.where('priority')} is configured with {prio} but no router of {g.label} matches it; "
        f"unidentified: {'; '.join(_router_text(r) for r in left)}. Either {it.node} never advertised, or it is "
        "one of these and runs another configuration",
        keywords=("priority",),
        routers=tuple(r.ip for r in left),
        frames=tuple(r.first_frame for r in left),
        start=min((r.first_seen for r in left if r.first_seen is not None), default=None),
        end=max((r.last_seen for r in left if r.last_seen is not None), default=None),
        details={"configured": model.configured, "healthy": model.healthy, "candidates": [r.ip for r in left]},
    )


def compare(data: Mapping[str, Any], configs: Sequence[KeepalivedConfig]) -> list[ConfigFinding]:
    """Compare the analysis JSON ``data`` with the node configurations ``configs`` (module doc)."""
    m = _match(data, configs)
    em = _Emitter()
    inp = data.get("input") if isinstance(data.get("input"), Mapping) else {}
    assert isinstance(inp, Mapping)
    start, end = _num(inp.get("start")), _num(inp.get("end"))
    for ii, it in enumerate(m.insts):
        if not m.matched[ii]:
            _absent(em, m, ii, it, start, end)
            continue
        for gi in m.matched[ii]:
            g = m.groups[gi]
            hit = m.identified[gi].get(ii)
            if hit is None:
                _unidentified(em, m, ii, it, gi)
                continue
            r, method = hit
            _check_priority(em, it, g, r, method)
            _check_interval(em, it, g, r)
            _check_version(em, it, g, r)
            _check_vips(em, it, g, r)
            _check_auth(em, it, g, r)
            _check_unicast(em, it, g, r)
            _check_vmac(em, it, g, r)
    _unknown(em, m)
    return sorted(em.findings, key=lambda f: _sort_key(f.to_dict()))


# --------------------------------------------------------------------------------------------------
# the CLI's entry points


def load_configs(config_paths: Sequence[str], *, config_id: str | None = None) -> list[KeepalivedConfig]:
    """Parse one keepalived.conf per node; raise :class:`ConfigError` naming a file that cannot be read."""
    from vrrpscope.config.parser import parse_files

    configs = parse_files(list(config_paths), config_id=config_id)
    for cfg in configs:
        if not cfg.readable:
            why = next((d.message for d in cfg.diagnostics if d.code == "unreadable"), f"cannot read {cfg.path}")
            raise ConfigError(why)
    return configs


def compare_with_configs(
    analysis_dict: Mapping[str, Any], config_paths: Sequence[str], *, config_id: str | None = None
) -> list[dict[str, Any]]:
    """The extra findings ``analyze --config FILE ...`` appends, as JSON dicts (module doc).

    Each has analyze's finding keys plus ``file``/``line``/``locations`` (the configuration lines),
    ``node`` and ``instance``. Raises :class:`ConfigError` when a file cannot be read.
    """
    return [f.to_dict() for f in compare(analysis_dict, load_configs(config_paths, config_id=config_id))]


def _sort_key(f: Mapping[str, Any]) -> tuple[float, str, str, str, int, str]:
    start = _num(f.get("start"))
    vrid = f.get("vrid")
    return (
        start if start is not None else -math.inf,
        str(f.get("kind") or ""),
        str(f.get("segment") or ""),
        str(f.get("family") or ""),
        vrid if isinstance(vrid, int) else -1,
        str(f.get("subject") or ""),
    )


def merge_findings(findings: Sequence[Mapping[str, Any]], extra: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Both lists as one, in analyze's order (start, kind, segment, family, VRID, subject); stable."""
    return [dict(f) for f in sorted([*findings, *extra], key=_sort_key)]


def exit_status_for_dicts(findings: Iterable[Mapping[str, Any]], fail_on: str | Severity | None) -> ExitStatus:
    """:func:`vrrpscope.findings.exit_status_for` over JSON finding dicts (analysis plus configuration)."""
    as_findings = [
        Finding(
            kind=str(f.get("kind") or ""),
            severity=Severity.parse(str(f.get("severity") or "info")),
            segment=f.get("segment"),
            family=f.get("family"),
            vrid=f.get("vrid"),
            start=_num(f.get("start")) or 0.0,
            end=_num(f.get("end")),
            routers=tuple(f.get("routers") or ()),
            frames=(),
            message=str(f.get("message") or ""),
        )
        for f in findings
    ]
    return exit_status_for(as_findings, fail_on)
