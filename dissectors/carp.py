"""CARP (OpenBSD/FreeBSD Common Address Redundancy Protocol) — told apart from VRRPv2.

CARP uses IP protocol 112 and the multicast group 224.0.0.18 / ff02::12 like VRRP, and its first
byte is ``0x21`` (version 2, type 1 ADVERTISEMENT), exactly as a VRRPv2 advertisement. The layout
then differs (OpenBSD ``netinet/ip_carp.h``; scapy ``contrib/carp.py``)::

    0      version(4) | type(4)      1  vhid       2  advskew     3  authlen
    4      demote (pad1)             5  advbase    6  checksum (16)
    8      counter (64 bits)
    16     HMAC-SHA1 (20 bytes)                                          total 36 bytes

Heuristic (:func:`looks_like_carp`): a protocol-112 message is CARP when

1. it starts with ``0x21`` and the IP header gives it exactly 36 bytes, and
2. over IPv6 — VRRPv2 is IPv4-only (RFC 3768), so a version-2 message there can only be CARP; or
3. over IPv4, the VRRPv2 reading is inconsistent with 36 bytes — a VRRPv2 message is
   ``8 + 4·count + 8`` bytes, i.e. 36 only for count 5 (byte 3), which is therefore read as VRRP —
   and the CARP reading is plausible: ``authlen`` (byte 3) is 7, the value every CARP
   implementation sends (36 bytes = 9 words, minus the 2-word header), or the one's complement
   checksum over all 36 bytes validates (CARP's checksum covers the whole message, HMAC included,
   while a VRRPv2 checksum would cover only ``16 + 4·count`` bytes).

A damaged VRRPv2 advert claiming 7 addresses in a 36-byte packet is thus read as CARP; that is the
accepted price (it could not have been decoded as VRRP either).

Wireshark (``packet-carp.c``) is looser on length and stricter on authlen: its heuristic, off the
default path (``ip.try_heuristic_first``), takes any capture of at least 36 bytes with authlen 7,
so it reads a genuine 44-byte VRRPv2 advert with 7 addresses as CARP. The exact-length rule here
keeps that advert VRRP.
"""

from __future__ import annotations

import struct

from dissectors.checksum import ones_sum, verify
from dissectors.records import CarpAdvert, Family, Malformed

CARP_LENGTH = 36  # header 8 + counter 8 + HMAC-SHA1 20
CARP_VERSION_TYPE = 0x21  # version 2, type 1 (advertisement)
CARP_AUTHLEN = 7  # authlen every implementation sends: (36 / 4) - 2 32-bit words
VRRPV2_COUNT_AT_36 = 5  # the VRRPv2 address count that makes a 36-byte message (8 + 4*5 + 8)

# ver|type, vhid, advskew, authlen, demote, advbase, checksum, counter, HMAC-SHA1
_CARP = struct.Struct("!BBBBBBHQ20s")


def looks_like_carp(message: bytes, claimed_len: int, family: Family) -> bool:
    """Apply the module's CARP-vs-VRRPv2 heuristic to a protocol-112 payload.

    ``message`` is the captured payload, ``claimed_len`` the length the IP header gives it.
    """
    if claimed_len != CARP_LENGTH or not message or message[0] != CARP_VERSION_TYPE:
        return False
    if family == "ipv6":
        return True
    if len(message) < 4:
        return False
    count = message[3]
    if count == VRRPV2_COUNT_AT_36:
        return False
    if count == CARP_AUTHLEN:
        return True
    return len(message) >= CARP_LENGTH and verify(ones_sum(message[:CARP_LENGTH]))


def decode_carp(message: bytes, offset: int = 0) -> CarpAdvert | Malformed:
    """Decode a CARP advertisement (``message`` starts at frame offset ``offset``).

    Returns ``Malformed(layer="carp", reason="truncated")`` when fewer than 36 bytes were captured.
    """
    if len(message) < CARP_LENGTH:
        return Malformed(
            "carp",
            "truncated",
            f"CARP advertisement needs {CARP_LENGTH} bytes, {len(message)} captured",
            offset + len(message),
        )
    ver_type, vhid, advskew, authlen, _demote, advbase, _csum, counter, _hmac = _CARP.unpack_from(message, 0)
    return CarpAdvert(ver_type >> 4, ver_type & 0x0F, vhid, advskew, authlen, advbase, counter)
