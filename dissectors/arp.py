"""ARP (RFC 826) for IPv4 over Ethernet.

Layout (28 bytes for Ethernet/IPv4)::

    hardware type(2) protocol type(2) hlen(1) plen(1) op(2)
    sender MAC(6) sender IP(4) target MAC(6) target IP(4)

Only hardware type 1 (Ethernet), protocol 0x0800, hlen 6, plen 4 is decoded; any other shape is
``Malformed(layer="arp", reason="unsupported_arp")`` with the four numbers in the detail. A body
cut before its end is ``truncated``. Ethernet padding after the 28 bytes is ignored. The Ethernet
source MAC is in :class:`~dissectors.records.LinkInfo`, beside ``sender_mac``, so detectors can
compare the two.
"""

from __future__ import annotations

import socket
import struct

from dissectors.records import ArpPacket, Malformed

ARP_HRD_ETHERNET = 1  # hardware type Ethernet (10 Mb)
ARP_PRO_IPV4 = 0x0800  # protocol type IPv4
ARP_FIXED_LEN = 8  # hardware type, protocol type, hlen, plen, op
ARP_ETHER_IPV4_LEN = 28  # fixed part + 2 * (6 + 4)

_ARP_FIXED = struct.Struct("!HHBBH")  # hardware type, protocol type, hlen, plen, op
_ARP_BODY = struct.Struct("!6s4s6s4s")  # sender MAC, sender IP, target MAC, target IP

_inet_ntoa = socket.inet_ntoa


def decode_arp(payload: bytes, offset: int = 0) -> ArpPacket | Malformed:
    """Decode an ARP packet (``payload`` starts at frame offset ``offset``). Never raises."""
    if len(payload) < ARP_FIXED_LEN:
        return Malformed(
            "arp",
            "truncated",
            f"ARP header needs {ARP_FIXED_LEN} bytes, {len(payload)} captured",
            offset + len(payload),
        )
    hardware_type, protocol_type, hlen, plen, op = _ARP_FIXED.unpack_from(payload, 0)
    if hardware_type != ARP_HRD_ETHERNET or protocol_type != ARP_PRO_IPV4 or hlen != 6 or plen != 4:
        return Malformed(
            "arp",
            "unsupported_arp",
            f"hardware type {hardware_type}, protocol 0x{protocol_type:04x}, hlen {hlen}, plen {plen}; "
            "only Ethernet/IPv4 (1, 0x0800, 6, 4) is decoded",
            offset,
        )
    if len(payload) < ARP_ETHER_IPV4_LEN:
        return Malformed(
            "arp",
            "truncated",
            f"ARP packet needs {ARP_ETHER_IPV4_LEN} bytes, {len(payload)} captured",
            offset + len(payload),
        )
    sha, spa, tha, tpa = _ARP_BODY.unpack_from(payload, ARP_FIXED_LEN)
    return ArpPacket(
        op, sha.hex(":"), _inet_ntoa(spa), tha.hex(":"), _inet_ntoa(tpa), hardware_type, protocol_type
    )
