"""Wireshark's dissectors as an alternative decoding engine: ``tshark -T ek`` in, ``Dissected`` out.

:func:`iter_tshark` runs tshark on a capture and yields, for every VRRP/CARP/ARP/ND frame Wireshark
can read — any file format and link type it supports, not only those :mod:`vrrpscope.sources`
reads natively — a :class:`TsharkPacket`: frame number, capture time, pcapng interface id and name,
and the same :class:`~dissectors.records.Dissected` record the native dissectors produce for it.

Why a direct subprocess and not pyshark
    Both run tshark; pyshark (0.6) wraps it in an asyncio event loop (which fails inside a running
    loop), hands out string-valued ``LayerField`` objects and parses JSON into its own object tree.
    Measured on this machine (tshark 4.0.17, a 20,000-frame capture with 13,529 VRRP/ARP/ND frames):
    ``pyshark.FileCapture(use_json=True, include_raw=True)`` delivered about 1,150 packets/s; reading
    ``tshark -T ek -x`` line by line and decoding each line with :func:`json.loads` about 3,400
    packets/s, tshark itself being the bottleneck. Going direct also lets the environment be pinned
    (``LC_ALL=C``, STYLE.md §4.6; pyshark inherits the caller's locale), keeps memory flat
    (one line at a time, nothing retained) and types every value here, at the boundary.

What comes from tshark and what does not
    Link (Ethernet/SLL source and destination, 802.1Q/802.1ad tags, SLL2 interface index), IP
    (addresses, TTL/hop limit, protocol, the AH header), every VRRP header field and address, ARP
    and ND fields are tshark's (``eth.*``, ``sll.*``, ``vlan.*``, ``ieee8021ad.*``, ``ip.*``,
    ``ipv6.*``, ``ah.*``, ``vrrp.*``, ``arp.*``, ``icmpv6.*``). Computed from the raw bytes tshark
    prints with ``-x`` (``vrrp_raw``), because no tshark field carries them:

    * ``VrrpV2Advert.auth_data``: tshark shows the password only for auth type 1, as a string cut
      at the first NUL; the 8 bytes are taken from the message.
    * ``checksum_variant`` where tshark's ``vrrp.checksum.status`` does not decide it: tshark
      validates one variant per run (the IPv4 pseudo-header by default) and sums keepalived's HMAC
      trailer. A "good" status with no trailer gives the default variant directly; otherwise the
      variants of PROTOCOL.md §9.3 are tried on the bytes with :mod:`dissectors.checksum`, in
      :data:`~dissectors.records.CHECKSUM_VARIANTS` order (the native decoder's rule).
    * ``trailer``: the IP payload length (captured VRRP bytes plus what the snap length cut) minus
      the message length the address count gives.
    * CARP: with default preferences tshark decodes CARP as VRRPv2 (its CARP dissector is only a
      heuristic tried after the protocol table, and when tried first it takes a VRRPv2 advert with
      seven addresses for CARP). A protocol-112 payload is classified with
      :func:`dissectors.carp.looks_like_carp`; the CARP header fields are then read from tshark's
      VRRP fields at the same offsets (vhid = ``vrrp.virt_rtr_id``, advskew = ``vrrp.prio``,
      authlen = ``vrrp.addr_count``, advbase = ``vrrp.adver_int``) and the 64-bit counter from the
      bytes.
    * ``Malformed``: tshark flags damage (``_ws.malformed``) but has no stable reasons; the reason is
      derived from tshark's version/type/count fields and the lengths, with the native decoders'
      ids (``bad_version``, ``bad_type``, ``ip_family_mismatch``, ``truncated``,
      ``count_exceeds_length``; ARP ``unsupported_arp``/``truncated``; ND ``bad_option_length``/
      ``option_exceeds_length``/``truncated``). ``detail`` text and ``offset`` are this module's own.

Known differences from the native engine (beyond ``Malformed.detail``/``offset``): IP-layer damage
(IPv4/IPv6/AH ``truncated``, ``fragment`` ...) is reported natively as a ``Malformed`` record while
tshark reassembles fragments or shows no VRRP layer, so those frames differ; VRRP headers quoted in
ICMP errors are never reported (as natively: only a top-level VRRP/ARP/ND layer counts).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from typing import Any, NamedTuple

from dissectors.carp import looks_like_carp
from dissectors.checksum import ipv4_pseudo_header, ipv6_pseudo_header, ones_sum, verify
from dissectors.records import (
    AhInfo,
    ArpPacket,
    CarpAdvert,
    ChecksumVariant,
    Dissected,
    Family,
    IpInfo,
    LinkInfo,
    Malformed,
    Message,
    NdMessage,
    VrrpV2Advert,
    VrrpV3Advert,
)
from vrrpscope.sources.base import SourceProblem

#: Frames the engine asks tshark for (top-level layers are checked again on each frame).
DISPLAY_FILTER = "vrrp || carp || arp || icmpv6.type == 135 || icmpv6.type == 136"

#: Layers whose fields tshark prints (``-J``); raw bytes (``-x``) come for every layer.
PROTOCOLS = "frame eth sll vlan ieee8021ad ip ipv6 ah vrrp carp arp icmpv6 _ws.malformed"

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_IPV6 = 0x86DD
IPPROTO_ICMPV6 = 58
IPPROTO_VRRP = 112
VRRP_HEADER_LEN = 8
VRRP_V2_AUTH_LEN = 8
VRRP_IPV4_GROUP = ipaddress.IPv4Address("224.0.0.18").packed
CARP_COUNTER = slice(8, 16)  # the 64-bit counter after the 8-byte CARP header


class TsharkError(RuntimeError):
    """tshark is missing, or it failed to read the capture (the message has its stderr)."""


class TsharkPacket(NamedTuple):
    """One VRRP/CARP/ARP/ND frame decoded by tshark.

    ``frame`` is tshark's ``frame.number``; ``time`` its ``frame.time_epoch`` as float seconds;
    ``interface``/``interface_name`` the pcapng interface id and ``if_name`` (0 and ``None`` for
    classic pcap and for interfaces without a name).
    """

    frame: int
    time: float
    interface: int
    interface_name: str | None
    dissected: Dissected


def find_tshark() -> str | None:
    """Path of the tshark executable on ``PATH``, or ``None``."""
    return shutil.which("tshark")


def tshark_command(path: str, tshark: str = "tshark") -> list[str]:
    """The tshark command line :func:`iter_tshark` runs for ``path`` (``-`` reads standard input)."""
    return [tshark, "-n", "-r", path, "-Y", DISPLAY_FILTER, "-T", "ek", "-x", "-J", PROTOCOLS]


def iter_tshark(
    path: str, *, tshark: str | None = None, problems: list[SourceProblem] | None = None
) -> Generator[TsharkPacket, None, None]:
    """Decode ``path`` with tshark and yield a :class:`TsharkPacket` per VRRP/CARP/ARP/ND frame.

    Streams: tshark's output is read one line at a time. tshark runs with ``LC_ALL=C`` and no name
    resolution. When tshark cannot be found or exits with an error (unreadable or damaged file),
    :class:`TsharkError` is raised after the frames it did read — unless a ``problems`` list is
    given, which then receives a fatal :class:`~vrrpscope.sources.base.SourceProblem` (reason
    ``unreadable``) instead. Closing the generator early stops tshark.
    """
    exe = tshark or find_tshark()
    if exe is None:
        _fail(path, 1, "tshark is not installed", problems)
        return
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    last = 0
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                tshark_command(path, exe), stdout=subprocess.PIPE, stderr=err, env=env, text=True
            )
        except OSError as exc:
            _fail(path, 1, f"cannot run {exe}: {exc}", problems)
            return
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not line.startswith('{"timestamp"'):
                    continue  # the ek index lines in between
                packet = decode_ek(json.loads(line)["layers"])
                if packet is not None:
                    last = packet.frame
                    yield packet
            status = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if status != 0:
            err.seek(0)
            lines = [
                ln
                for ln in err.read().decode("utf-8", "replace").splitlines()
                if ln.strip() and "Running as user" not in ln
            ]
            _fail(path, last + 1, lines[-1] if lines else f"tshark exited with status {status}", problems)


def _fail(path: str, frame: int, detail: str, problems: list[SourceProblem] | None) -> None:
    if problems is None:
        raise TsharkError(f"{path}: {detail}")
    problems.append(SourceProblem(path, frame, 0, "unreadable", detail, fatal=True))


# ------------------------------------------------------------------------------------------------
# ek layers -> records
# ------------------------------------------------------------------------------------------------

Layer = dict[str, Any]


def _instances(layers: Layer, name: str) -> list[Layer]:
    value = layers.get(name)
    if value is None:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else [value]


def _values(layer: Layer, field: str) -> list[str]:
    """All values of ``field`` (a tshark field name such as ``vrrp.ip_addr``) in ``layer``."""
    proto = field.split(".", 1)[0]
    value = layer.get(f"{proto}_{field.replace('.', '_')}")
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [("1" if v else "0") if isinstance(v, bool) else str(v) for v in items if v is not None]


def _str(layer: Layer, field: str) -> str | None:
    values = _values(layer, field)
    return values[0] if values else None


def _int(layer: Layer, field: str) -> int | None:
    value = _str(layer, field)
    return int(value, 0) if value else None


def _req(layer: Layer, field: str) -> int:
    value = _int(layer, field)
    if value is None:
        raise KeyError(field)
    return value


def _raw(layers: Layer, name: str) -> bytes:
    value = layers.get(f"{name}_raw")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return bytes.fromhex(value) if isinstance(value, str) else b""


def decode_ek(layers: Layer) -> TsharkPacket | None:
    """Turn one ``tshark -T ek -x`` record's ``layers`` into a :class:`TsharkPacket`.

    Returns ``None`` when the frame has no top-level VRRP, CARP, ARP or ND layer (e.g. a VRRP header
    quoted inside an ICMP error).
    """
    frame = layers.get("frame")
    if not isinstance(frame, dict):
        return None
    number = _req(frame, "frame.number")
    time = float(_str(frame, "frame.time_epoch") or "nan")
    interface = _int(frame, "frame.interface_id") or 0
    interface_name = _str(frame, "frame.interface_name")
    if interface_name == "unknown":  # tshark's placeholder for an interface without if_name
        interface_name = None
    malformed = "_ws_malformed" in layers
    wirelen = _int(frame, "frame.len") or 0
    caplen = _int(frame, "frame.cap_len") or 0
    cut = max(wirelen - caplen, 0)
    link = _link(layers)
    if "arp" in layers:
        arp = _instances(layers, "arp")[-1]
        return TsharkPacket(
            number,
            time,
            interface,
            interface_name,
            Dissected(_with_ethertype(link, ETHERTYPE_ARP), None, _arp(arp, malformed)),
        )
    ip, ip_layer = _ip(layers)
    if ip is None:
        return None
    link = _with_ethertype(link, ETHERTYPE_IPV4 if ip.family == "ipv4" else ETHERTYPE_IPV6)
    message: Message | None
    if "vrrp" in layers:
        vrrp = _instances(layers, "vrrp")[-1]
        raw = _raw(layers, "vrrp")
        claimed = _claimed_len(ip, ip_layer, layers, raw, cut)
        message = _vrrp(vrrp, raw, claimed, ip)
    elif "icmpv6" in layers:
        icmp = _instances(layers, "icmpv6")[-1]
        message = _nd(icmp, malformed, cut)
    else:
        message = None
    if message is None:
        return None
    return TsharkPacket(number, time, interface, interface_name, Dissected(link, ip, message))


def _with_ethertype(link: LinkInfo, ethertype: int) -> LinkInfo:
    if link.ethertype == ethertype:
        return link
    return LinkInfo(link.src_mac, link.dst_mac, link.vlans, ethertype, link.ifindex)


def _link(layers: Layer) -> LinkInfo:
    """Link facts from tshark's eth/sll/vlan/ieee8021ad layers (raw IP: no addresses)."""
    src = dst = None
    ifindex = None
    ethertype = 0
    vlans: list[int] = []
    for key in layers:
        if key == "eth":
            eth = _instances(layers, "eth")[0]
            src, dst = _str(eth, "eth.src"), _str(eth, "eth.dst")
            ethertype = _int(eth, "eth.type") or ethertype
        elif key == "sll":
            sll = _instances(layers, "sll")[0]
            src = _str(sll, "sll.src.eth") if _int(sll, "sll.halen") == 6 else None
            ifindex = _int(sll, "sll.ifindex")
            ethertype = _int(sll, "sll.etype") or ethertype
        elif key == "ieee8021ad":
            for tag in _instances(layers, key):
                vlans.extend(int(v) for v in _values(tag, "ieee8021ad.id"))
        elif key == "vlan":
            for tag in _instances(layers, key):
                vlans.extend(int(v) for v in _values(tag, "vlan.id"))
                ethertype = _int(tag, "vlan.etype") or ethertype
    return LinkInfo(src, dst, tuple(vlans), ethertype, ifindex)


def _ip(layers: Layer) -> tuple[IpInfo | None, Layer]:
    """The IP header that carries the message: the last top-level ip/ipv6 layer, and AH."""
    chosen: tuple[str, Layer] | None = None
    for key in layers:
        if key in ("ip", "ipv6"):
            chosen = (key, _instances(layers, key)[-1])
    if chosen is None:
        return None, {}
    key, layer = chosen
    ah_info = None
    if "ah" in layers:
        ah = _instances(layers, "ah")[-1]
        icv = _str(ah, "ah.icv") or ""
        ah_info = AhInfo(
            _req(ah, "ah.next_header"),
            _req(ah, "ah.spi"),
            _req(ah, "ah.sequence"),
            bytes.fromhex(icv.replace(":", "")),
        )
    family: Family
    if key == "ip":
        family, src, dst, ttl = "ipv4", _str(layer, "ip.src"), _str(layer, "ip.dst"), _req(layer, "ip.ttl")
        proto = ah_info.next_header if ah_info else _req(layer, "ip.proto")
    else:
        family, src, dst, ttl = (
            "ipv6",
            _str(layer, "ipv6.src"),
            _str(layer, "ipv6.dst"),
            _req(layer, "ipv6.hlim"),
        )
        # The final next header (after any extension header) is the protocol tshark dissected.
        proto = ah_info.next_header if ah_info else (IPPROTO_ICMPV6 if "icmpv6" in layers else IPPROTO_VRRP)
    if src is None or dst is None:
        return None, {}
    return IpInfo(family, src, dst, ttl, proto, ipaddress.ip_address(dst).is_multicast, ah_info), layer


def _claimed_len(ip: IpInfo, ip_layer: Layer, layers: Layer, raw: bytes, cut: int) -> int:
    """Length the IP header gives the protocol-112 payload.

    IPv4: total length minus header and AH lengths. IPv6: the captured payload plus what the snap
    length cut (tshark bounds the VRRP bytes by the payload length already).
    """
    if ip.family == "ipv4":
        total = _int(ip_layer, "ip.len")
        hdr = _int(ip_layer, "ip.hdr_len")
        if total is not None and hdr is not None:
            ah_len = 0
            if ip.ah is not None:
                ah = _instances(layers, "ah")[-1]
                ah_len = ((_int(ah, "ah.length") or 0) + 2) * 4
            return max(total - hdr - ah_len, 0)
    return len(raw) + cut


# --- VRRP / CARP ---------------------------------------------------------------------------------


def _vrrp(vrrp: Layer, raw: bytes, claimed: int, ip: IpInfo) -> Message:
    family = ip.family
    if not raw or claimed <= 0:
        return Malformed("vrrp", "truncated", f"empty VRRP message ({claimed} bytes claimed)")
    if looks_like_carp(raw, claimed, family):
        return _carp(vrrp, raw)
    version = _int(vrrp, "vrrp.version")
    vtype = _int(vrrp, "vrrp.type")
    if version not in (2, 3):
        return Malformed("vrrp", "bad_version", f"tshark reads VRRP version {version}")
    if vtype != 1:
        return Malformed("vrrp", "bad_type", f"tshark reads VRRP packet type {vtype}")
    if version == 2 and family != "ipv4":
        return Malformed("vrrp", "ip_family_mismatch", "VRRP version 2 over IPv6")
    if len(raw) < VRRP_HEADER_LEN or claimed < VRRP_HEADER_LEN:
        return Malformed("vrrp", "truncated", f"VRRP header needs 8 bytes, {min(len(raw), claimed)} present")
    count = _req(vrrp, "vrrp.addr_count")
    addr_len = 4 if family == "ipv4" else 16
    covered = VRRP_HEADER_LEN + addr_len * count
    need = covered + (VRRP_V2_AUTH_LEN if version == 2 else 0)
    if claimed < need:
        return Malformed(
            "vrrp", "count_exceeds_length", f"count={count} needs {need} bytes, IP gives {claimed}"
        )
    if len(raw) < need:
        return Malformed("vrrp", "truncated", f"VRRP message of {need} bytes, {len(raw)} captured")
    status = _str(vrrp, "vrrp.checksum.status")
    trailer = claimed - need
    if version == 2:
        addresses = tuple(_values(vrrp, "vrrp.ip_addr"))
        if trailer == 0 and status in ("0", "1"):
            v2_variant: ChecksumVariant | None = "v2" if status == "1" else None
        else:
            v2_variant = "v2" if verify(ones_sum(raw[:need])) else None
        return VrrpV2Advert(
            vtype,
            _req(vrrp, "vrrp.virt_rtr_id"),
            _req(vrrp, "vrrp.prio"),
            count,
            _req(vrrp, "vrrp.auth_type"),
            _req(vrrp, "vrrp.adver_int"),
            _req(vrrp, "vrrp.checksum"),
            addresses,
            raw[covered:need],
            v2_variant,
            trailer,
        )
    addresses = tuple(_values(vrrp, "vrrp.ip_addr" if family == "ipv4" else "vrrp.ipv6_addr"))
    default: ChecksumVariant = "v3-ipv4-pseudo" if family == "ipv4" else "v3-ipv6"
    variant: ChecksumVariant | None
    if trailer == 0 and status == "1":
        variant = default
    elif trailer == 0 and status == "0" and family == "ipv6":
        variant = None
    else:
        variant = _v3_variant(raw, covered, claimed, ip)
    return VrrpV3Advert(
        vtype,
        _req(vrrp, "vrrp.virt_rtr_id"),
        _req(vrrp, "vrrp.prio"),
        count,
        _int(vrrp, "vrrp.reserved_mbz") or 0,
        _req(vrrp, "vrrp.short_adver_int"),
        _req(vrrp, "vrrp.checksum"),
        addresses,
        variant,
        trailer,
    )


def _v3_variant(message: bytes, covered: int, claimed: int, ip: IpInfo) -> ChecksumVariant | None:
    """Try the v3 checksum variants over ``covered`` bytes, then (trailer) over all ``claimed``."""
    src = ipaddress.ip_address(ip.src).packed
    dst = ipaddress.ip_address(ip.dst).packed
    for length in (covered, claimed) if covered < claimed <= len(message) else (covered,):
        body = ones_sum(message[:length])
        if ip.family == "ipv6":
            if verify(ones_sum(ipv6_pseudo_header(src, dst, IPPROTO_VRRP, length)), body):
                return "v3-ipv6"
            continue
        if verify(ones_sum(ipv4_pseudo_header(src, dst, IPPROTO_VRRP, length)), body):
            return "v3-ipv4-pseudo"
        if verify(body):
            return "v3-ipv4-plain"
        if dst != VRRP_IPV4_GROUP and verify(
            ones_sum(ipv4_pseudo_header(src, VRRP_IPV4_GROUP, IPPROTO_VRRP, length)), body
        ):
            return "v3-ipv4-pseudo-mcast"
    return None


def _carp(vrrp: Layer, raw: bytes) -> CarpAdvert | Malformed:
    """CARP from tshark's VRRP reading of the same bytes (see the module docstring)."""
    if len(raw) < CARP_COUNTER.stop + 20:
        return Malformed("carp", "truncated", f"CARP advertisement needs 36 bytes, {len(raw)} captured")
    return CarpAdvert(
        _req(vrrp, "vrrp.version"),
        _req(vrrp, "vrrp.type"),
        _req(vrrp, "vrrp.virt_rtr_id"),
        _req(vrrp, "vrrp.prio"),
        _req(vrrp, "vrrp.addr_count"),
        _req(vrrp, "vrrp.adver_int"),
        int.from_bytes(raw[CARP_COUNTER], "big"),
    )


# --- ARP / ND ------------------------------------------------------------------------------------


def _arp(arp: Layer, malformed: bool) -> ArpPacket | Malformed:
    hw, proto = _int(arp, "arp.hw.type"), _int(arp, "arp.proto.type")
    hw_size, proto_size = _int(arp, "arp.hw.size"), _int(arp, "arp.proto.size")
    if None not in (hw, proto, hw_size, proto_size) and (hw, proto, hw_size, proto_size) != (1, 0x0800, 6, 4):
        return Malformed(
            "arp",
            "unsupported_arp",
            f"hardware type {hw}, protocol 0x{proto or 0:04x}, hlen {hw_size}, plen {proto_size}",
        )
    fields = ("arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4")
    values = [_str(arp, f) for f in fields]
    op = _int(arp, "arp.opcode")
    if malformed or op is None or any(v is None for v in values) or hw is None or proto is None:
        return Malformed("arp", "truncated", "tshark could not read the whole ARP packet")
    sender_mac, sender_ip, target_mac, target_ip = (v or "" for v in values)
    return ArpPacket(op, sender_mac, sender_ip, target_mac, target_ip, hw, proto)


def _nd(icmp: Layer, malformed: bool, cut: int) -> NdMessage | Malformed | None:
    icmp_type = _int(icmp, "icmpv6.type")
    if icmp_type not in (135, 136):
        return None
    target = _str(icmp, "icmpv6.nd.na.target_address" if icmp_type == 136 else "icmpv6.nd.ns.target_address")
    if malformed or target is None:
        lengths = [int(v) for v in _values(icmp, "icmpv6.opt.length")]
        if 0 in lengths:
            return Malformed("nd", "bad_option_length", "an ND option of length 0")
        if cut == 0 and target is not None:
            return Malformed("nd", "option_exceeds_length", "an ND option reaches past the ICMPv6 message")
        return Malformed("nd", "truncated", "tshark could not read the whole ND message")
    is_na = icmp_type == 136

    def flag(name: str) -> bool:
        return is_na and _str(icmp, name) == "1"

    return NdMessage(
        icmp_type,
        _req(icmp, "icmpv6.code"),
        target,
        flag("icmpv6.nd.na.flag.r"),
        flag("icmpv6.nd.na.flag.s"),
        flag("icmpv6.nd.na.flag.o"),
        _str(icmp, "icmpv6.opt.src_linkaddr"),
        _str(icmp, "icmpv6.opt.target_linkaddr"),
        _req(icmp, "icmpv6.checksum"),
    )
