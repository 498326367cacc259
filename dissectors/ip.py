"""IPv4 (RFC 791), IPv6 (RFC 8200) and IPsec AH (RFC 4302) as far as VRRP and ND need them.

Only packets that can carry one of our messages are decoded: IPv4 protocol 112 (VRRP/CARP),
IPv4 protocol 51 (AH) whose next header is 112 (keepalived ``auth_type AH``), and IPv6 whose header
chain ends in next header 112 or 58 (ICMPv6). Anything else is "not ours" and yields ``None``.

What is checked, and the stable :class:`~dissectors.records.Malformed` reasons (layer ``ipv4``,
``ipv6`` or ``ah``):

* ``truncated``: the fixed header (or IPv4 options, or IPv6 extension headers) is cut short by the
  capture or the IP length, and the protocol field is readable and says 112.
* ``bad_ihl``: IPv4 header length below 20 bytes. ``bad_total_length``: IPv4 total length smaller
  than the header.
* ``fragment``: IPv4 MF set or a non-zero fragment offset, IPv6 fragment header, for VRRP (and
  ICMPv6 ND in a first fragment). VRRP is never fragmented by a conforming sender; reassembly is
  out of scope.
* ``ah_truncated``: AH with next header 112 whose header or ICV is cut short; ``bad_ah_length``: an
  AH payload-length field giving fewer than the 12 fixed bytes.

The upper-layer payload ends where the IP header says (total length / payload length), bounded by
the captured bytes, so Ethernet padding is never mistaken for VRRP data. A payload the capture cut
short is passed on with its claimed length, so the upper layer can tell "the sender claimed too
many addresses" (count vs IP length) from "the capture was truncated" (snaplen).

IPv6 extension headers hop-by-hop (0), routing (43) and destination options (60) are skipped;
the IPv4 header checksum is not verified (outgoing packets captured on the sender often carry an
offloaded, not-yet-computed checksum).
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from dissectors.records import AhInfo, IpInfo, Malformed

IPPROTO_HOPOPTS = 0  # IPv6 hop-by-hop options
IPPROTO_ROUTING = 43  # IPv6 routing header
IPPROTO_FRAGMENT = 44  # IPv6 fragment header
IPPROTO_AH = 51  # IPsec Authentication Header (RFC 4302)
IPPROTO_ICMPV6 = 58  # ICMPv6 (RFC 4443)
IPPROTO_DSTOPTS = 60  # IPv6 destination options
IPPROTO_VRRP = 112  # VRRP (and CARP)

ICMPV6_NS = 135  # neighbour solicitation (RFC 4861 §4.3)
ICMPV6_NA = 136  # neighbour advertisement (RFC 4861 §4.4)

IPV4_HEADER_LEN = 20  # without options
IPV6_HEADER_LEN = 40
AH_FIXED_LEN = 12  # next header, payload length, reserved, SPI, sequence number

#: Extension headers skipped by length (RFC 8200 §4.3, §4.4, §4.6): (hdr ext len + 1) * 8 bytes.
IPV6_SKIPPED_EXTENSIONS = frozenset({IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS})

#: Upper bound on IPv6 extension headers walked before giving up (hostile chains).
MAX_IPV6_EXTENSIONS = 8

# ver|ihl, tos, total length, id, flags|fragment offset, ttl, protocol, checksum, src, dst
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_IPV6 = struct.Struct("!IHBB16s16s")  # ver|class|flow, payload length, next header, hop limit, src, dst
_AH = struct.Struct("!BBHII")  # next header, payload length (32-bit words - 2), reserved, SPI, sequence
_FRAG6 = struct.Struct("!BBHI")  # next header, reserved, offset(13)|res(2)|M(1), identification

_inet_ntoa = socket.inet_ntoa
_inet_ntop = socket.inet_ntop
_AF_INET6 = socket.AF_INET6


class IpLayer(NamedTuple):
    """A decoded IP header and where its upper-layer payload is (internal, not a record).

    ``payload`` holds the captured upper-layer bytes (after any AH), at most ``payload_len``;
    ``payload_len`` is the length the IP header claims for them. ``src_raw``/``dst_raw`` are the
    packed addresses, for checksum pseudo-headers.
    """

    info: IpInfo
    payload: bytes
    payload_offset: int
    payload_len: int
    src_raw: bytes
    dst_raw: bytes


class IpProblem(NamedTuple):
    """An IP packet that carries one of our protocols but is damaged: what was decoded, and why not."""

    info: IpInfo | None
    malformed: Malformed


IpResult = IpLayer | IpProblem | None


def parse_ah(
    data: bytes, offset: int, claimed_end: int, captured_end: int
) -> tuple[AhInfo, int] | Malformed | None:
    """Decode an AH header at ``offset`` whose IP payload ends at ``claimed_end`` (``captured_end``
    in the capture).

    Returns ``(AhInfo, AH length in bytes)``; ``None`` when the next header is not readable or not
    VRRP (ordinary IPsec traffic is not ours); a ``Malformed`` (layer ``ah``) when it carries VRRP
    but is cut short or has an impossible length.
    """
    if captured_end - offset < 1 or claimed_end - offset < 1:
        return None
    next_header = data[offset]
    if next_header != IPPROTO_VRRP:
        return None
    if captured_end - offset < 2:
        return Malformed("ah", "ah_truncated", "AH header cut after 1 byte of 12", captured_end)
    ah_len = (data[offset + 1] + 2) * 4
    if ah_len < AH_FIXED_LEN:
        return Malformed(
            "ah",
            "bad_ah_length",
            f"AH payload length {data[offset + 1]} gives {ah_len} bytes, minimum 12",
            offset + 1,
        )
    if claimed_end - offset < ah_len:
        return Malformed(
            "ah",
            "ah_truncated",
            f"AH header claims {ah_len} bytes, IP payload has {claimed_end - offset}",
            offset + 1,
        )
    if captured_end - offset < ah_len:
        return Malformed(
            "ah",
            "ah_truncated",
            f"AH header of {ah_len} bytes, {captured_end - offset} captured",
            captured_end,
        )
    _nh, _plen, _res, spi, sequence = _AH.unpack_from(data, offset)
    return AhInfo(next_header, spi, sequence, data[offset + AH_FIXED_LEN : offset + ah_len]), ah_len


def parse_ipv4(data: bytes, offset: int) -> IpResult:
    """Decode the IPv4 packet starting at ``offset`` of the frame ``data``.

    Returns an :class:`IpLayer` for VRRP (protocol 112, or 51 with AH next header 112), an
    :class:`IpProblem` when such a packet is damaged, ``None`` otherwise. Never raises.
    """
    avail = len(data) - offset
    if avail < 10 or data[offset] >> 4 != 4:
        return None
    proto = data[offset + 9]
    if proto != IPPROTO_VRRP and proto != IPPROTO_AH:
        return None
    is_vrrp = proto == IPPROTO_VRRP
    if avail < IPV4_HEADER_LEN:
        if is_vrrp:
            return IpProblem(
                None,
                Malformed("ipv4", "truncated", f"IPv4 header needs 20 bytes, {avail} captured", len(data)),
            )
        return None
    ver_ihl, _tos, total, _ident, frag, ttl, proto, _csum, src, dst = _IPV4.unpack_from(data, offset)
    ihl = (ver_ihl & 0x0F) * 4
    if ihl < IPV4_HEADER_LEN:
        if is_vrrp:
            return IpProblem(
                None, Malformed("ipv4", "bad_ihl", f"IHL={ihl // 4} gives {ihl} bytes, minimum 20", offset)
            )
        return None
    if avail < ihl:
        if is_vrrp:
            return IpProblem(
                None,
                Malformed(
                    "ipv4",
                    "truncated",
                    f"IPv4 header with options needs {ihl} bytes, {avail} captured",
                    len(data),
                ),
            )
        return None
    info = IpInfo("ipv4", _inet_ntoa(src), _inet_ntoa(dst), ttl, proto, 224 <= dst[0] <= 239)
    payload_offset = offset + ihl
    claimed_end = offset + total
    captured_end = claimed_end if claimed_end <= len(data) else len(data)
    if total < ihl:
        if is_vrrp or (avail > ihl and data[payload_offset] == IPPROTO_VRRP):
            return IpProblem(
                info,
                Malformed(
                    "ipv4", "bad_total_length", f"total length {total} < header length {ihl}", offset + 2
                ),
            )
        return None
    if frag & 0x3FFF:
        more = 1 if frag & 0x2000 else 0
        frag_offset = (frag & 0x1FFF) * 8
        if not is_vrrp:
            if frag_offset or captured_end <= payload_offset or data[payload_offset] != IPPROTO_VRRP:
                return None
        return IpProblem(
            info,
            Malformed(
                "ipv4",
                "fragment",
                f"IPv4 fragment: offset {frag_offset} bytes, MF={more}; not reassembled",
                offset + 6,
            ),
        )
    if not is_vrrp:
        ah = parse_ah(data, payload_offset, claimed_end, captured_end)
        if ah is None:
            return None
        if isinstance(ah, Malformed):
            return IpProblem(info, ah)
        ah_info, ah_len = ah
        info = IpInfo("ipv4", info.src, info.dst, ttl, IPPROTO_VRRP, info.multicast, ah_info)
        payload_offset += ah_len
    return IpLayer(
        info, data[payload_offset:captured_end], payload_offset, claimed_end - payload_offset, src, dst
    )


def parse_ipv6(data: bytes, offset: int) -> IpResult:
    """Decode the IPv6 packet starting at ``offset`` of the frame ``data``.

    Walks hop-by-hop, routing and destination-options headers and AH. Returns an :class:`IpLayer`
    when the chain ends in VRRP (112) or ICMPv6 (58; the caller decides whether it is ND), an
    :class:`IpProblem` for damaged VRRP (or fragmented ND), ``None`` otherwise. Never raises.
    """
    avail = len(data) - offset
    if avail < 7 or data[offset] >> 4 != 6:
        return None
    if avail < IPV6_HEADER_LEN:
        if data[offset + 6] == IPPROTO_VRRP:
            return IpProblem(
                None,
                Malformed("ipv6", "truncated", f"IPv6 header needs 40 bytes, {avail} captured", len(data)),
            )
        return None
    _vtf, plen, nh, hop_limit, src, dst = _IPV6.unpack_from(data, offset)
    if (
        nh != IPPROTO_VRRP
        and nh != IPPROTO_ICMPV6
        and nh not in IPV6_SKIPPED_EXTENSIONS
        and nh not in (IPPROTO_FRAGMENT, IPPROTO_AH)
    ):
        return None
    src_text = _inet_ntop(_AF_INET6, src)
    dst_text = _inet_ntop(_AF_INET6, dst)
    multicast = dst[0] == 0xFF
    pos = offset + IPV6_HEADER_LEN
    claimed_end = pos + plen
    captured_end = claimed_end if claimed_end <= len(data) else len(data)
    ah_info: AhInfo | None = None
    for _ in range(MAX_IPV6_EXTENSIONS + 1):
        if nh == IPPROTO_VRRP or nh == IPPROTO_ICMPV6:
            break
        if nh in IPV6_SKIPPED_EXTENSIONS:
            if captured_end - pos < 2:
                return None
            nh, pos = data[pos], pos + (data[pos + 1] + 1) * 8
        elif nh == IPPROTO_FRAGMENT:
            if captured_end - pos < 8:
                return None
            frag_nh, _res, frag_field, _ident = _FRAG6.unpack_from(data, pos)
            frag_offset = (frag_field >> 3) * 8
            more = frag_field & 1
            first_is_nd = (
                frag_nh == IPPROTO_ICMPV6
                and frag_offset == 0
                and captured_end > pos + 8
                and data[pos + 8] in (ICMPV6_NS, ICMPV6_NA)
            )
            if frag_nh == IPPROTO_VRRP or first_is_nd:
                info = IpInfo("ipv6", src_text, dst_text, hop_limit, frag_nh, multicast)
                return IpProblem(
                    info,
                    Malformed(
                        "ipv6",
                        "fragment",
                        f"IPv6 fragment: offset {frag_offset} bytes, M={more}; not reassembled",
                        pos,
                    ),
                )
            return None
        elif nh == IPPROTO_AH:
            ah = parse_ah(data, pos, claimed_end, captured_end)
            if ah is None:
                return None
            if isinstance(ah, Malformed):
                return IpProblem(IpInfo("ipv6", src_text, dst_text, hop_limit, IPPROTO_AH, multicast), ah)
            ah_info, ah_len = ah
            nh = ah_info.next_header
            pos += ah_len
        else:
            return None
    else:
        return None
    info = IpInfo("ipv6", src_text, dst_text, hop_limit, nh, multicast, ah_info)
    if pos > captured_end:
        # The last extension header reaches past the captured bytes or the payload length.
        if nh != IPPROTO_VRRP:
            return None
        have, where = (claimed_end, "payload length") if claimed_end < pos else (captured_end, "capture")
        return IpProblem(
            info,
            Malformed(
                "ipv6",
                "truncated",
                f"extension headers end at byte {pos - offset}, {where} ends at {have - offset}",
                captured_end,
            ),
        )
    return IpLayer(info, data[pos:captured_end], pos, claimed_end - pos, src, dst)
