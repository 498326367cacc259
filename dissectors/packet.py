"""Frame-level entry points: :func:`is_candidate` (fast pre-filter) and :func:`dissect`.

``dissect(linktype, data)`` normalises the link layer (:mod:`dissectors.link`), decodes IPv4/IPv6
and AH (:mod:`dissectors.ip`), and hands the payload to the one decoder its protocol selects:
ARP (:mod:`dissectors.arp`), protocol 112 (:mod:`dissectors.vrrp`, which recognises CARP), or
ICMPv6 ND (:mod:`dissectors.nd`). It returns ``None`` for every frame that is not VRRP, CARP, ARP
or ND, and a :class:`~dissectors.records.Dissected` otherwise, whose message is a
:class:`~dissectors.records.Malformed` when the frame is one of ours but damaged.

``dissect`` never raises: decoders are written not to, and a safety net turns any unexpected
exception into ``Malformed(layer="decoder", reason="internal_error")``. Tests use
:func:`decode_frame` (or ``dissect(..., strict=True)``), which has no safety net, so a decoder bug
fails the test instead of hiding in a record (the role of scapy's ``conf.debug_dissector``).
"""

from __future__ import annotations

from dissectors.arp import decode_arp
from dissectors.ip import IPPROTO_VRRP, IpProblem, parse_ipv4, parse_ipv6
from dissectors.link import (
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    MAX_VLAN_TAGS,
    parse_link,
)
from dissectors.nd import decode_nd
from dissectors.records import Dissected, LinkInfo, Malformed
from dissectors.vrrp import decode_vrrp

# Byte patterns compared by is_candidate (ethertypes as they appear on the wire).
_ET_IPV4 = b"\x08\x00"
_ET_IPV6 = b"\x86\xdd"
_ET_ARP = b"\x08\x06"
_ET_VLAN_TAGS = frozenset({b"\x81\x00", b"\x88\xa8", b"\x91\x00"})
_V4_PROTOS = frozenset({112, 51})  # VRRP/CARP, AH (keepalived auth_type AH)
_V6_NEXT_HEADERS = frozenset({112, 0, 43, 44, 51, 60})  # VRRP; extension headers: be conservative
_ND_TYPES = frozenset({135, 136})
_REJECT = -1  # _scan: not a candidate
_OTHER = -2  # _scan: a candidate that is not IPv4

#: Most entries before the frame cache is emptied (bounds memory on hostile or varied input).
CACHE_SIZE = 4096

# Decoded frames by (link type, frame length, frame bytes without the IPv4 identification and
# header checksum; the length keeps frames cut inside those fields apart). VRRP adverts and
# gratuitous ARPs repeat byte for byte apart from those two fields, and records are immutable, so a
# repeated frame returns the same Dissected object. No decoder reads the IPv4 identification or
# header checksum; one that starts to must change the key.
_cache: dict[tuple[int, int, bytes], Dissected] = {}


def _v6_candidate(data: bytes, p: int, end: int) -> bool:
    """IPv6 at ``p``: VRRP, ICMPv6 NS/NA, or an extension header (conservatively accepted)."""
    if p + 6 >= end:
        return False
    nh = data[p + 6]
    if nh == 58:
        return p + 40 < end and data[p + 40] in _ND_TYPES
    return nh in _V6_NEXT_HEADERS


def _scan_at(linktype: int, data: bytes, base: int, end: int) -> int:
    """The walk behind :func:`is_candidate` and :func:`candidate_at`, on ``data[base:end]``.

    Never reads outside ``[base, end)``, so a frame can be tested in place inside a larger buffer.
    Returns :data:`_REJECT` for a frame that is certainly not ours, the offset of the IPv4 header
    (relative to ``base``) for an IPv4 candidate, :data:`_OTHER` for any other candidate (ARP,
    IPv6). Never raises for ``0 <= base <= end <= len(data)``.
    """
    if linktype == LINKTYPE_ETHERNET:
        p = base + 14
    elif linktype == LINKTYPE_LINUX_SLL2:
        if base + 20 > end:
            # Too short for the link header: only the protocol field can still be compared.
            return _OTHER if base + 2 <= end and data[base : base + 2] == _ET_ARP else _REJECT
        p = base + 20
        et = data[base : base + 2]
    elif linktype == LINKTYPE_LINUX_SLL:
        p = base + 16
    elif linktype == LINKTYPE_RAW:
        if base >= end:
            return _REJECT
        version = data[base] >> 4
        if version == 4:
            return 0 if base + 9 < end and data[base + 9] in _V4_PROTOS else _REJECT
        return _OTHER if version == 6 and _v6_candidate(data, base, end) else _REJECT
    elif linktype == LINKTYPE_IPV4:
        return 0 if base + 9 < end and data[base + 9] in _V4_PROTOS else _REJECT
    elif linktype == LINKTYPE_IPV6:
        return _OTHER if _v6_candidate(data, base, end) else _REJECT
    else:
        return _REJECT
    if linktype != LINKTYPE_LINUX_SLL2:
        if p > end:
            return _REJECT
        et = data[p - 2 : p]
    tags = 0
    while et in _ET_VLAN_TAGS and tags < MAX_VLAN_TAGS:
        if p + 4 > end:
            return _REJECT
        et = data[p + 2 : p + 4]
        p += 4
        tags += 1
    if et == _ET_IPV4:
        return p - base if p + 9 < end and data[p + 9] in _V4_PROTOS else _REJECT
    if et == _ET_IPV6:
        return _OTHER if _v6_candidate(data, p, end) else _REJECT
    return _OTHER if et == _ET_ARP else _REJECT


def _scan(linktype: int, data: bytes) -> int:
    """:func:`_scan_at` on a whole frame."""
    return _scan_at(linktype, data, 0, len(data))


def is_candidate(linktype: int, data: bytes) -> bool:
    """Cheap pre-filter: False for frames that certainly are not VRRP, CARP, ARP or IPv6 ND.

    A few byte comparisons: link header, VLAN tags, IPv4 protocol (112 or 51), IPv6 next header
    (112, ICMPv6 type 135/136, or any extension header). True does not promise that
    :func:`dissect` returns a record; False promises it returns ``None``. Never raises.
    """
    return _scan_at(linktype, data, 0, len(data)) != _REJECT


def candidate_at(linktype: int, buf: bytes, start: int, end: int) -> bool:
    """:func:`is_candidate` for the frame ``buf[start:end]``, tested in place (no copy).

    Same answer as ``is_candidate(linktype, bytes(buf[start:end]))`` (one implementation); lets a
    capture reader test a record inside its read buffer before deciding to slice it out.
    ``0 <= start <= end <= len(buf)`` is the caller's promise. Never raises.
    """
    return _scan_at(linktype, buf, start, end) != _REJECT


def decode_frame(linktype: int, data: bytes) -> Dissected | None:
    """Decode a frame without pre-filter or safety net (strict: a decoder bug raises).

    Same results as :func:`dissect` for every input on which no decoder has a bug.
    """
    link = parse_link(linktype, data)
    if link is None:
        return None
    info, offset = link
    ethertype = info.ethertype
    if ethertype == ETHERTYPE_ARP:
        return Dissected(info, None, decode_arp(data[offset:], offset))
    ip = parse_ipv4(data, offset) if ethertype == ETHERTYPE_IPV4 else parse_ipv6(data, offset)
    if ip is None:
        return None
    if isinstance(ip, IpProblem):
        return Dissected(info, ip.info, ip.malformed)
    ip_info = ip.info
    if ip_info.proto == IPPROTO_VRRP:
        message = decode_vrrp(
            ip.payload,
            family=ip_info.family,
            src=ip.src_raw,
            dst=ip.dst_raw,
            claimed_len=ip.payload_len,
            offset=ip.payload_offset,
        )
        return Dissected(info, ip_info, message)
    nd = decode_nd(ip.payload, ip.payload_len, ip.payload_offset)
    if nd is None:
        return None
    return Dissected(info, ip_info, nd)


def dissect(linktype: int, data: bytes, *, strict: bool = False) -> Dissected | None:
    """Decode one captured frame of link type ``linktype``.

    Returns ``None`` when the frame is not VRRP/CARP/ARP/ND (or the link type is unknown), else a
    :class:`~dissectors.records.Dissected`. Never raises unless ``strict`` is true, in which case
    an unexpected internal exception propagates (for tests).

    Repeated frames (same bytes apart from the IPv4 identification and header checksum) return the
    same, immutable, :class:`~dissectors.records.Dissected` from a bounded cache.
    """
    if data.__class__ is not bytes:  # bytearray/memoryview from a caller: hashable, sliceable copy
        data = bytes(data)
    ip_offset = _scan(linktype, data)
    if ip_offset == _REJECT:
        return None
    if ip_offset >= 0:
        p = ip_offset
        key = (linktype, len(data), data[: p + 4] + data[p + 6 : p + 10] + data[p + 12 :])
    else:
        key = (linktype, len(data), data)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    if strict:
        result = decode_frame(linktype, data)
    else:
        try:
            result = decode_frame(linktype, data)
        except Exception as exc:  # safety net: the contract is "never raises"
            return Dissected(
                LinkInfo(None, None, (), 0),
                None,
                Malformed("decoder", "internal_error", f"{type(exc).__name__}: {exc}", 0),
            )
    if result is not None:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = result
    return result


def clear_cache() -> None:
    """Forget the decoded frames :func:`dissect` keeps (tests, memory pressure)."""
    _cache.clear()
