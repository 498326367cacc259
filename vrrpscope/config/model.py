"""What a keepalived.conf says, as frozen records that remember where every value came from.

The parser (:mod:`vrrpscope.config.parser`) builds these; the linter (:mod:`vrrpscope.config.lint`)
and the config-versus-capture comparison read them. Every record carries a :class:`Location`
(file and 1-based line); records with many keywords keep a ``where`` map from keyword to the line
that set it (the last occurrence wins, as in keepalived).

Derived facts on :class:`VrrpInstance` follow keepalived 2.2.7 (checked against ``keepalived -d``,
the configuration dump, in ``tests/test_config_parser.py``):

* ``family``: ``ipv6`` if ``native_ipv6`` is set or the first ``virtual_ipaddress`` is IPv6, else
  ``ipv4`` (with no VIP: the family of ``unicast_src_ip`` or of the first unicast peer). Addresses of
  the other family in ``virtual_ipaddress`` are ignored by keepalived ("address family must match
  VRRP instance"), so they are not in ``vips``.
* ``version``: the instance's ``version`` if written; else 3 for IPv6; else global ``vrrp_version``,
  else 2. An explicit ``version 2`` on an IPv6 instance is kept by 2.2.7 (it then sends VRRPv2 over
  IPv6, which the dump shows as "VRRP Version = 2") except in strict mode, where it becomes 3
  ("cannot use IPv6 with VRRP version 2; setting version 3").
* ``advert_int``: seconds as keepalived runs them: v2 rounded half-up to whole seconds, at least 1
  (1.5 -> 2, 0.4 -> 1); v3 rounded half-up to 10 ms (0.335 -> 0.34, 0.125 -> 0.13); default 1.
* ``auth``: only meaningful for v2 outside strict mode; ``Authentication.fingerprint`` is the wire
  fingerprint of the first 8 bytes of ``auth_pass`` padded with NULs, exactly what the dissector
  computes from an advert (:func:`dissectors.records.secret_fingerprint`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from dissectors.records import secret_fingerprint

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

#: keepalived's default ``advert_int`` (seconds).
DEFAULT_ADVERT_INT = Decimal(1)
#: keepalived's default ``priority``.
DEFAULT_PRIORITY = 100
#: keepalived's default VRRP version (global ``vrrp_version``).
DEFAULT_VERSION = 2
#: Bytes of a VRRPv2 simple-text password on the wire (RFC 2338 §5.3.11); keepalived truncates to this.
AUTH_PASS_WIRE_LEN = 8


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """Where a value was written: ``file`` as given/resolved, ``line`` 1-based."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, object]:
        """``{"file": ..., "line": N}``."""
        return {"file": self.file, "line": self.line}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem met while reading the configuration (never an exception).

    ``code`` is a stable snake_case id: ``unreadable``, ``unbalanced_brace``, ``unclosed_block``,
    ``missing_brace``, ``unmatched_quote``, ``bad_number``, ``out_of_range``, ``bad_value``,
    ``missing_value``, ``bad_address``, ``undefined_reference``, ``include_no_match``, ``include_cycle``,
    ``include_unreadable``, ``family_mismatch``, ``no_vip``, ``duplicate_instance``,
    ``unsupported_syntax``, ``unknown_keyword``. ``severity`` is ``info``, ``warning`` or
    ``critical``; ``message`` names the file and line and says what keepalived does with it.
    """

    code: str
    severity: str
    message: str
    location: Location
    #: The keyword concerned (for ``unknown_keyword``), or ``""``.
    keyword: str = ""
    #: The block the keyword appeared in (``top``, ``global_defs``, ``vrrp_instance`` ...).
    context: str = ""


@dataclass(frozen=True, slots=True)
class Statement:
    """One parsed statement of the generic tree: ``keyword args...`` and, for a block, its children.

    ``children`` is ``None`` for a plain statement and a tuple (possibly empty) for a block.
    """

    keyword: str
    args: tuple[str, ...]
    location: Location
    children: tuple[Statement, ...] | None = None

    @property
    def is_block(self) -> bool:
        """True when the statement opened a ``{ ... }`` block."""
        return self.children is not None


@dataclass(frozen=True, slots=True)
class VirtualAddress:
    """One line of ``virtual_ipaddress`` / ``virtual_ipaddress_excluded``.

    ``address`` is the address with its prefix (``/32`` or ``/128`` when none is written, as keepalived
    does); ``dev``, ``label``, ``scope`` and ``brd`` are the options when given. ``options`` keeps every
    other option word as written.
    """

    address: IPInterface
    location: Location
    excluded: bool = False
    dev: str | None = None
    label: str | None = None
    scope: str | None = None
    brd: str | None = None
    options: tuple[str, ...] = ()

    @property
    def ip(self) -> IPAddress:
        """The address without prefix."""
        return self.address.ip

    @property
    def family(self) -> str:
        """``ipv4`` or ``ipv6``."""
        return "ipv6" if self.address.version == 6 else "ipv4"


@dataclass(frozen=True, slots=True)
class UnicastPeer:
    """One ``unicast_peer`` entry: ``IP [min_ttl N] [max_ttl N]``."""

    address: IPAddress
    location: Location
    min_ttl: int | None = None
    max_ttl: int | None = None


@dataclass(frozen=True, slots=True)
class Tracked:
    """One ``track_interface`` / ``track_script`` entry: a name and an optional ``weight``."""

    name: str
    location: Location
    weight: int | None = None
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Authentication:
    """The ``authentication`` block: ``auth_type`` (``PASS`` or ``AH``) and ``auth_pass``.

    ``password`` is the configured text, untruncated; the wire carries ``wire_password``.
    """

    auth_type: str | None
    password: str | None
    location: Location
    type_location: Location | None = None
    pass_location: Location | None = None

    @property
    def wire_password(self) -> bytes | None:
        """The 8 bytes a VRRPv2 advert carries: the password truncated/NUL-padded to 8 bytes."""
        if self.password is None:
            return None
        return self.password.encode()[:AUTH_PASS_WIRE_LEN].ljust(AUTH_PASS_WIRE_LEN, b"\0")

    @property
    def fingerprint(self) -> str | None:
        """``sha256:<16 hex>`` of :attr:`wire_password` (same as the dissector's), or None."""
        wire = self.wire_password
        if wire is None or (self.auth_type or "").upper() != "PASS":
            return None
        return secret_fingerprint(wire)

    @property
    def truncated(self) -> bool:
        """True when ``auth_pass`` is longer than the 8 bytes keepalived uses."""
        return self.password is not None and len(self.password.encode()) > AUTH_PASS_WIRE_LEN

    @property
    def type_text(self) -> str:
        """``simple`` for PASS, ``ah`` for AH, else the word as written (lower case)."""
        t = (self.auth_type or "").upper()
        return {"PASS": "simple", "AH": "ah"}.get(t, t.lower() or "none")


@dataclass(frozen=True, slots=True)
class VrrpScript:
    """A ``vrrp_script NAME { script, interval, weight, fall, rise }`` block."""

    name: str
    location: Location
    script: str | None = None
    interval: Decimal | None = None
    weight: int | None = None
    fall: int | None = None
    rise: int | None = None
    where: Mapping[str, Location] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SyncGroup:
    """A ``vrrp_sync_group NAME { group { INSTANCE... } }`` block."""

    name: str
    location: Location
    instances: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OpaqueBlock:
    """A block kept but not judged (``virtual_server``, ``static_ipaddress`` ...): header and tree."""

    keyword: str
    args: tuple[str, ...]
    location: Location
    statement: Statement


@dataclass(frozen=True, slots=True)
class GlobalDefs:
    """``global_defs``: the knobs that change how VRRP behaves (others are in ``other``).

    ``garp`` maps the ``vrrp_garp_*`` / ``vrrp_gna_interval`` / ``vrrp_min_garp`` keywords to their
    argument text (``""`` for a bare flag).
    """

    location: Location | None = None
    router_id: str | None = None
    vrrp_version: int | None = None
    vrrp_strict: bool = False
    vrrp_skip_check_adv_addr: bool = False
    vrrp_check_unicast_src: bool = False
    vrrp_mcast_group4: str | None = None
    vrrp_mcast_group6: str | None = None
    vrrp_down_timer_adverts: int | None = None
    garp: Mapping[str, str] = field(default_factory=dict)
    other: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    where: Mapping[str, Location] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VrrpInstance:
    """One ``vrrp_instance`` with what it says and what keepalived makes of it (see module doc).

    Raw settings keep ``None`` when not written; the derived ``family``, ``version``,
    ``advert_int`` (float seconds), ``priority`` (default 100) and ``strict`` are always set.
    ``garp`` maps per-instance ``garp_*`` keywords to their argument text.
    """

    name: str
    location: Location
    node: str
    file: str
    family: str
    version: int
    advert_int: float
    priority: int
    strict: bool
    state: str | None = None
    interface: str | None = None
    vrid: int | None = None
    configured_priority: int | None = None
    configured_version: int | None = None
    configured_advert_int: Decimal | None = None
    auth: Authentication | None = None
    vips: tuple[VirtualAddress, ...] = ()
    excluded_vips: tuple[VirtualAddress, ...] = ()
    unicast_src_ip: IPAddress | None = None
    unicast_peers: tuple[UnicastPeer, ...] = ()
    mcast_dst_ip: str | None = None
    nopreempt: bool = False
    preempt_delay: Decimal | None = None
    use_vmac: bool = False
    vmac_xmit_base: bool = False
    native_ipv6: bool = False
    skip_check_adv_addr: bool = False
    garp: Mapping[str, str] = field(default_factory=dict)
    track_interfaces: tuple[Tracked, ...] = ()
    track_scripts: tuple[Tracked, ...] = ()
    where: Mapping[str, Location] = field(default_factory=dict)

    @property
    def unicast(self) -> bool:
        """True when the instance sends unicast adverts (it lists unicast peers)."""
        return bool(self.unicast_peers)

    @property
    def vip_ips(self) -> frozenset[IPAddress]:
        """The advertised addresses (``virtual_ipaddress``, without prefix)."""
        return frozenset(v.ip for v in self.vips)

    @property
    def auth_effective(self) -> bool:
        """True when keepalived really uses the ``authentication`` block (v2, not strict)."""
        return self.auth is not None and self.version == 2 and not self.strict

    @property
    def auth_fingerprint(self) -> str | None:
        """Wire fingerprint of the password when authentication is effective and PASS, else None."""
        if not self.auth_effective or self.auth is None:
            return None
        return self.auth.fingerprint

    @property
    def advert_int_cs(self) -> int:
        """The advertisement interval in centiseconds (what a v3 advert carries)."""
        return round(self.advert_int * 100)

    def at(self, keyword: str) -> Location:
        """Where ``keyword`` was set in this instance, or the instance header when not written."""
        return self.where.get(keyword, self.location)

    @property
    def label(self) -> str:
        """``NAME@node`` for messages."""
        return f"{self.name}@{self.node}"


@dataclass(frozen=True, slots=True)
class KeepalivedConfig:
    """One node's configuration: a main file and what it includes.

    ``node`` is the ``router_id`` or, without one, the main file's stem. ``files`` lists every file
    read, main file first, in reading order. ``readable`` is False when the main file could not be
    read at all (the CLI then exits 3). ``statements`` is the generic tree.
    """

    path: str
    node: str
    readable: bool
    files: tuple[str, ...] = ()
    global_defs: GlobalDefs = field(default_factory=GlobalDefs)
    instances: tuple[VrrpInstance, ...] = ()
    sync_groups: tuple[SyncGroup, ...] = ()
    scripts: tuple[VrrpScript, ...] = ()
    opaque_blocks: tuple[OpaqueBlock, ...] = ()
    static_addresses: tuple[VirtualAddress, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    statements: tuple[Statement, ...] = ()

    @property
    def virtual_servers(self) -> tuple[OpaqueBlock, ...]:
        """The ``virtual_server`` blocks (kept, not judged)."""
        return tuple(b for b in self.opaque_blocks if b.keyword == "virtual_server")

    def instance(self, name: str) -> VrrpInstance | None:
        """The instance called ``name``, or None."""
        for inst in self.instances:
            if inst.name == name:
                return inst
        return None
