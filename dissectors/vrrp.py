"""VRRP advertisements: version 2 (RFC 3768 §5.1) and version 3 (RFC 5798 / RFC 9568 §5.1).

Wire layouts (one row = 32 bits)::

    v2:  Version=2|Type | VRID | Priority | Count IP Addrs
         Auth Type | Adver Int (s) | Checksum
         IPv4 Address × count ; Authentication Data (8 bytes)         length 8 + 4n + 8
    v3:  Version=3|Type | VRID | Priority | IPvX Addr Count
         Rsvd(4)|Max Adver Int (12 bits, cs) | Checksum
         IPvX Address × count (4 or 16 bytes, the IP header's family)  length 8 + 4n | 8 + 16n

Dispatch is on the version nibble; a v3 message is never read with the v2 layout. CARP (also
protocol 112, first byte 0x21) is recognised first, see :mod:`dissectors.carp`.

The message ends where the IP header says (``claimed_len``); bytes after the v2 authentication
data or after the last v3 address are ``trailer`` bytes (keepalived ``auth_hmac``: 28), never
covered by the checksum. Checksums (PROTOCOL.md §9.3) are tried in
:data:`~dissectors.records.CHECKSUM_VARIANTS` order; the first that validates is reported:

* v2: ``v2`` — one's complement over the message including the 8 authentication bytes.
* v3 over IPv6: ``v3-ipv6`` — RFC 8200 §8.1 pseudo-header with the real source and destination.
* v3 over IPv4: ``v3-ipv4-pseudo`` (pseudo-header with the real addresses; keepalived/FRR default),
  ``v3-ipv4-plain`` (message only; RFC 9568 §5.2.8), ``v3-ipv4-pseudo-mcast`` (pseudo-header with
  destination 224.0.0.18 although the packet is unicast; keepalived < 1.3.6 ``old_unicast_checksum``,
  tried only for a destination other than 224.0.0.18).

When a trailer is present, each variant is also tried over the whole payload (pseudo-header length
included), as a kernel-computed IPv6 checksum (``IPV6_CHECKSUM``) would cover it.

Malformed reasons (layer ``vrrp``; ``offset`` = frame offset of the offending field or of the end of
the captured data): ``truncated`` (header, or addresses the IP header promises but the capture cut),
``count_exceeds_length`` (the IP length cannot hold the claimed addresses), ``bad_version``
(version nibble not 2 or 3), ``bad_type`` (type not 1; RFC 9568 §5.2.2: MUST be discarded),
``ip_family_mismatch`` (a version-2 message over IPv6, which is not CARP).
Checksum failures, priority, count 0, TTL and interval values are *not* malformations: they are
fields on the record for the detectors to judge.
"""

from __future__ import annotations

import socket
import struct

from dissectors.carp import decode_carp, looks_like_carp
from dissectors.checksum import ipv4_pseudo_header, ipv6_pseudo_header, ones_sum, verify
from dissectors.records import (
    CarpAdvert,
    ChecksumVariant,
    Family,
    Malformed,
    VrrpV2Advert,
    VrrpV3Advert,
)

VRRP_TYPE_ADVERTISEMENT = 1  # the only defined type (RFC 3768 §5.3.2, RFC 9568 §5.2.2)
VRRP_HEADER_LEN = 8  # fixed part before the addresses
VRRP_V2_AUTH_LEN = 8  # v2 authentication data, always present (RFC 3768 §5.3.10)
IPPROTO_VRRP = 112  # protocol number in the pseudo-headers
VRRP_IPV4_GROUP = socket.inet_aton("224.0.0.18")  # destination of the old unicast checksum variant

_V2 = struct.Struct("!BBBBBBH")  # ver|type, vrid, priority, count, auth type, adver int, checksum
_V3 = struct.Struct("!BBBBHH")  # ver|type, vrid, priority, count, rsvd|max adver int, checksum

_inet_ntoa = socket.inet_ntoa
_inet_ntop = socket.inet_ntop
_AF_INET6 = socket.AF_INET6


def _v3_checksum_variant(
    message: bytes, covered: int, claimed_len: int, family: Family, src: bytes, dst: bytes
) -> ChecksumVariant | None:
    """Return the first v3 checksum variant that validates ``message`` (None if none does).

    ``covered`` is the length from Version through the last address; when the message is longer
    (a trailer, fully captured), the variants are tried again over the whole payload.
    """
    msg_sum = ones_sum(message[:covered])
    if family == "ipv6":
        if verify(ones_sum(ipv6_pseudo_header(src, dst, IPPROTO_VRRP, covered)), msg_sum):
            return "v3-ipv6"
    else:
        if verify(ones_sum(ipv4_pseudo_header(src, dst, IPPROTO_VRRP, covered)), msg_sum):
            return "v3-ipv4-pseudo"
        if verify(msg_sum):
            return "v3-ipv4-plain"
        if dst != VRRP_IPV4_GROUP and verify(
            ones_sum(ipv4_pseudo_header(src, VRRP_IPV4_GROUP, IPPROTO_VRRP, covered)), msg_sum
        ):
            return "v3-ipv4-pseudo-mcast"
    if covered < claimed_len <= len(message):
        return _v3_checksum_variant(message, claimed_len, claimed_len, family, src, dst)
    return None


def _short(
    message: bytes, claimed_len: int, count: int, addr_len: int, auth_len: int, offset: int
) -> Malformed | None:
    """Return the Malformed for a message too short for ``count`` addresses (and ``auth_len``
    authentication bytes), or None when it is long enough.
    """
    need = VRRP_HEADER_LEN + addr_len * count + auth_len
    if claimed_len < need:
        extra = f" + {auth_len} auth bytes" if auth_len else ""
        return Malformed(
            "vrrp",
            "count_exceeds_length",
            f"count={count} needs {addr_len * count} address bytes{extra}, "
            f"{max(claimed_len - VRRP_HEADER_LEN, 0)} present",
            offset + 3,
        )
    if len(message) < need:
        return Malformed(
            "vrrp",
            "truncated",
            f"VRRP message of {need} bytes, {len(message)} captured",
            offset + len(message),
        )
    return None


def decode_vrrp(
    message: bytes,
    *,
    family: Family,
    src: bytes,
    dst: bytes,
    claimed_len: int | None = None,
    offset: int = 0,
) -> VrrpV2Advert | VrrpV3Advert | CarpAdvert | Malformed:
    """Decode a protocol-112 payload: VRRPv2, VRRPv3 or CARP.

    ``message`` is the captured payload (starting at frame offset ``offset``), ``claimed_len`` the
    length the IP header gives it (default: ``len(message)``; longer captured data is cut to it).
    ``src``/``dst`` are the packed IP addresses, used by the v3 checksum pseudo-headers.
    Never raises.
    """
    if claimed_len is None or claimed_len < 0:
        claimed_len = len(message)
    if len(message) > claimed_len:
        message = message[:claimed_len]
    if not message:
        return Malformed(
            "vrrp", "truncated", f"empty VRRP message ({claimed_len} bytes claimed, 0 captured)", offset
        )
    ver_type = message[0]
    version = ver_type >> 4
    if ver_type == 0x21 and looks_like_carp(message, claimed_len, family):
        return decode_carp(message, offset)
    if version != 2 and version != 3:
        return Malformed("vrrp", "bad_version", f"version={version}, expected 2 or 3", offset)
    if ver_type & 0x0F != VRRP_TYPE_ADVERTISEMENT:
        return Malformed(
            "vrrp", "bad_type", f"type={ver_type & 0x0F}, only 1 (advertisement) is defined", offset
        )
    if version == 2 and family != "ipv4":
        return Malformed("vrrp", "ip_family_mismatch", "VRRP version 2 over IPv6 (v2 is IPv4 only)", offset)
    if len(message) < VRRP_HEADER_LEN or claimed_len < VRRP_HEADER_LEN:
        have = min(len(message), claimed_len)
        return Malformed("vrrp", "truncated", f"VRRP header needs 8 bytes, {have} present", offset + have)
    if version == 2:
        _vt, vrid, priority, count, auth_type, advert_int, checksum = _V2.unpack_from(message, 0)
        addr_end = VRRP_HEADER_LEN + 4 * count
        need = addr_end + VRRP_V2_AUTH_LEN
        short = _short(message, claimed_len, count, 4, VRRP_V2_AUTH_LEN, offset)
        if short is not None:
            return short
        addresses = tuple([_inet_ntoa(message[i : i + 4]) for i in range(VRRP_HEADER_LEN, addr_end, 4)])
        variant: ChecksumVariant | None = "v2" if verify(ones_sum(message[:need])) else None
        return VrrpV2Advert(
            ver_type & 0x0F,
            vrid,
            priority,
            count,
            auth_type,
            advert_int,
            checksum,
            addresses,
            message[addr_end:need],
            variant,
            claimed_len - need,
        )
    _vt, vrid, priority, count, rsvd_int, checksum = _V3.unpack_from(message, 0)
    if family == "ipv4":
        need = VRRP_HEADER_LEN + 4 * count
        short = _short(message, claimed_len, count, 4, 0, offset)
        if short is not None:
            return short
        addresses = tuple([_inet_ntoa(message[i : i + 4]) for i in range(VRRP_HEADER_LEN, need, 4)])
    else:
        need = VRRP_HEADER_LEN + 16 * count
        short = _short(message, claimed_len, count, 16, 0, offset)
        if short is not None:
            return short
        addresses = tuple(
            [_inet_ntop(_AF_INET6, message[i : i + 16]) for i in range(VRRP_HEADER_LEN, need, 16)]
        )
    return VrrpV3Advert(
        ver_type & 0x0F,
        vrid,
        priority,
        count,
        rsvd_int >> 12,
        rsvd_int & 0x0FFF,
        checksum,
        addresses,
        _v3_checksum_variant(message, need, claimed_len, family, src, dst),
        claimed_len - need,
    )
