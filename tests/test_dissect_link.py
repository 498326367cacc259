"""Link-layer normalisation: Ethernet, 802.1Q / 802.1ad / 0x9100 QinQ, Linux SLL and SLL2, raw IP."""

from __future__ import annotations

import socket
import struct

import pytest

from dissectors import link
from dissectors.link import parse_link
from dissectors.packet import decode_frame, dissect, is_candidate
from dissectors.records import ArpPacket, LinkInfo, VrrpV2Advert

SRC_MAC = bytes.fromhex("02AABBCCDDEE")  # upper-case on purpose: text must come out lower-case
DST_MAC = bytes.fromhex("01005e000012")


def ref_checksum(data: bytes) -> int:
    """RFC 1071 reference loop."""
    if len(data) % 2:
        data += b"\0"
    total = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def vrrp_ipv4() -> bytes:
    """IPv4 + VRRPv2 advert (VRID 51, one address), checksums correct."""
    msg = struct.pack("!BBBBBBH", 0x21, 51, 100, 1, 0, 1, 0) + socket.inet_aton("192.0.2.100") + b"\0" * 8
    msg = msg[:6] + struct.pack("!H", ref_checksum(msg)) + msg[8:]
    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(msg), 1, 0, 255, 112, 0,
        socket.inet_aton("192.0.2.1"), socket.inet_aton("224.0.0.18"),
    )  # fmt: skip
    return hdr + msg


def vrrp_ipv6() -> bytes:
    """IPv6 + VRRPv3 advert (checksum not needed for link tests)."""
    msg = struct.pack("!BBBBHH", 0x31, 51, 100, 1, 100, 0) + socket.inet_pton(socket.AF_INET6, "fe80::100")
    return (
        struct.pack("!IHBB", 0x60000000, len(msg), 112, 255)
        + socket.inet_pton(socket.AF_INET6, "fe80::1")
        + socket.inet_pton(socket.AF_INET6, "ff02::12")
        + msg
    )


def arp_body() -> bytes:
    return (
        struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
        + SRC_MAC
        + socket.inet_aton("192.0.2.100")
        + b"\xff" * 6
        + socket.inet_aton("192.0.2.100")
    )


def tag(tpid: int, tci: int) -> bytes:
    return struct.pack("!HH", tpid, tci)


def ethernet(payload: bytes, ethertype: int) -> bytes:
    """Untagged Ethernet II header followed by ``payload``."""
    return DST_MAC + SRC_MAC + struct.pack("!H", ethertype) + payload


def tagged(tags: list[bytes], ethertype: int) -> bytes:
    """Ethernet addresses, then each tag (TPID + TCI) in order, then the final ethertype."""
    return DST_MAC + SRC_MAC + b"".join(tags) + struct.pack("!H", ethertype)


def sll(
    payload: bytes, proto: int, *, halen: int = 6, addr: bytes = SRC_MAC + b"\0\0", pkttype: int = 2
) -> bytes:
    """Linux cooked v1 header: packet type, ARPHRD_ETHER, address length, 8-byte address, protocol."""
    return struct.pack("!HHH8sH", pkttype, 1, halen, addr, proto) + payload


def sll2(
    payload: bytes, proto: int, *, ifindex: int = 7, halen: int = 6, addr: bytes = SRC_MAC + b"\0\0"
) -> bytes:
    """Linux cooked v2 header: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, halen, address."""
    return struct.pack("!HHIHBB8s", proto, 0, ifindex, 1, 2, halen, addr) + payload


def test_plain_ethernet() -> None:
    frame = ethernet(vrrp_ipv4(), 0x0800)
    info, offset = parse_link(1, frame)  # type: ignore[misc]
    assert info == LinkInfo("02:aa:bb:cc:dd:ee", "01:00:5e:00:00:12", (), 0x0800, None)
    assert offset == 14


def test_single_8021q_tag_masks_priority_bits() -> None:
    frame = tagged([tag(0x8100, 0xE01E)], 0x0800) + vrrp_ipv4()  # PCP 7, VID 30
    info, offset = parse_link(1, frame)  # type: ignore[misc]
    assert info.vlans == (30,) and info.ethertype == 0x0800 and offset == 18
    d = decode_frame(1, frame)
    assert d is not None and isinstance(d.message, VrrpV2Advert)


@pytest.mark.parametrize("outer", [0x88A8, 0x9100, 0x8100])
def test_qinq_outer_first(outer: int) -> None:
    frame = tagged([tag(outer, 100), tag(0x8100, 30)], 0x0800) + vrrp_ipv4()
    info, offset = parse_link(1, frame)  # type: ignore[misc]
    assert info.vlans == (100, 30) and offset == 22
    assert is_candidate(1, frame)
    d = dissect(1, frame)
    assert d is not None and d.link.vlans == (100, 30) and isinstance(d.message, VrrpV2Advert)


def test_three_tags_and_arp_behind_tags() -> None:
    frame = tagged([tag(0x9100, 1), tag(0x88A8, 2), tag(0x8100, 3)], 0x0806) + arp_body()
    d = decode_frame(1, frame)
    assert d is not None and d.link.vlans == (1, 2, 3) and isinstance(d.message, ArpPacket)
    assert is_candidate(1, frame)


def test_tag_stack_too_deep_or_cut() -> None:
    deep = tagged([tag(0x8100, i) for i in range(link.MAX_VLAN_TAGS + 1)], 0x0800) + vrrp_ipv4()
    assert parse_link(1, deep) is None
    assert dissect(1, deep) is None
    cut = tagged([tag(0x8100, 5)], 0x0800)[:16]
    assert parse_link(1, cut) is None
    assert not is_candidate(1, cut)


def test_scapy_built_qinq_agrees() -> None:
    scapy_all = pytest.importorskip("scapy.all")
    frame = scapy_all.raw(
        scapy_all.Ether(src="02:00:00:00:00:09", dst="ff:ff:ff:ff:ff:ff")
        / scapy_all.Dot1AD(vlan=300)
        / scapy_all.Dot1Q(vlan=40)
        / scapy_all.ARP(hwsrc="02:00:00:00:00:09", psrc="192.0.2.9", pdst="192.0.2.9")
    )
    d = decode_frame(1, frame)
    assert d is not None and d.link.vlans == (300, 40) and d.link.src_mac == "02:00:00:00:00:09"


def test_non_ip_ethertypes_and_8023_lengths_are_not_ours() -> None:
    for ethertype in (0x88CC, 0x8035, 0x0600, 0x05DC, 0x0000):
        frame = ethernet(b"\0" * 46, ethertype)
        assert parse_link(1, frame) is None
        assert not is_candidate(1, frame)
        assert dissect(1, frame) is None


def test_short_ethernet() -> None:
    assert parse_link(1, b"\x01\x02\x03") is None
    assert dissect(1, b"") is None
    assert not is_candidate(1, b"")


def test_sll_v1() -> None:
    frame = sll(vrrp_ipv4(), 0x0800)
    d = decode_frame(113, frame)
    assert d is not None
    assert d.link == LinkInfo("02:aa:bb:cc:dd:ee", None, (), 0x0800, None)
    assert isinstance(d.message, VrrpV2Advert) and d.message.vrid == 51
    assert is_candidate(113, frame)


def test_sll_v1_without_hardware_address() -> None:
    d = decode_frame(113, sll(vrrp_ipv4(), 0x0800, halen=0, addr=b"\0" * 8))
    assert d is not None and d.link.src_mac is None


def test_sll_v1_with_reinserted_vlan_tag() -> None:
    frame = sll(struct.pack("!HH", 42, 0x86DD) + vrrp_ipv6(), 0x8100)
    d = decode_frame(113, frame)
    assert d is not None and d.link.vlans == (42,) and d.link.ethertype == 0x86DD
    assert is_candidate(113, frame)


def test_scapy_built_sll_agrees() -> None:
    scapy_all = pytest.importorskip("scapy.all")
    hdr = scapy_all.CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=SRC_MAC + b"\0\0", proto=0x0800)
    frame = scapy_all.raw(hdr) + vrrp_ipv4()
    d = decode_frame(113, frame)
    assert d is not None and d.link.src_mac == "02:aa:bb:cc:dd:ee"


def test_sll_v2_interface_index() -> None:
    frame = sll2(vrrp_ipv4(), 0x0800, ifindex=0x01020304)
    d = decode_frame(276, frame)
    assert d is not None
    assert d.link == LinkInfo("02:aa:bb:cc:dd:ee", None, (), 0x0800, 0x01020304)
    assert is_candidate(276, frame)


def test_sll_v2_ipv6_and_arp() -> None:
    d6 = decode_frame(276, sll2(vrrp_ipv6(), 0x86DD, ifindex=3))
    assert d6 is not None and d6.link.ifindex == 3 and d6.ip is not None and d6.ip.family == "ipv6"
    da = decode_frame(276, sll2(arp_body(), 0x0806))
    assert da is not None and isinstance(da.message, ArpPacket)


def test_sll_truncated_headers() -> None:
    assert parse_link(113, sll(b"", 0x0800)[:15]) is None
    assert parse_link(276, sll2(b"", 0x0800)[:19]) is None
    assert dissect(276, b"\x08\x00") is None


@pytest.mark.parametrize(
    ("linktype", "payload", "ethertype"),
    [
        (101, vrrp_ipv4(), 0x0800),
        (101, vrrp_ipv6(), 0x86DD),
        (228, vrrp_ipv4(), 0x0800),
        (229, vrrp_ipv6(), 0x86DD),
    ],
)
def test_raw_ip(linktype: int, payload: bytes, ethertype: int) -> None:
    assert parse_link(linktype, payload) == (LinkInfo(None, None, (), ethertype, None), 0)
    d = dissect(linktype, payload)
    assert d is not None and d.proto == "vrrp"


def test_raw_ip_bad_version_and_empty() -> None:
    assert parse_link(101, b"\x50" + b"\0" * 30) is None
    assert parse_link(101, b"") is None
    assert not is_candidate(101, b"")
    # raw IPv4 link type carrying an IPv6 packet: nothing decodes
    assert decode_frame(228, vrrp_ipv6()) is None


def test_unknown_link_type() -> None:
    frame = ethernet(vrrp_ipv4(), 0x0800)
    for linktype in (0, 105, 127, 147, 9999):
        assert parse_link(linktype, frame) is None
        assert not is_candidate(linktype, frame)
        assert dissect(linktype, frame) is None


def test_linktype_numbers_match_the_sources() -> None:
    base = pytest.importorskip("vrrpscope.sources.base")
    assert link.LINKTYPE_ETHERNET == base.LINKTYPE_ETHERNET
    assert link.LINKTYPE_RAW == base.LINKTYPE_RAW
    assert link.LINKTYPE_LINUX_SLL == base.LINKTYPE_LINUX_SLL
    assert link.LINKTYPE_LINUX_SLL2 == base.LINKTYPE_LINUX_SLL2
    assert link.LINKTYPE_IPV4 == base.LINKTYPE_IPV4
    assert link.LINKTYPE_IPV6 == base.LINKTYPE_IPV6
    for linktype in base.SUPPORTED_LINKTYPES:
        assert parse_link(linktype, b"") is None  # known, and safe on empty input


def test_is_candidate_screens_ipv6() -> None:
    def v6(nh: int, body: bytes) -> bytes:
        return ethernet(
            struct.pack("!IHBB", 0x60000000, len(body), nh, 255)
            + b"\xfe\x80"
            + b"\0" * 14
            + b"\xff\x02"
            + b"\0" * 14
            + body,
            0x86DD,
        )

    assert is_candidate(1, v6(112, b"\x31" + b"\0" * 23))
    assert is_candidate(1, v6(58, b"\x88" + b"\0" * 23))  # NA
    assert is_candidate(1, v6(58, b"\x87" + b"\0" * 23))  # NS
    assert not is_candidate(1, v6(58, b"\x80" + b"\0" * 7))  # echo request
    assert not is_candidate(1, v6(58, b"\x8f" + b"\0" * 7))  # MLDv2 report
    assert not is_candidate(1, v6(17, b"\0" * 8))  # UDP
    for ext in (0, 43, 44, 51, 60):  # extension headers: conservative
        assert is_candidate(1, v6(ext, b"\0" * 8))


def test_ethernet_padding_on_arp_is_ignored() -> None:
    frame = ethernet(arp_body() + b"\0" * 18, 0x0806)
    d = decode_frame(1, frame)
    assert d is not None and isinstance(d.message, ArpPacket) and d.message.sender_ip == "192.0.2.100"
