"""ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861 NS/NA), plus display names."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
from pathlib import Path

import pytest

from dissectors import names
from dissectors.arp import decode_arp
from dissectors.nd import decode_nd
from dissectors.packet import decode_frame, dissect, is_candidate
from dissectors.records import ArpPacket, Dissected, Malformed, NdMessage

ROUTER_MAC = "02:00:00:00:00:0a"
VIP = "192.0.2.100"
VIP6 = "2001:db8::100"

#: keepalived's gratuitous ARP, every byte: Ethernet broadcast from the router MAC, ARP request,
#: SHA = router MAC, SPA = TPA = VIP, THA = ff:ff:ff:ff:ff:ff (PROTOCOL.md §4.3), 18 bytes padding.
GARP_FRAME = (
    bytes.fromhex("ffffffffffff02000000000a0806000108000604000102000000000ac0000264ffffffffffffc0000264")
    + b"\0" * 18
)


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def arp_frame(op: int, sha: str, spa: str, tha: str, tpa: str, *, eth_src: str = ROUTER_MAC) -> bytes:
    body = (
        struct.pack("!HHBBH", 1, 0x0800, 6, 4, op)
        + mac(sha)
        + socket.inet_aton(spa)
        + mac(tha)
        + socket.inet_aton(tpa)
    )
    return mac("ff:ff:ff:ff:ff:ff") + mac(eth_src) + b"\x08\x06" + body


def ref_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def nd_frame(
    icmp: bytes, *, src: str = VIP6, dst: str = "ff02::1", hlim: int = 255, ext: bytes = b"", nh: int = 58
) -> bytes:
    """Ethernet + IPv6 (+ optional extension headers) + ICMPv6 with a correct checksum."""
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    pseudo = s6 + d6 + struct.pack("!I", len(icmp)) + b"\0\0\0\x3a"
    icmp = icmp[:2] + struct.pack("!H", ref_checksum(pseudo + icmp[:2] + b"\0\0" + icmp[4:])) + icmp[4:]
    payload = ext + icmp
    ip6 = struct.pack("!IHBB", 0x60000000, len(payload), nh, hlim) + s6 + d6
    return mac("33:33:00:00:00:01") + mac(ROUTER_MAC) + b"\x86\xdd" + ip6 + payload


def na(target: str = VIP6, *, flags: int = 0x20, options: bytes = b"") -> bytes:
    return struct.pack("!BBHB3x", 136, 0, 0, flags) + socket.inet_pton(socket.AF_INET6, target) + options


def ns(target: str = VIP6, *, options: bytes = b"") -> bytes:
    return struct.pack("!BBHI", 135, 0, 0, 0) + socket.inet_pton(socket.AF_INET6, target) + options


def lla(kind: int, address: str) -> bytes:
    return bytes([kind, 1]) + mac(address)


def decode(frame: bytes) -> Dissected:
    result = decode_frame(1, frame)
    assert result is not None and is_candidate(1, frame) and dissect(1, frame) == result
    return result


# --- ARP ------------------------------------------------------------------------------------


def test_keepalived_garp_literal() -> None:
    d = decode(GARP_FRAME)
    assert d.proto == "arp" and d.ip is None
    assert (d.link.src_mac, d.link.dst_mac, d.link.ethertype) == (ROUTER_MAC, "ff:ff:ff:ff:ff:ff", 0x0806)
    m = d.message
    assert isinstance(m, ArpPacket)
    assert m == ArpPacket(1, ROUTER_MAC, VIP, "ff:ff:ff:ff:ff:ff", VIP, 1, 0x0800)
    assert m.gratuitous


def test_arp_reply_and_ethernet_source_kept_apart() -> None:
    vmac = "00:00:5e:00:01:33"
    d = decode(arp_frame(2, vmac, VIP, "02:00:00:00:00:99", "192.0.2.7", eth_src=ROUTER_MAC))
    m = d.message
    assert isinstance(m, ArpPacket)
    assert (m.op, m.sender_mac, m.sender_ip, m.target_mac, m.target_ip) == (
        2,
        vmac,
        VIP,
        "02:00:00:00:00:99",
        "192.0.2.7",
    )
    assert not m.gratuitous
    assert (
        d.link.src_mac == ROUTER_MAC != m.sender_mac
    )  # RFC 5798 §8.1.2: VMAC in payload, physical MAC on the wire


def test_gratuitous_reply_form() -> None:
    m = decode(arp_frame(2, ROUTER_MAC, VIP, ROUTER_MAC, VIP)).message
    assert isinstance(m, ArpPacket) and m.gratuitous and m.op == 2


def test_unknown_arp_op_stays_an_int() -> None:
    m = decode(arp_frame(25, ROUTER_MAC, VIP, "00:00:00:00:00:00", "192.0.2.1")).message
    assert isinstance(m, ArpPacket) and m.op == 25
    assert names.arp_op_name(25) == 25 and names.arp_op_name(1) == "request"


@pytest.mark.parametrize(
    ("hrd", "pro", "hln", "pln", "numbers"),
    [
        (6, 0x0800, 6, 4, "hardware type 6, protocol 0x0800, hlen 6, plen 4"),
        (1, 0x86DD, 6, 16, "hardware type 1, protocol 0x86dd, hlen 6, plen 16"),
        (1, 0x0800, 8, 4, "hardware type 1, protocol 0x0800, hlen 8, plen 4"),
    ],
)
def test_unsupported_arp_shapes(hrd: int, pro: int, hln: int, pln: int, numbers: str) -> None:
    body = struct.pack("!HHBBH", hrd, pro, hln, pln, 1) + b"\0" * 40
    m = decode(mac("ff:ff:ff:ff:ff:ff") + mac(ROUTER_MAC) + b"\x08\x06" + body).message
    assert isinstance(m, Malformed)
    assert (m.layer, m.reason, m.offset) == ("arp", "unsupported_arp", 14)
    assert numbers in m.detail


@pytest.mark.parametrize("cut", [0, 7, 8, 27])
def test_arp_truncated(cut: int) -> None:
    m = decode(GARP_FRAME[: 14 + cut]).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("arp", "truncated")
    assert m.offset == 14 + cut


def test_decode_arp_directly() -> None:
    assert decode_arp(GARP_FRAME[14:42]) == ArpPacket(1, ROUTER_MAC, VIP, "ff:ff:ff:ff:ff:ff", VIP)
    bad = decode_arp(b"\x00\x01", 100)
    assert isinstance(bad, Malformed) and bad.offset == 102


# --- ND -------------------------------------------------------------------------------------


def test_keepalived_unsolicited_na() -> None:
    d = decode(nd_frame(na(options=lla(2, ROUTER_MAC))))
    assert d.proto == "nd"
    assert d.ip is not None
    assert (d.ip.family, d.ip.src, d.ip.dst, d.ip.ttl, d.ip.proto, d.ip.multicast) == (
        "ipv6",
        VIP6,
        "ff02::1",
        255,
        58,
        True,
    )
    m = d.message
    assert isinstance(m, NdMessage)
    assert (m.type, m.code, m.target) == (136, 0, VIP6)
    assert (m.router, m.solicited, m.override, m.flags) == (False, False, True, "O")
    assert (m.slla, m.tlla) == (None, ROUTER_MAC)


@pytest.mark.parametrize(
    ("flags", "letters"),
    [(0x00, ""), (0x80, "R"), (0x40, "S"), (0x20, "O"), (0xE0, "RSO"), (0xA0, "RO"), (0x1F, "")],
)
def test_na_flags(flags: int, letters: str) -> None:
    m = decode(nd_frame(na(flags=flags))).message
    assert isinstance(m, NdMessage) and m.flags == letters


def test_neighbour_solicitation_with_slla() -> None:
    frame = nd_frame(ns("fe80::2", options=lla(1, "02:00:00:00:00:0b")), src="fe80::1", dst="ff02::1:ff00:2")
    m = decode(frame).message
    assert isinstance(m, NdMessage)
    assert (m.type, m.target, m.slla, m.tlla, m.flags) == (135, "fe80::2", "02:00:00:00:00:0b", None, "")


def test_dad_solicitation_from_unspecified_without_options() -> None:
    d = decode(nd_frame(ns(VIP6), src="::", dst="ff02::1:ff00:100"))
    assert d.ip is not None and d.ip.src == "::"
    assert isinstance(d.message, NdMessage) and d.message.slla is None


def test_nd_options_other_types_skipped_first_lla_wins() -> None:
    nonce = bytes([14, 1]) + b"\x01\x02\x03\x04\x05\x06"
    mtu = bytes([5, 1, 0, 0]) + struct.pack("!I", 1500)
    opts = nonce + mtu + lla(2, "02:00:00:00:00:01") + lla(2, "02:00:00:00:00:02")
    m = decode(nd_frame(na(options=opts))).message
    assert isinstance(m, NdMessage) and m.tlla == "02:00:00:00:00:01"


def test_nd_checksum_is_kept() -> None:
    frame = nd_frame(na())
    m = decode(frame).message
    assert isinstance(m, NdMessage)
    assert m.checksum == struct.unpack("!H", frame[14 + 40 + 2 : 14 + 40 + 4])[0]


@pytest.mark.parametrize("icmp_type", [1, 128, 129, 133, 134, 137, 143])
def test_other_icmpv6_is_not_reported(icmp_type: int) -> None:
    frame = nd_frame(struct.pack("!BBHI", icmp_type, 0, 0, 0) + b"\0" * 16)
    assert decode_frame(1, frame) is None
    assert dissect(1, frame) is None
    assert decode_nd(frame[54:]) is None


def test_nd_behind_hop_by_hop() -> None:
    hop = bytes([58, 0, 5, 2, 0, 0, 1, 0])
    d = decode(nd_frame(na(options=lla(2, ROUTER_MAC)), ext=hop, nh=0))
    assert isinstance(d.message, NdMessage) and d.message.tlla == ROUTER_MAC


def test_nd_option_length_zero() -> None:
    m = decode(nd_frame(na(options=bytes([2, 0]) + b"\0" * 6))).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("nd", "bad_option_length")


def test_nd_option_exceeds_message() -> None:
    m = decode(nd_frame(na(options=bytes([2, 2]) + mac(ROUTER_MAC)))).message
    assert isinstance(m, Malformed) and m.reason == "option_exceeds_length"
    assert "16 bytes" in m.detail


def test_nd_truncated_by_capture() -> None:
    frame = nd_frame(na(options=lla(2, ROUTER_MAC)))
    short = decode(frame[:-3]).message
    assert isinstance(short, Malformed) and short.reason == "truncated"
    fixed = decode(frame[: 14 + 40 + 10]).message
    assert isinstance(fixed, Malformed) and fixed.reason == "truncated" and fixed.offset == 64


def test_nd_message_shorter_than_fixed_part() -> None:
    m = decode(nd_frame(na()[:20])).message
    assert isinstance(m, Malformed) and m.reason == "truncated" and "IPv6 payload" in m.detail


def test_fragmented_nd_is_malformed() -> None:
    frag = struct.pack("!BBHI", 58, 0, 0x0001, 1)
    m = decode(nd_frame(na(), ext=frag, nh=44)).message
    assert isinstance(m, Malformed) and m.reason == "fragment"


# --- names ----------------------------------------------------------------------------------


def test_display_names_keep_unknown_codes_as_ints() -> None:
    assert names.vrrp_auth_type_name(0) == "none"
    assert names.vrrp_auth_type_name(1) == "simple"
    assert names.vrrp_auth_type_name(2) == "ah"
    assert names.vrrp_auth_type_name(7) == 7
    assert names.nd_type_name(136) == "NA" and names.nd_type_name(135) == "NS" and names.nd_type_name(1) == 1
    assert names.name_of(names.ETHERTYPE_NAMES, 0x88A8) == "802.1ad"
    assert names.name_of(names.IP_PROTOCOL_NAMES, 200) == 200
    assert names.name_of(names.LINKTYPE_NAMES, 276) == "linux-sll2"


# --- tshark spot check ----------------------------------------------------------------------


@pytest.mark.tshark
def test_spot_check_arp_nd_against_tshark(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required in CI")
        pytest.skip("tshark not installed")
    frames = [
        GARP_FRAME,
        arp_frame(2, "00:00:5e:00:01:33", VIP, "02:00:00:00:00:99", "192.0.2.7"),
        nd_frame(na(flags=0xA0, options=lla(2, ROUTER_MAC))),
    ]
    pcap = tmp_path / "arpnd.pcap"
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    records += [struct.pack("<IIII", 1, i, len(f), len(f)) + f for i, f in enumerate(frames)]
    pcap.write_bytes(b"".join(records))
    fields = ["arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4",
              "icmpv6.type", "icmpv6.nd.na.target_address", "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s",
              "icmpv6.nd.na.flag.o", "icmpv6.opt.linkaddr"]  # fmt: skip
    cmd = ["tshark", "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"})
    rows = [dict(zip(fields, line.split("|"), strict=True)) for line in out.stdout.splitlines()]
    assert len(rows) == 3
    for frame, row in zip(frames[:2], rows[:2], strict=True):
        m = decode(frame).message
        assert isinstance(m, ArpPacket)
        assert int(row["arp.opcode"]) == m.op
        assert (row["arp.src.hw_mac"], row["arp.src.proto_ipv4"]) == (m.sender_mac, m.sender_ip)
        assert (row["arp.dst.hw_mac"], row["arp.dst.proto_ipv4"]) == (m.target_mac, m.target_ip)
    m = decode(frames[2]).message
    assert isinstance(m, NdMessage)
    row = rows[2]
    assert int(row["icmpv6.type"]) == m.type and row["icmpv6.nd.na.target_address"] == m.target
    flag = {"1": True, "True": True, "0": False, "False": False}
    tshark_flags = tuple(flag[row[f"icmpv6.nd.na.flag.{letter}"]] for letter in "rso")
    assert tshark_flags == (m.router, m.solicited, m.override) == (True, False, True)
    assert row["icmpv6.opt.linkaddr"] == m.tlla
