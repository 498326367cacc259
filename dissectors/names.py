"""Display names for the enumerated values the records keep as plain ``int``.

Records never hold names: a code the tables do not know stays an ``int`` everywhere, and
:func:`name_of` returns it unchanged, so unknown values remain visible and representable.
:data:`MALFORMED_REASONS` is the catalogue of the stable ``Malformed.reason`` ids the dissectors
emit, with a one-line meaning each (for documentation and ``--help`` texts).
"""

from __future__ import annotations

from collections.abc import Mapping

#: VRRP message types (RFC 3768 §5.3.2, RFC 9568 §5.2.2).
VRRP_TYPE_NAMES: Mapping[int, str] = {1: "advertisement"}

#: VRRPv2 authentication types (RFC 3768 §5.3.6; 1 and 2 from RFC 2338).
VRRP_AUTH_TYPE_NAMES: Mapping[int, str] = {0: "none", 1: "simple", 2: "ah"}

#: ARP operation codes (RFC 826, RFC 903 RARP, RFC 2390 InARP).
ARP_OP_NAMES: Mapping[int, str] = {
    1: "request",
    2: "reply",
    3: "rarp-request",
    4: "rarp-reply",
    8: "inarp-request",
    9: "inarp-reply",
}

#: ICMPv6 neighbour-discovery message types (RFC 4861 §4).
ND_TYPE_NAMES: Mapping[int, str] = {
    133: "router-solicitation",
    134: "router-advertisement",
    135: "neighbor-solicitation",
    136: "neighbor-advertisement",
    137: "redirect",
}

#: Short labels of the two ND types the dissector reports.
ND_TYPE_SHORT: Mapping[int, str] = {135: "NS", 136: "NA"}

#: Neighbour-discovery option types (RFC 4861 §4.6).
ND_OPTION_NAMES: Mapping[int, str] = {
    1: "source-link-layer-address",
    2: "target-link-layer-address",
    3: "prefix-information",
    4: "redirected-header",
    5: "mtu",
    14: "nonce",
}

#: Ethertypes met while normalising link layers.
ETHERTYPE_NAMES: Mapping[int, str] = {
    0x0800: "ipv4",
    0x0806: "arp",
    0x86DD: "ipv6",
    0x8100: "802.1q",
    0x88A8: "802.1ad",
    0x9100: "qinq",
}

#: IP protocol / IPv6 next-header numbers that matter here.
IP_PROTOCOL_NAMES: Mapping[int, str] = {
    0: "hopopts",
    43: "routing",
    44: "fragment",
    51: "ah",
    58: "icmpv6",
    60: "dstopts",
    112: "vrrp",
}

#: Link types (tcpdump.org/linktypes.html) the dissectors understand.
LINKTYPE_NAMES: Mapping[int, str] = {
    1: "ethernet",
    101: "raw",
    113: "linux-sll",
    228: "ipv4",
    229: "ipv6",
    276: "linux-sll2",
}

#: Every ``Malformed.reason`` the dissectors emit, with its meaning.
MALFORMED_REASONS: Mapping[str, str] = {
    "truncated": "the capture (or the IP length) ends before the message does",
    "bad_ihl": "IPv4 header length below 20 bytes",
    "bad_total_length": "IPv4 total length smaller than its header",
    "fragment": "a fragmented VRRP or ND packet (not reassembled)",
    "ah_truncated": "IPsec AH header or ICV cut short",
    "bad_ah_length": "IPsec AH length field below the 12 fixed bytes",
    "count_exceeds_length": "the VRRP address count needs more bytes than the packet has",
    "bad_version": "VRRP version nibble other than 2 or 3",
    "bad_type": "VRRP type other than 1 (advertisement); discarded per RFC",
    "ip_family_mismatch": "a VRRP version 2 message over IPv6",
    "unsupported_arp": "ARP other than Ethernet/IPv4 (hardware type, protocol or address lengths)",
    "bad_option_length": "an ND option of length 0",
    "option_exceeds_length": "an ND option reaching past the end of the message",
    "internal_error": "a decoder bug caught by the safety net of dissect(); please report",
}


def name_of(table: Mapping[int, str], code: int) -> str | int:
    """Return the name of ``code`` in ``table``, or ``code`` itself (an ``int``) when unknown."""
    return table.get(code, code)


def vrrp_auth_type_name(code: int) -> str | int:
    """Name of a VRRPv2 authentication type: ``"none"``, ``"simple"``, ``"ah"``, else the int."""
    return VRRP_AUTH_TYPE_NAMES.get(code, code)


def arp_op_name(code: int) -> str | int:
    """Name of an ARP operation: ``"request"``, ``"reply"`` ..., else the int."""
    return ARP_OP_NAMES.get(code, code)


def nd_type_name(code: int) -> str | int:
    """Short name of an ND message type (``"NS"``/``"NA"``), else the int."""
    return ND_TYPE_SHORT.get(code, code)
