"""Configuration checks that need no traffic: one keepalived.conf per node, judged alone and together.

Groups across node files are instances with the same interface name, address family and
``virtual_router_id`` (the configuration-side twin of the capture's (segment, family, VRID)). Within
one such key, instances of different nodes that share their instance name or a virtual address are
*peers* (one VRRP group seen from several nodes); instances that share neither are unrelated groups
that collide on the VRID.

Findings (``kind``: severity, what it means):

=========================== ========= ===============================================================
``duplicate_vrid``          critical  two instances (one node, or unrelated instances of two nodes)
                                      use one VRID on one interface for one family, both multicast to
                                      the same group or unicast to overlapping peers. keepalived
                                      refuses it on one node ("VE and VI both use VRID 200 with IPv4
                                      on interface eth0"); across nodes the wire shows one group with
                                      two address sets.
``vip_mismatch``            critical  peers advertise different address sets: keepalived drops the
                                      adverts ("ip address associated with VRID not present in MASTER
                                      advert"), so both become master; warning when both skip the
                                      check (``skip_check_adv_addr``) or only prefixes differ.
``version_mismatch``        critical  peers run different VRRP versions (adverts dropped).
``advert_interval_mismatch`` crit/warn peers' effective intervals differ: v2 drops (critical), v3
                                      backups adopt the master's interval (warning).
``auth_mismatch``           critical  v2 peers with different auth type or password (first 8 bytes).
``unicast_asymmetric``      critical  a peer does not send to the other: A lists unicast peers but B
                                      is multicast, or A's peers lack B's ``unicast_src_ip``.
``priority_order``          crit/warn two address owners (255, critical); ``state MASTER`` with a lower
                                      priority than a BACKUP peer; ``nopreempt`` with ``state MASTER``
                                      (keepalived: "nopreempt will not work with initial state MASTER").
``priority_tie``            warning   peers with equal priority: the higher primary IP wins, which is
                                      not what anyone configured.
``auth_pass_truncated``     warning   ``auth_pass`` longer than 8 bytes; keepalived uses the first 8.
``auth_ignored_v3``         warning   ``authentication`` on a VRRPv3 instance (ignored by keepalived).
``strict_mode_violation``   warning   with ``vrrp_strict``/``strict_mode``: authentication, unicast
                                      peers, ``preempt_delay``, IPv6 with version 2, ``state MASTER``
                                      below 255, a first IPv6 VIP that is not link-local,
                                      ``vmac_xmit_base`` (keepalived resets or refuses each).
``ipv6_vrrp_v2``            warning   an IPv6 instance with an explicit ``version 2``: keepalived 2.2.7
                                      sends VRRPv2 over IPv6 (no RFC; forced to 3 only in strict mode).
``vip_outside_subnet``      warning   a VIP in no known subnet of its interface. Subnets are known only
                                      from ``static_ipaddress`` entries with ``dev`` and from
                                      ``interface_addresses`` given by the caller (``--iface-addr``);
                                      otherwise the check stays silent.
``config_error``            as parsed a syntax or value problem (unbalanced brace, bad number...).
``unknown_keyword``         info      a keyword keepalived 2.2.7 does not know (it ignores it too).
=========================== ========= ===============================================================

Findings share the analyze JSON shape (``kind``, ``severity``, ``segment`` = interface name,
``family``, ``vrid``, ``start``/``end`` null, ``routers``) with ``locations`` (file and line) instead of
frames, plus ``file``/``line`` of the first location.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vrrpscope.config.model import (
    Diagnostic,
    IPInterface,
    KeepalivedConfig,
    Location,
    VrrpInstance,
)
from vrrpscope.config.parser import parse_files
from vrrpscope.findings import ExitStatus, Severity

#: Finding kinds the linter emits (stable ids, also used by docs and tests).
LINT_KINDS = (
    "duplicate_vrid",
    "vip_mismatch",
    "version_mismatch",
    "advert_interval_mismatch",
    "auth_mismatch",
    "unicast_asymmetric",
    "priority_order",
    "priority_tie",
    "auth_pass_truncated",
    "auth_ignored_v3",
    "strict_mode_violation",
    "ipv6_vrrp_v2",
    "vip_outside_subnet",
    "config_error",
    "unknown_keyword",
)

GroupKey = tuple[str | None, str, int]


@dataclass(frozen=True)
class LintFinding:
    """One configuration finding, with every file:line that proves it (first one is the main)."""

    kind: str
    severity: Severity
    segment: str | None
    family: str | None
    vrid: int | None
    message: str
    locations: tuple[Location, ...]
    nodes: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def location(self) -> Location | None:
        """The first location, or None."""
        return self.locations[0] if self.locations else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (analyze's finding shape, ``locations`` instead of ``frames``)."""
        first = self.location
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity.label,
            "segment": self.segment,
            "family": self.family,
            "vrid": self.vrid,
            "start": None,
            "end": None,
            "routers": [],
            "locations": [loc.to_dict() for loc in self.locations],
            "file": first.file if first else None,
            "line": first.line if first else None,
            "nodes": list(self.nodes),
            "instances": list(self.instances),
            "message": self.message,
        }
        if self.details:
            out["details"] = self.details
        return out


def instance_summary(inst: VrrpInstance) -> dict[str, Any]:
    """JSON summary of one instance (passwords only as fingerprints)."""
    auth = None
    if inst.auth is not None:
        auth = {
            "type": inst.auth.type_text,
            "fingerprint": inst.auth.fingerprint,
            "effective": inst.auth_effective,
            "truncated": inst.auth.truncated,
        }
    return {
        "node": inst.node,
        "file": inst.location.file,
        "line": inst.location.line,
        "name": inst.name,
        "interface": inst.interface,
        "family": inst.family,
        "vrid": inst.vrid,
        "version": inst.version,
        "priority": inst.priority,
        "state": inst.state,
        "advert_int": inst.advert_int,
        "auth": auth,
        "vips": [str(v.address) for v in inst.vips],
        "excluded_vips": [str(v.address) for v in inst.excluded_vips],
        "unicast_src_ip": str(inst.unicast_src_ip) if inst.unicast_src_ip is not None else None,
        "unicast_peers": [str(p.address) for p in inst.unicast_peers],
        "nopreempt": inst.nopreempt,
        "preempt_delay": float(inst.preempt_delay) if inst.preempt_delay is not None else None,
        "strict": inst.strict,
        "use_vmac": inst.use_vmac,
    }


@dataclass
class LintResult:
    """Configurations read and the findings about them."""

    configs: list[KeepalivedConfig]
    findings: list[LintFinding]

    @property
    def instances(self) -> list[VrrpInstance]:
        """Every instance of every node, in file order."""
        return [i for c in self.configs for i in c.instances]

    @property
    def unreadable(self) -> list[KeepalivedConfig]:
        """Configurations whose main file could not be read (exit 3)."""
        return [c for c in self.configs if not c.readable]

    def to_dict(self) -> dict[str, Any]:
        """``{"files": [...], "instances": [...], "findings": [...]}``."""
        return {
            "files": [
                {"file": c.path, "node": c.node, "readable": c.readable, "read": list(c.files)} for c in self.configs
            ],
            "instances": [instance_summary(i) for i in self.instances],
            "findings": [f.to_dict() for f in self.findings],
        }

    def exit_status(self, fail_on: str | None) -> ExitStatus:
        """Exit code per DESIGN.md: 3 if a file was unreadable, else by ``--fail-on`` and severity."""
        if self.unreadable:
            return ExitStatus.BAD_INPUT
        if fail_on is None:
            return ExitStatus.OK
        threshold = max(Severity.parse(fail_on), Severity.WARNING)
        worst = max((f.severity for f in self.findings), default=None)
        if worst is None or worst < threshold:
            return ExitStatus.OK
        return ExitStatus.CRITICAL_FINDINGS if worst >= Severity.CRITICAL else ExitStatus.WARNING_FINDINGS


# --------------------------------------------------------------------------------------------------
# helpers


def _sev(text: str) -> Severity:
    return Severity.parse(text)


def _addrs(ips: Iterable[Any]) -> str:
    items = sorted(ips, key=lambda a: (a.version, int(a)))
    return "{" + ", ".join(str(a) for a in items) + "}" if items else "{}"


def _fam(family: str) -> str:
    return "IPv6" if family == "ipv6" else "IPv4"


def _short(loc: Location) -> str:
    return f"{os.path.basename(loc.file)}:{loc.line}"


def _where(inst: VrrpInstance) -> str:
    return f"{inst.label} ({_short(inst.location)})"


def _finding(
    kind: str,
    severity: Severity,
    insts: Sequence[VrrpInstance],
    message: str,
    locations: Sequence[Location],
    details: dict[str, Any] | None = None,
) -> LintFinding:
    first = insts[0]
    nodes = tuple(dict.fromkeys(i.node for i in insts))
    return LintFinding(
        kind=kind,
        severity=severity,
        segment=first.interface,
        family=first.family,
        vrid=first.vrid,
        message=message,
        locations=tuple(dict.fromkeys(locations)),
        nodes=nodes,
        instances=tuple(i.label for i in insts),
        details=details or {},
    )


def _mcast_group(inst: VrrpInstance, cfgs: Mapping[str, KeepalivedConfig]) -> str:
    if inst.mcast_dst_ip:
        return inst.mcast_dst_ip
    gd = cfgs[inst.node].global_defs
    if inst.family == "ipv6":
        return gd.vrrp_mcast_group6 or "ff02::12"
    return gd.vrrp_mcast_group4 or "224.0.0.18"


def _share_channel(a: VrrpInstance, b: VrrpInstance, cfgs: Mapping[str, KeepalivedConfig]) -> bool:
    """Whether two same-VRID instances would see each other's adverts (keepalived's duplicate rule).

    keepalived allows a duplicate VRID on one interface when unicast peer sets do not overlap or
    different multicast groups are used; a unicast and a multicast instance use different sockets.
    """
    if a.unicast != b.unicast:
        return False
    if a.unicast:
        return bool({p.address for p in a.unicast_peers} & {p.address for p in b.unicast_peers})
    return _mcast_group(a, cfgs) == _mcast_group(b, cfgs)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _clusters(insts: Sequence[VrrpInstance]) -> list[list[VrrpInstance]]:
    """Peers: instances of different nodes joined by a shared name or a shared advertised address."""
    uf = _UnionFind(len(insts))
    for i, a in enumerate(insts):
        for j in range(i + 1, len(insts)):
            b = insts[j]
            if a.node == b.node:
                continue
            if a.name == b.name or (a.vip_ips & b.vip_ips):
                uf.union(i, j)
    groups: dict[int, list[VrrpInstance]] = {}
    for i, inst in enumerate(insts):
        groups.setdefault(uf.find(i), []).append(inst)
    return list(groups.values())


# --------------------------------------------------------------------------------------------------
# single-instance checks


def _diagnostic_findings(cfg: KeepalivedConfig) -> list[LintFinding]:
    out: list[LintFinding] = []
    for d in cfg.diagnostics:
        if d.code == "unreadable":
            continue  # an input error (exit 3, reported on stderr), not a finding about the config
        out.append(_diag_finding(cfg, d))
    return out


def _diag_finding(cfg: KeepalivedConfig, d: Diagnostic) -> LintFinding:
    kind = "unknown_keyword" if d.code == "unknown_keyword" else "config_error"
    return LintFinding(
        kind=kind,
        severity=_sev(d.severity),
        segment=None,
        family=None,
        vrid=None,
        message=d.message,
        locations=(d.location,) if d.location.line else (),
        nodes=(cfg.node,),
        details={"code": d.code, **({"keyword": d.keyword, "context": d.context} if d.keyword else {})},
    )


def _instance_findings(inst: VrrpInstance, cfg: KeepalivedConfig) -> list[LintFinding]:
    out: list[LintFinding] = []
    auth = inst.auth
    if auth is not None and auth.truncated and auth.password is not None:
        n = len(auth.password.encode())
        out.append(
            _finding(
                "auth_pass_truncated",
                Severity.WARNING,
                [inst],
                f"{inst.label}: auth_pass is {n} bytes long but a VRRPv2 advert carries only 8; keepalived "
                f"uses the first 8 ('Truncating auth_pass to 8 characters'), so the other {n - 8} protect "
                "nothing and a peer that compares the whole string will not match.",
                [auth.pass_location or auth.location],
                {"length": n},
            )
        )
    if auth is not None and inst.version == 3 and not inst.strict:
        out.append(
            _finding(
                "auth_ignored_v3",
                Severity.WARNING,
                [inst],
                f"{inst.label} runs VRRPv3 but has an authentication block: keepalived ignores it ('VRRP "
                "version 3 does not support authentication. Ignoring.'), adverts are sent unauthenticated.",
                [auth.location, inst.at("version")],
            )
        )
    if inst.nopreempt and inst.state == "MASTER":
        out.append(
            _finding(
                "priority_order",
                Severity.WARNING,
                [inst],
                f"{inst.label} has nopreempt with state MASTER: keepalived clears nopreempt ('nopreempt will "
                "not work with initial state MASTER'), so this node will preempt; use state BACKUP.",
                [inst.at("nopreempt"), inst.at("state")],
                {"reason": "nopreempt_master"},
            )
        )
    # Only an explicit instance "version 2" matters: with version 2 only from global vrrp_version,
    # keepalived 2.2.7 runs an IPv6 instance as v3.
    configured_v2 = inst.configured_version == 2
    if inst.family == "ipv6" and configured_v2 and not inst.strict:
        out.append(
            _finding(
                "ipv6_vrrp_v2",
                Severity.WARNING,
                [inst],
                f"{inst.label} is IPv6 but says version 2: keepalived 2.2.7 then sends VRRPv2 over IPv6, "
                "which no RFC defines (RFC 3768 is IPv4 only) and other implementations reject; use "
                "version 3 (keepalived forces it only in strict mode).",
                [inst.at("version")],
            )
        )
    if inst.strict:
        out.extend(_strict_findings(inst, cfg, configured_v2))
    return out


def _strict_findings(inst: VrrpInstance, cfg: KeepalivedConfig, configured_v2: bool) -> list[LintFinding]:
    gd = cfg.global_defs
    strict_at = inst.where.get("strict_mode") or gd.where.get("vrrp_strict") or inst.location
    problems: list[tuple[str, Location, str]] = []
    if inst.auth is not None:
        problems.append(
            (
                "authentication",
                inst.auth.location,
                "authentication is ignored ('Strict mode does not support authentication')",
            )
        )
    if inst.unicast_peers:
        problems.append(
            (
                "unicast",
                inst.at("unicast_peer"),
                "unicast peers are outside RFC VRRP; keepalived releases that check it refuse the instance "
                "('Unicast peers are not supported in strict mode'), 2.2.7 lets it run",
            )
        )
    if inst.preempt_delay is not None:
        problems.append(
            (
                "preempt_delay",
                inst.at("preempt_delay"),
                "preempt_delay is reset ('preempt_delay is incompatible with strict mode')",
            )
        )
    if inst.family == "ipv6" and configured_v2:
        problems.append(("ipv6_v2", inst.at("version"), "IPv6 with version 2 is forced to version 3"))
    if inst.state == "MASTER" and inst.priority != 255:
        problems.append(
            (
                "master_not_owner",
                inst.at("state"),
                f"state MASTER needs priority 255 (it has {inst.priority}; 'State MASTER must match being "
                "address owner')",
            )
        )
    if inst.family == "ipv6" and inst.vips and not inst.vips[0].ip.is_link_local:
        problems.append(
            (
                "ipv6_first_vip",
                inst.vips[0].location,
                f"the first IPv6 VIP {inst.vips[0].ip} is not link-local",
            )
        )
    if inst.vmac_xmit_base:
        problems.append(("vmac_xmit_base", inst.at("vmac_xmit_base"), "vmac_xmit_base is not allowed"))
    out = []
    for reason, loc, text in problems:
        out.append(
            _finding(
                "strict_mode_violation",
                Severity.WARNING,
                [inst],
                f"{inst.label} runs in strict mode (set at {_short(strict_at)}): {text}.",
                [loc, strict_at],
                {"reason": reason},
            )
        )
    return out


def _subnet_findings(
    inst: VrrpInstance, cfg: KeepalivedConfig, extra: Mapping[str, Sequence[IPInterface]]
) -> list[LintFinding]:
    out: list[LintFinding] = []
    for vip in (*inst.vips, *inst.excluded_vips):
        dev = vip.dev or inst.interface
        if dev is None or vip.ip.is_link_local:
            continue
        known: list[tuple[IPInterface, str]] = []
        for s in cfg.static_addresses:
            if s.dev == dev and s.address.version == vip.address.version:
                known.append((s.address, _short(s.location)))
        for key in (dev, f"{cfg.node}:{dev}"):
            for a in extra.get(key, ()):
                if a.version == vip.address.version:
                    known.append((a, f"--iface-addr {key}={a}"))
        if not known:
            continue
        if any(vip.ip in a.network for a, _ in known):
            continue
        nets = ", ".join(f"{a.network} ({src})" for a, src in known)
        out.append(
            _finding(
                "vip_outside_subnet",
                Severity.WARNING,
                [inst],
                f"{inst.label}: VIP {vip.ip} on {dev} is in none of {dev}'s subnets: {nets}. Hosts on the "
                "segment will not ARP for it directly, and the gratuitous ARPs announce an off-subnet "
                "address.",
                [vip.location],
                {"vip": str(vip.ip), "subnets": [str(a.network) for a, _ in known]},
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# checks across instances of one key (interface, family, VRID)


def _duplicate_findings(
    key: GroupKey,
    insts: Sequence[VrrpInstance],
    clusters: Sequence[Sequence[VrrpInstance]],
    cfgs: Mapping[str, KeepalivedConfig],
) -> list[LintFinding]:
    iface, family, vrid = key
    out: list[LintFinding] = []
    by_node: dict[str, list[VrrpInstance]] = {}
    for inst in insts:
        by_node.setdefault(inst.node, []).append(inst)
    for node, mine in by_node.items():
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                if not _share_channel(a, b, cfgs):
                    continue
                same = a.vip_ips == b.vip_ips
                vips = (
                    f"both advertising {_addrs(a.vip_ips)}"
                    if same
                    else f"with different addresses {_addrs(a.vip_ips)} and {_addrs(b.vip_ips)}"
                )
                wire = (
                    "on the wire both send the same group twice."
                    if same
                    else "on the wire it is one VRRP group with two address sets, i.e. vip_mismatch and a split brain."
                )
                if a.unicast:
                    said = f"({a.name}) duplicate VRID conflict with {b.name} VRID {vrid}"
                else:
                    said = f"{a.name} and {b.name} both use VRID {vrid} with {_fam(family)} on interface {iface}"
                out.append(
                    _finding(
                        "duplicate_vrid",
                        Severity.CRITICAL,
                        [a, b],
                        f"Instances {a.name} ({_short(a.location)}) and {b.name} ({_short(b.location)}) of "
                        f"node {node} both use VRID {vrid} for {_fam(family)} on {iface}, {vips}. keepalived "
                        f"refuses this ('{said}'); {wire} Give one of them another virtual_router_id.",
                        [a.at("virtual_router_id"), b.at("virtual_router_id")],
                        {"same_addresses": same},
                    )
                )
    if out or len(clusters) < 2:
        return out
    # unrelated instances of different nodes that collide on the wire
    for i, ca in enumerate(clusters):
        for cb in clusters[i + 1 :]:
            pair = next(((a, b) for a in ca for b in cb if a.node != b.node and _share_channel(a, b, cfgs)), None)
            if pair is None:
                continue
            a, b = pair
            out.append(
                _finding(
                    "duplicate_vrid",
                    Severity.CRITICAL,
                    [a, b],
                    f"Unrelated instances {_where(a)} advertising {_addrs(a.vip_ips)} and {_where(b)} "
                    f"advertising {_addrs(b.vip_ips)} both use VRID {vrid} for {_fam(family)} on {iface}: "
                    "their adverts meet on the wire as one group with two address sets (VRID collision). "
                    "Use distinct virtual_router_ids for distinct groups on one segment.",
                    [a.at("virtual_router_id"), b.at("virtual_router_id")],
                )
            )
    return out


def _peer_findings(peers: Sequence[VrrpInstance]) -> list[LintFinding]:
    """Checks between peers (instances of one group on different nodes)."""
    out: list[LintFinding] = []
    if len({p.node for p in peers}) < 2:
        return out
    versions = {p.version for p in peers}
    if len(versions) > 1:
        parts = "; ".join(f"{_where(p)} v{p.version}" for p in peers)
        out.append(
            _finding(
                "version_mismatch",
                Severity.CRITICAL,
                peers,
                f"Peers of VRID {peers[0].vrid} on {peers[0].interface} run different VRRP versions: "
                f"{parts}. "
                "Each drops the other's adverts ('wrong version'), so both become master.",
                [p.at("version") for p in peers],
                {"versions": {p.label: p.version for p in peers}},
            )
        )
    else:
        version = next(iter(versions))
        ints = {p.advert_int for p in peers}
        if len(ints) > 1:
            parts = "; ".join(f"{_where(p)} {p.advert_int:g} s" for p in peers)
            if version == 2:
                sev = Severity.CRITICAL
                why = (
                    "VRRPv2 receivers drop adverts with another interval ('advertisement interval "
                    "mismatch'), "
                    "so each side times out and becomes master."
                )
            else:
                sev = Severity.WARNING
                why = (
                    "VRRPv3 backups adopt the master's interval, but Master_Down_Interval and takeover times "
                    "then depend on which node is master."
                )
            out.append(
                _finding(
                    "advert_interval_mismatch",
                    sev,
                    peers,
                    f"Peers of VRID {peers[0].vrid} on {peers[0].interface} use different advertisement "
                    f"intervals (as keepalived runs them): {parts}. {why}",
                    [p.at("advert_int") for p in peers],
                    {"advert_int": {p.label: p.advert_int for p in peers}},
                )
            )
        if version == 2:
            out.extend(_auth_mismatch(peers))
    out.extend(_vip_mismatch(peers))
    out.extend(_priority_findings(peers))
    out.extend(_unicast_findings(peers))
    return out


def _auth_text(p: VrrpInstance) -> str:
    if not p.auth_effective or p.auth is None:
        return "no authentication"
    if p.auth.type_text == "simple":
        return f"PASS {p.auth.fingerprint}"
    return p.auth.type_text.upper()


def _auth_mismatch(peers: Sequence[VrrpInstance]) -> list[LintFinding]:
    values = {p.label: _auth_text(p) for p in peers}
    if len(set(values.values())) < 2:
        return []
    parts = "; ".join(f"{_where(p)} {values[p.label]}" for p in peers)
    locs = [(p.auth.pass_location or p.auth.location) if p.auth is not None else p.location for p in peers]
    return [
        _finding(
            "auth_mismatch",
            Severity.CRITICAL,
            peers,
            f"Peers of VRID {peers[0].vrid} on {peers[0].interface} authenticate differently (passwords "
            "shown "
            f"as fingerprints of the 8 bytes on the wire): {parts}. Each drops the other's adverts "
            "('received "
            "an invalid passwd!' / 'received a N auth, expecting M!'), so both become master.",
            locs,
            {"auth": values},
        )
    ]


def _vip_mismatch(peers: Sequence[VrrpInstance]) -> list[LintFinding]:
    sets = {p.label: p.vip_ips for p in peers}
    locs = [p.at("virtual_ipaddress") for p in peers]
    if len({frozenset(s) for s in sets.values()}) > 1:
        union = frozenset().union(*sets.values())
        parts = "; ".join(f"{_where(p)} lacks {_addrs(union - p.vip_ips)}" for p in peers if union - p.vip_ips)
        skip = all(p.skip_check_adv_addr for p in peers)
        if skip:
            sev = Severity.WARNING
            why = "All of them skip the address check (skip_check_adv_addr), so only the VIPs move unevenly."
        else:
            sev = Severity.CRITICAL
            why = (
                "keepalived drops adverts whose addresses differ from its own ('ip address associated with "
                "VRID "
                "not present in MASTER advert'), so each side becomes master."
            )
        return [
            _finding(
                "vip_mismatch",
                sev,
                peers,
                f"Peers of VRID {peers[0].vrid} on {peers[0].interface} advertise different address sets: "
                f"{parts}. {why}",
                locs,
                {"vips": {k: sorted(str(a) for a in v) for k, v in sets.items()}},
            )
        ]
    prefixes = {p.label: frozenset(str(v.address) for v in p.vips) for p in peers}
    if len(set(prefixes.values())) > 1:
        parts = "; ".join(f"{_where(p)} {sorted(prefixes[p.label])}" for p in peers)
        return [
            _finding(
                "vip_mismatch",
                Severity.WARNING,
                peers,
                f"Peers of VRID {peers[0].vrid} on {peers[0].interface} advertise the same addresses with "
                f"different prefix lengths: {parts}. Adverts match, but the subnet route moves with "
                "mastership.",
                locs,
                {"reason": "prefix"},
            )
        ]
    return []


def _priority_findings(peers: Sequence[VrrpInstance]) -> list[LintFinding]:
    out: list[LintFinding] = []
    owners = [p for p in peers if p.priority == 255]
    if len({p.node for p in owners}) > 1:
        out.append(
            _finding(
                "priority_order",
                Severity.CRITICAL,
                owners,
                f"{len(owners)} peers of VRID {peers[0].vrid} on {peers[0].interface} claim to be the "
                "address "
                f"owner (priority 255): {', '.join(_where(p) for p in owners)}. keepalived logs "
                "'CONFIGURATION "
                "ERROR: local instance and a remote instance are both configured as address owner'.",
                [p.at("priority") for p in owners],
                {"reason": "two_owners"},
            )
        )
    by_prio: dict[int, list[VrrpInstance]] = {}
    for p in peers:
        if p.priority < 255:
            by_prio.setdefault(p.priority, []).append(p)
    for prio, tied in sorted(by_prio.items()):
        if len({p.node for p in tied}) < 2:
            continue
        out.append(
            _finding(
                "priority_tie",
                Severity.WARNING,
                tied,
                f"Peers of VRID {peers[0].vrid} on {peers[0].interface} share priority {prio}: "
                f"{', '.join(_where(p) for p in tied)}. The election then falls to the higher primary IP "
                "address, and which node is master depends on start order; give each node its own priority.",
                [p.at("priority") for p in tied],
                {"priority": prio},
            )
        )
    for m in peers:
        if m.state != "MASTER":
            continue
        higher = [b for b in peers if b.node != m.node and b.state != "MASTER" and b.priority > m.priority]
        if not higher:
            continue
        b = max(higher, key=lambda x: x.priority)
        out.append(
            _finding(
                "priority_order",
                Severity.WARNING,
                [m, b],
                f"{_where(m)} is state MASTER with priority {m.priority}, but its peer {_where(b)} is "
                "BACKUP with "
                f"the higher priority {b.priority}: the MASTER is preempted as soon as the backup's adverts "
                "arrive "
                "(a needless takeover at every start). Swap the states or the priorities.",
                [m.at("state"), m.at("priority"), b.at("priority")],
                {"reason": "master_below_backup"},
            )
        )
    return out


def _unicast_findings(peers: Sequence[VrrpInstance]) -> list[LintFinding]:
    out: list[LintFinding] = []
    for a in peers:
        if not a.unicast:
            continue
        targets = {p.address for p in a.unicast_peers}
        for b in peers:
            if b.node == a.node:
                continue
            if not b.unicast:
                out.append(
                    _finding(
                        "unicast_asymmetric",
                        Severity.CRITICAL,
                        [a, b],
                        f"{_where(a)} sends unicast adverts to {_addrs(targets)}, but its peer {_where(b)} "
                        "has no "
                        "unicast_peer and uses multicast: neither hears the other (unicast and multicast "
                        "adverts are not mixed), so both become master.",
                        [a.at("unicast_peer"), b.location],
                        {"reason": "mode"},
                    )
                )
                continue
            if b.unicast_src_ip is not None and b.unicast_src_ip not in targets:
                out.append(
                    _finding(
                        "unicast_asymmetric",
                        Severity.CRITICAL,
                        [a, b],
                        f"{_where(b)} sends from unicast_src_ip {b.unicast_src_ip}, but {_where(a)} does "
                        "not list "
                        f"it among its unicast peers {_addrs(targets)}: {a.node} never sends its adverts to "
                        f"{b.node}, which times out and becomes master.",
                        [a.at("unicast_peer"), b.at("unicast_src_ip")],
                        {"reason": "peer_missing", "missing": str(b.unicast_src_ip)},
                    )
                )
    return out


# --------------------------------------------------------------------------------------------------
# entry points


_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


def lint_configs(
    configs: Sequence[KeepalivedConfig],
    *,
    interface_addresses: Mapping[str, Sequence[IPInterface]] | None = None,
) -> LintResult:
    """Run every check on parsed configurations (one per node).

    ``interface_addresses`` maps ``IFACE`` (any node) or ``NODE:IFACE`` to the interface's addresses
    with prefix, for ``vip_outside_subnet``.
    """
    extra = interface_addresses or {}
    cfgs = {c.node: c for c in configs}
    findings: list[LintFinding] = []
    for cfg in configs:
        findings.extend(_diagnostic_findings(cfg))
        for inst in cfg.instances:
            findings.extend(_instance_findings(inst, cfg))
            findings.extend(_subnet_findings(inst, cfg, extra))
    keys: dict[GroupKey, list[VrrpInstance]] = {}
    for cfg in configs:
        for inst in cfg.instances:
            if inst.vrid is None:
                continue
            keys.setdefault((inst.interface, inst.family, inst.vrid), []).append(inst)
    for key, insts in keys.items():
        clusters = _clusters(insts)
        findings.extend(_duplicate_findings(key, insts, clusters, cfgs))
        for cluster in clusters:
            findings.extend(_peer_findings(cluster))
    findings.sort(
        key=lambda f: (
            _SEVERITY_ORDER[f.severity],
            f.location.file if f.location else "",
            f.location.line if f.location else 0,
            f.kind,
        )
    )
    return LintResult(list(configs), findings)


def lint_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    config_id: str | None = None,
    interface_addresses: Mapping[str, Sequence[IPInterface]] | None = None,
) -> LintResult:
    """Parse one keepalived.conf per node and lint them together. Never raises on bad input."""
    return lint_configs(parse_files(paths, config_id=config_id), interface_addresses=interface_addresses)


def parse_iface_addr(spec: str) -> tuple[str, IPInterface]:
    """``[NODE:]IFACE=ADDR/PLEN`` -> (key, interface address); raises ValueError with a readable reason."""
    key, sep, addr = spec.partition("=")
    if not sep or not key or not addr:
        raise ValueError(f"{spec!r} is not [NODE:]IFACE=ADDR/PREFIX")
    if "/" not in addr:
        raise ValueError(f"{spec!r}: the address needs a /prefix to define a subnet")
    try:
        return key, ipaddress.ip_interface(addr)
    except ValueError as exc:
        raise ValueError(f"{spec!r}: {exc}") from None
