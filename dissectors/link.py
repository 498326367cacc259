"""Link-layer normalisation: every supported link type becomes ``(LinkInfo, payload offset)``.

Supported link types (numbers from https://www.tcpdump.org/linktypes.html):

=====  =================  ====================================================================
 1     Ethernet           dst(6) src(6) ethertype(2), then any stack of VLAN tags
 113   Linux SLL          pkttype(2) arphrd(2) halen(2) addr(8) protocol(2)  — 16 bytes
 276   Linux SLL2         protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) halen(1)
                          addr(8) — 20 bytes
 101   raw IP             IPv4 or IPv6 by the version nibble
 228   raw IPv4           (the version nibble must be 4)
 229   raw IPv6           (the version nibble must be 6)
=====  =================  ====================================================================

VLAN tags (IEEE 802.1Q ``0x8100``, 802.1ad ``0x88A8`` and the pre-standard QinQ ``0x9100``) are
walked after every link header that carries an ethertype (libpcap re-inserts stripped tags after the
SLL header too): each is TCI(2) + next ethertype(2); the VLAN id is the low 12 bits of the TCI.
This module holds the one ethertype table of the package; the IP/ARP layers never see link types.

A frame too short for its link header, an 802.3 length field instead of an ethertype, or an unknown
link type is simply "not ours": :func:`parse_link` returns ``None`` (there is nothing to report
about it as VRRP/ARP/ND).
"""

from __future__ import annotations

import struct

from dissectors.records import LinkInfo

LINKTYPE_ETHERNET = 1  # IEEE 802.3 Ethernet (DLT_EN10MB)
LINKTYPE_RAW = 101  # raw IPv4 or IPv6, version from the first nibble
LINKTYPE_LINUX_SLL = 113  # Linux cooked capture v1
LINKTYPE_IPV4 = 228  # raw IPv4
LINKTYPE_IPV6 = 229  # raw IPv6
LINKTYPE_LINUX_SLL2 = 276  # Linux cooked capture v2 (carries the interface index)

ETHERTYPE_IPV4 = 0x0800  # Internet Protocol version 4
ETHERTYPE_ARP = 0x0806  # Address Resolution Protocol (RFC 826)
ETHERTYPE_IPV6 = 0x86DD  # Internet Protocol version 6
ETHERTYPE_VLAN = 0x8100  # IEEE 802.1Q customer VLAN tag
ETHERTYPE_QINQ = 0x88A8  # IEEE 802.1ad service VLAN tag
ETHERTYPE_QINQ_OLD = 0x9100  # pre-standard QinQ outer tag (Cisco/Juniper)

#: Tag protocol identifiers that introduce a 4-byte VLAN tag.
VLAN_ETHERTYPES = frozenset({ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD})

#: The ethertypes whose payload the dissectors decode; everything else is not ours.
KNOWN_ETHERTYPES = frozenset({ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_IPV6})

#: Upper bound on stacked VLAN tags walked (real stacks have at most 2; the bound keeps hostile
#: frames made of tags from costing more than a few iterations).
MAX_VLAN_TAGS = 8

ETHERNET_HEADER_LEN = 14  # dst, src, ethertype
SLL_HEADER_LEN = 16
SLL2_HEADER_LEN = 20
VLAN_TAG_LEN = 4

_U16 = struct.Struct("!H")
_TAG = struct.Struct("!HH")  # TCI (PCP 3 | DEI 1 | VID 12), next ethertype
_SLL = struct.Struct("!HHH8sH")  # packet type, ARPHRD type, address length, address, protocol
_SLL2 = struct.Struct("!H2xIHBB8s")  # protocol, reserved, ifindex, ARPHRD, packet type, halen, addr


def mac_text(raw: bytes) -> str:
    """Return a MAC address as lower-case colon-separated hex (``"00:00:5e:00:01:33"``)."""
    return raw.hex(":")


def _walk_tags(data: bytes, ethertype: int, offset: int) -> tuple[tuple[int, ...], int, int] | None:
    """Walk VLAN tags starting at ``offset`` (just after an ethertype field whose value is given).

    Returns ``(vlan ids outermost first, ethertype after the last tag, payload offset)``, or ``None``
    when a tag is cut short or the stack is deeper than :data:`MAX_VLAN_TAGS`.
    """
    if ethertype not in VLAN_ETHERTYPES:
        return (), ethertype, offset
    vlans: list[int] = []
    while ethertype in VLAN_ETHERTYPES:
        if len(vlans) >= MAX_VLAN_TAGS or len(data) < offset + VLAN_TAG_LEN:
            return None
        tci, ethertype = _TAG.unpack_from(data, offset)
        vlans.append(tci & 0x0FFF)
        offset += VLAN_TAG_LEN
    return tuple(vlans), ethertype, offset


def parse_link(linktype: int, data: bytes) -> tuple[LinkInfo, int] | None:
    """Normalise the link header of a frame.

    Returns ``(LinkInfo, offset of the network-layer payload)`` when the frame carries IPv4, IPv6
    or ARP; ``None`` for anything else (other ethertype, unknown link type, frame too short).
    Never raises.
    """
    if linktype == LINKTYPE_ETHERNET:
        if len(data) < ETHERNET_HEADER_LEN:
            return None
        walked = _walk_tags(data, _U16.unpack_from(data, 12)[0], ETHERNET_HEADER_LEN)
        if walked is None or walked[1] not in KNOWN_ETHERTYPES:
            return None
        return LinkInfo(mac_text(data[6:12]), mac_text(data[0:6]), walked[0], walked[1]), walked[2]
    if linktype == LINKTYPE_LINUX_SLL:
        if len(data) < SLL_HEADER_LEN:
            return None
        _pkttype, _arphrd, halen, addr, proto = _SLL.unpack_from(data, 0)
        walked = _walk_tags(data, proto, SLL_HEADER_LEN)
        if walked is None or walked[1] not in KNOWN_ETHERTYPES:
            return None
        src = mac_text(addr[:6]) if halen == 6 else None
        return LinkInfo(src, None, walked[0], walked[1]), walked[2]
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(data) < SLL2_HEADER_LEN:
            return None
        proto, ifindex, _arphrd, _pkttype, halen, addr = _SLL2.unpack_from(data, 0)
        walked = _walk_tags(data, proto, SLL2_HEADER_LEN)
        if walked is None or walked[1] not in KNOWN_ETHERTYPES:
            return None
        src = mac_text(addr[:6]) if halen == 6 else None
        return LinkInfo(src, None, walked[0], walked[1], ifindex), walked[2]
    if linktype == LINKTYPE_RAW:
        if not data:
            return None
        version = data[0] >> 4
        if version == 4:
            return LinkInfo(None, None, (), ETHERTYPE_IPV4), 0
        if version == 6:
            return LinkInfo(None, None, (), ETHERTYPE_IPV6), 0
        return None
    if linktype == LINKTYPE_IPV4:
        if not data or data[0] >> 4 != 4:
            return None
        return LinkInfo(None, None, (), ETHERTYPE_IPV4), 0
    if linktype == LINKTYPE_IPV6:
        if not data or data[0] >> 4 != 6:
            return None
        return LinkInfo(None, None, (), ETHERTYPE_IPV6), 0
    return None
