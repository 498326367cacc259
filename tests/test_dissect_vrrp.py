"""VRRP v2/v3, CARP, AH and the IP layer under them: field-by-field tests on hand-built bytes.

Checksums in the expected values are computed here with a word-by-word RFC 1071 loop that does
not share code with ``dissectors.checksum``; scapy's own VRRP checksum (pseudo-header for v3) and
tshark (at the end, marked ``tshark``) are the outside oracles.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
from pathlib import Path

import pytest

from dissectors.checksum import internet_checksum, ipv4_pseudo_header, ipv6_pseudo_header, ones_sum, verify
from dissectors.ip import IpLayer, parse_ipv4, parse_ipv6
from dissectors.packet import decode_frame, dissect, is_candidate
from dissectors.records import (
    CHECKSUM_VARIANTS,
    CarpAdvert,
    Dissected,
    Malformed,
    VrrpV2Advert,
    VrrpV3Advert,
    secret_fingerprint,
)
from dissectors.vrrp import decode_vrrp

ETH = 1
SRC4 = "192.0.2.1"
GROUP4 = "224.0.0.18"
SRC6 = "fe80::1"
GROUP6 = "ff02::12"


# --- independent builders -------------------------------------------------------------------


def ref_checksum(data: bytes) -> int:
    """RFC 1071 checksum by the textbook loop (reference; shares nothing with the code under test)."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def with_checksum(msg: bytes, value: int) -> bytes:
    """Put ``value`` in the checksum field (bytes 6-7) of a VRRP message."""
    return msg[:6] + struct.pack("!H", value) + msg[8:]


def v2_message(
    addrs: tuple[str, ...] = ("192.0.2.100",),
    *,
    vrid: int = 51,
    prio: int = 101,
    auth_type: int = 0,
    adv: int = 1,
    auth: bytes = b"\0" * 8,
    count: int | None = None,
    ver_type: int = 0x21,
    good: bool = True,
) -> bytes:
    """A VRRPv2 message with a correct (or, ``good=False``, deliberately wrong) checksum."""
    n = len(addrs) if count is None else count
    body = struct.pack("!BBBBBBH", ver_type, vrid, prio, n, auth_type, adv, 0)
    body += b"".join(socket.inet_aton(a) for a in addrs) + auth
    ck = ref_checksum(body)
    return with_checksum(body, ck if good else ck ^ 0x0101)


def v3_message(
    addrs: tuple[str, ...] = ("192.0.2.100",),
    *,
    family: str = "ipv4",
    vrid: int = 51,
    prio: int = 101,
    interval_cs: int = 100,
    rsvd: int = 0,
    count: int | None = None,
    ver_type: int = 0x31,
) -> bytes:
    """A VRRPv3 message with checksum field 0 (the caller fills it for the variant under test)."""
    n = len(addrs) if count is None else count
    af = socket.AF_INET if family == "ipv4" else socket.AF_INET6
    body = struct.pack("!BBBBHH", ver_type, vrid, prio, n, (rsvd << 12) | interval_cs, 0)
    return body + b"".join(socket.inet_pton(af, a) for a in addrs)


def pseudo4(src: str, dst: str, length: int) -> bytes:
    """IPv4 pseudo-header, built by hand."""
    return socket.inet_aton(src) + socket.inet_aton(dst) + bytes([0, 112]) + struct.pack("!H", length)


def pseudo6(src: str, dst: str, length: int) -> bytes:
    """IPv6 pseudo-header (RFC 8200 §8.1), built by hand."""
    return (
        socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + struct.pack("!I", length)
        + b"\0\0\0"
        + bytes([112])
    )


def ipv4(
    payload: bytes,
    *,
    proto: int = 112,
    src: str = SRC4,
    dst: str = GROUP4,
    ttl: int = 255,
    options: bytes = b"",
    frag: int = 0,
    ident: int = 0x1234,
    total: int | None = None,
) -> bytes:
    """An IPv4 header (with a correct header checksum) followed by ``payload``."""
    ihl = (20 + len(options)) // 4
    length = 4 * ihl + len(payload) if total is None else total
    hdr = (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x40 | ihl,
            0xC0,
            length,
            ident,
            frag,
            ttl,
            proto,
            0,
            socket.inet_aton(src),
            socket.inet_aton(dst),
        )
        + options
    )
    hdr = hdr[:10] + struct.pack("!H", ref_checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(payload: bytes, *, nh: int = 112, src: str = SRC6, dst: str = GROUP6, hlim: int = 255) -> bytes:
    """An IPv6 header followed by ``payload``."""
    return (
        struct.pack("!IHBB", 0x60000000, len(payload), nh, hlim)
        + socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + payload
    )


def eth(
    payload: bytes, ethertype: int = 0x0800, *, src: str = "02:00:00:00:00:01", dst: str = "01:00:5e:00:00:12"
) -> bytes:
    """An Ethernet II header followed by ``payload``."""
    return (
        bytes.fromhex(dst.replace(":", ""))
        + bytes.fromhex(src.replace(":", ""))
        + struct.pack("!H", ethertype)
        + payload
    )


def decode(frame: bytes, linktype: int = ETH) -> Dissected:
    """Strict decode (no safety net) that must produce a record, and agree with dissect()."""
    result = decode_frame(linktype, frame)
    assert result is not None
    assert is_candidate(linktype, frame)
    assert dissect(linktype, frame) == result
    return result


def v3_frame4(msg: bytes, src: str = SRC4, dst: str = GROUP4) -> bytes:
    return eth(ipv4(msg, src=src, dst=dst))


# --- VRRPv2 ---------------------------------------------------------------------------------

#: keepalived-style VRRPv2 advert, every byte written out: Ethernet, IPv4 (TTL 255, proto 112,
#: DSCP CS6), VRRP v2 type 1, VRID 51, priority 101, 2 addresses, auth type 1 ("secret"), 1 s.
V2_FRAME = bytes.fromhex(
    "01005e000012"
    "020000000001"
    "0800"
    "45c0002c00000000ff70188ec0000201e0000012"
    "213365020101b7b2"
    "c0000264"
    "c0000265"
    "7365637265740000"
)


def test_v2_every_field_of_a_literal_frame() -> None:
    d = decode(V2_FRAME)
    assert d.proto == "vrrp"
    assert d.link.src_mac == "02:00:00:00:00:01"
    assert d.link.dst_mac == "01:00:5e:00:00:12"
    assert d.link.vlans == ()
    assert d.link.ethertype == 0x0800
    assert d.ip is not None
    assert (d.ip.family, d.ip.src, d.ip.dst, d.ip.ttl, d.ip.proto) == ("ipv4", SRC4, GROUP4, 255, 112)
    assert d.ip.multicast is True
    assert d.ip.ah is None
    m = d.message
    assert isinstance(m, VrrpV2Advert)
    assert (m.version, m.type, m.vrid, m.priority, m.count_ip_addrs) == (2, 1, 51, 101, 2)
    assert (m.auth_type, m.advert_int, m.advert_int_s) == (1, 1, 1.0)
    assert m.checksum == 0xB7B2
    assert m.checksum_variant == "v2" and m.checksum_ok
    assert m.addresses == ("192.0.2.100", "192.0.2.101")
    assert m.auth_data == b"secret\0\0"
    assert m.auth_text == "secret"
    assert m.auth_fingerprint == secret_fingerprint(b"secret\0\0")
    assert m.trailer == 0


def test_v2_bad_checksum_is_a_record_not_malformed() -> None:
    frame = V2_FRAME[:40] + b"\xb7\xb3" + V2_FRAME[42:]
    m = decode(frame).message
    assert isinstance(m, VrrpV2Advert)
    assert m.checksum == 0xB7B3
    assert m.checksum_variant is None and not m.checksum_ok


def test_v2_checksum_covers_auth_data() -> None:
    # Same header and addresses, different password, checksum left as for "secret": invalid.
    frame = V2_FRAME[:-8] + b"secreT\0\0"
    m = decode(frame).message
    assert isinstance(m, VrrpV2Advert) and m.checksum_variant is None


def test_v2_count_zero_keeps_all_eight_auth_bytes() -> None:
    msg = v2_message((), auth_type=1, auth=b"pass1234")
    m = decode(eth(ipv4(msg))).message
    assert isinstance(m, VrrpV2Advert)
    assert m.count_ip_addrs == 0 and m.addresses == ()
    assert m.auth_data == b"pass1234"
    assert m.checksum_variant == "v2" and m.trailer == 0


def test_v2_count_exceeds_length() -> None:
    # count=3 but only one address + 8 auth bytes follow the header (IP length agrees: 20 bytes).
    msg = v2_message(("192.0.2.100",), count=3)
    frame = eth(ipv4(msg))
    m = decode(frame).message
    assert isinstance(m, Malformed)
    assert (m.layer, m.reason) == ("vrrp", "count_exceeds_length")
    assert m.detail == "count=3 needs 12 address bytes + 8 auth bytes, 12 present"
    assert m.offset == 14 + 20 + 3  # the count field


def test_v2_max_count_255() -> None:
    addrs = tuple(f"198.51.100.{i}" for i in range(255))
    msg = v2_message(addrs)
    assert len(msg) == 8 + 4 * 255 + 8
    m = decode(eth(ipv4(msg))).message
    assert isinstance(m, VrrpV2Advert)
    assert m.count_ip_addrs == 255 and m.addresses == addrs and m.checksum_variant == "v2"


def test_v2_snaplen_truncation_is_truncated_not_count_error() -> None:
    frame = eth(ipv4(v2_message(("192.0.2.100", "192.0.2.101"))))
    cut = frame[:-5]  # the IP header still claims the full length
    m = decode(cut).message
    assert isinstance(m, Malformed) and m.reason == "truncated"
    assert m.detail == "VRRP message of 24 bytes, 19 captured"
    assert m.offset == len(cut)


def test_v2_keepalived_hmac_trailer_is_counted_not_summed() -> None:
    trailer = bytes(range(28))
    msg = v2_message(("192.0.2.100",)) + trailer
    m = decode(eth(ipv4(msg))).message
    assert isinstance(m, VrrpV2Advert)
    assert m.trailer == 28 and m.checksum_variant == "v2"
    assert m.auth_data == b"\0" * 8


def test_ethernet_padding_is_not_trailer() -> None:
    frame = eth(ipv4(v2_message(("192.0.2.100",)))) + b"\0" * 20
    m = decode(frame).message
    assert isinstance(m, VrrpV2Advert) and m.trailer == 0 and m.checksum_variant == "v2"


def test_v2_over_ipv6_is_family_mismatch() -> None:
    m = decode(eth(ipv6(v2_message()), 0x86DD)).message
    assert isinstance(m, Malformed)
    assert (m.layer, m.reason) == ("vrrp", "ip_family_mismatch")


@pytest.mark.parametrize("version", [0, 1, 4, 15])
def test_bad_version(version: int) -> None:
    msg = v2_message(ver_type=(version << 4) | 1)
    frame = eth(ipv4(msg))
    m = decode(frame).message
    assert isinstance(m, Malformed)
    assert (m.layer, m.reason, m.offset) == ("vrrp", "bad_version", 34)
    assert f"version={version}" in m.detail


@pytest.mark.parametrize(("ver_type", "typ"), [(0x20, 0), (0x22, 2), (0x3F, 15)])
def test_bad_type(ver_type: int, typ: int) -> None:
    m = decode(eth(ipv4(v2_message(ver_type=ver_type)))).message
    assert isinstance(m, Malformed)
    assert m.reason == "bad_type" and f"type={typ}" in m.detail


@pytest.mark.parametrize("length", [0, 1, 7])
def test_header_shorter_than_eight_bytes(length: int) -> None:
    msg = v2_message()[:length]
    m = decode(eth(ipv4(msg))).message
    assert isinstance(m, Malformed) and m.reason == "truncated"


# --- VRRPv3 and the five checksum variants ----------------------------------------------------


def test_v3_ipv4_fields_and_pseudo_header_checksum() -> None:
    msg = v3_message(("192.0.2.100", "192.0.2.101"), vrid=7, prio=254, interval_cs=4095, rsvd=0)
    msg = with_checksum(msg, ref_checksum(pseudo4(SRC4, GROUP4, len(msg)) + msg))
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert)
    assert (m.version, m.type, m.vrid, m.priority, m.count_ip_addrs) == (3, 1, 7, 254, 2)
    assert (m.reserved, m.max_advert_int_cs, m.advert_int_s) == (0, 4095, 40.95)
    assert m.addresses == ("192.0.2.100", "192.0.2.101")
    assert m.checksum_variant == "v3-ipv4-pseudo" and m.trailer == 0


def test_v3_ipv4_plain_checksum_rfc9568() -> None:
    msg = v3_message()
    msg = with_checksum(msg, ref_checksum(msg))
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert) and m.checksum_variant == "v3-ipv4-plain"


def test_v3_ipv4_old_unicast_checksum_uses_group_as_pseudo_destination() -> None:
    peer = "192.0.2.2"
    msg = v3_message()
    msg = with_checksum(msg, ref_checksum(pseudo4(SRC4, GROUP4, len(msg)) + msg))
    d = decode(v3_frame4(msg, dst=peer))
    assert d.ip is not None and d.ip.multicast is False and d.ip.dst == peer
    m = d.message
    assert isinstance(m, VrrpV3Advert) and m.checksum_variant == "v3-ipv4-pseudo-mcast"


def test_v3_ipv4_unicast_with_real_pseudo_header() -> None:
    peer = "192.0.2.2"
    msg = v3_message()
    msg = with_checksum(msg, ref_checksum(pseudo4(SRC4, peer, len(msg)) + msg))
    m = decode(v3_frame4(msg, dst=peer)).message
    assert isinstance(m, VrrpV3Advert) and m.checksum_variant == "v3-ipv4-pseudo"


def test_v3_ipv4_no_variant_validates() -> None:
    msg = v3_message()
    good = ref_checksum(pseudo4(SRC4, GROUP4, len(msg)) + msg)
    msg = with_checksum(msg, good ^ 0x00FF)
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert)
    assert m.checksum == good ^ 0x00FF and m.checksum_variant is None and not m.checksum_ok


def test_v3_never_read_with_v2_layout() -> None:
    # A v3 IPv4 advert with one address is 12 bytes: the v2 layout would need 20.
    msg = v3_message(("192.0.2.100",), interval_cs=300)
    msg = with_checksum(msg, ref_checksum(msg))
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert) and m.max_advert_int_cs == 300 and m.advert_int_s == 3.0


def test_v3_reserved_bits_are_reported() -> None:
    msg = v3_message(rsvd=0xA, interval_cs=100)
    msg = with_checksum(msg, ref_checksum(msg))
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert) and m.reserved == 0xA and m.max_advert_int_cs == 100


def test_v3_ipv6_fields_and_checksum() -> None:
    addrs = ("fe80::100", "2001:db8::100")
    msg = v3_message(addrs, family="ipv6", vrid=5)
    msg = with_checksum(msg, ref_checksum(pseudo6(SRC6, GROUP6, len(msg)) + msg))
    d = decode(eth(ipv6(msg), 0x86DD, dst="33:33:00:00:00:12"))
    assert d.ip is not None
    assert (d.ip.family, d.ip.src, d.ip.dst, d.ip.ttl, d.ip.multicast) == ("ipv6", SRC6, GROUP6, 255, True)
    m = d.message
    assert isinstance(m, VrrpV3Advert)
    assert m.addresses == addrs and m.vrid == 5 and m.checksum_variant == "v3-ipv6"


def test_v3_ipv6_bad_checksum() -> None:
    msg = v3_message(("fe80::100",), family="ipv6")
    msg = with_checksum(msg, ref_checksum(pseudo4(SRC4, GROUP4, len(msg)) + msg))
    m = decode(eth(ipv6(msg), 0x86DD)).message
    assert isinstance(m, VrrpV3Advert) and m.checksum_variant is None


def test_v3_ipv6_max_count() -> None:
    addrs = tuple(f"2001:db8::{i:x}" for i in range(1, 256))
    msg = v3_message(addrs, family="ipv6")
    msg = with_checksum(msg, ref_checksum(pseudo6(SRC6, GROUP6, len(msg)) + msg))
    m = decode(eth(ipv6(msg), 0x86DD)).message
    assert isinstance(m, VrrpV3Advert) and m.count_ip_addrs == 255 and m.addresses == addrs
    assert m.checksum_variant == "v3-ipv6"


def test_v3_count_zero() -> None:
    msg = v3_message(())
    msg = with_checksum(msg, ref_checksum(pseudo4(SRC4, GROUP4, 8) + msg))
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert) and m.addresses == () and m.checksum_variant == "v3-ipv4-pseudo"


def test_v3_count_exceeds_length_ipv6() -> None:
    msg = v3_message(("fe80::100",), family="ipv6", count=2)
    m = decode(eth(ipv6(msg), 0x86DD)).message
    assert isinstance(m, Malformed)
    assert m.reason == "count_exceeds_length"
    assert m.detail == "count=2 needs 32 address bytes, 16 present"


def test_v3_hmac_trailer_ipv4_checksum_excludes_it() -> None:
    msg = v3_message()
    msg = with_checksum(msg, ref_checksum(pseudo4(SRC4, GROUP4, len(msg)) + msg)) + bytes(range(100, 128))
    m = decode(v3_frame4(msg)).message
    assert isinstance(m, VrrpV3Advert) and m.trailer == 28 and m.checksum_variant == "v3-ipv4-pseudo"


def test_v3_hmac_trailer_ipv6_kernel_checksum_over_whole_payload() -> None:
    msg = v3_message(("fe80::100",), family="ipv6") + bytes(range(28))
    msg = with_checksum(msg, ref_checksum(pseudo6(SRC6, GROUP6, len(msg)) + msg))
    m = decode(eth(ipv6(msg), 0x86DD)).message
    assert isinstance(m, VrrpV3Advert) and m.trailer == 28 and m.checksum_variant == "v3-ipv6"


def test_v3_matches_scapy_checksums() -> None:
    """scapy computes v2 plain and v3 with the pseudo-header (PROTOCOL.md §9.3)."""
    scapy_all = pytest.importorskip("scapy.all")
    from scapy.layers.vrrp import VRRP, VRRPv3

    ether, ip_layer, ip6_layer, raw = scapy_all.Ether, scapy_all.IP, scapy_all.IPv6, scapy_all.raw
    src, dst = "02:00:00:00:00:01", "01:00:5e:00:00:12"
    f2 = raw(
        ether(src=src, dst=dst)
        / ip_layer(src=SRC4, dst=GROUP4, ttl=255)
        / VRRP(vrid=9, addrlist=["192.0.2.9"])
    )
    f3 = raw(
        ether(src=src, dst=dst)
        / ip_layer(src=SRC4, dst=GROUP4, ttl=255)
        / VRRPv3(vrid=9, addrlist=["192.0.2.9"])
    )
    f6 = raw(
        ether(src=src, dst=dst)
        / ip6_layer(src=SRC6, dst=GROUP6, hlim=255)
        / VRRPv3(vrid=9, addrlist=["fe80::9"])
    )
    variants = []
    for frame in (f2, f3, f6):
        m = decode(frame).message
        assert isinstance(m, (VrrpV2Advert, VrrpV3Advert)) and m.vrid == 9
        variants.append(m.checksum_variant)
    assert variants == ["v2", "v3-ipv4-pseudo", "v3-ipv6"]


def test_every_checksum_variant_name_is_produced() -> None:
    """The variants above cover CHECKSUM_VARIANTS exactly (keeps tests and contract in step)."""
    produced = set()
    msg = v3_message()
    for dst, checksum_over in [
        (GROUP4, pseudo4(SRC4, GROUP4, 12) + msg),
        (GROUP4, msg),
        ("192.0.2.2", pseudo4(SRC4, GROUP4, 12) + msg),
    ]:
        m = decode(v3_frame4(with_checksum(msg, ref_checksum(checksum_over)), dst=dst)).message
        assert isinstance(m, VrrpV3Advert)
        produced.add(m.checksum_variant)
    m6 = v3_message(("fe80::1",), family="ipv6")
    r6 = decode(eth(ipv6(with_checksum(m6, ref_checksum(pseudo6(SRC6, GROUP6, 24) + m6))), 0x86DD)).message
    assert isinstance(r6, VrrpV3Advert)
    produced.add(r6.checksum_variant)
    r2 = decode(V2_FRAME).message
    assert isinstance(r2, VrrpV2Advert)
    produced.add(r2.checksum_variant)
    assert produced == set(CHECKSUM_VARIANTS)


# --- CARP vs VRRPv2 -------------------------------------------------------------------------


def carp_message(
    *,
    vhid: int = 3,
    advskew: int = 100,
    authlen: int = 7,
    advbase: int = 1,
    counter: int = 0x0123456789ABCDEF,
) -> bytes:
    body = struct.pack("!BBBBBBHQ", 0x21, vhid, advskew, authlen, 0, advbase, 0, counter) + bytes(range(20))
    return with_checksum(body, ref_checksum(body))


def test_carp_is_its_own_record() -> None:
    msg = carp_message()
    assert len(msg) == 36
    d = decode(eth(ipv4(msg), src="00:00:5e:00:01:03"))
    assert d.proto == "carp"
    m = d.message
    assert isinstance(m, CarpAdvert)
    assert (m.version, m.type, m.vhid, m.advskew, m.authlen, m.advbase) == (2, 1, 3, 100, 7, 1)
    assert m.counter == 0x0123456789ABCDEF


def test_carp_with_other_authlen_recognised_by_its_checksum() -> None:
    m = decode(eth(ipv4(carp_message(authlen=9)))).message
    assert isinstance(m, CarpAdvert) and m.authlen == 9


def test_carp_over_ipv6() -> None:
    m = decode(eth(ipv6(carp_message()), 0x86DD)).message
    assert isinstance(m, CarpAdvert) and m.vhid == 3


def test_vrrpv2_with_five_addresses_is_36_bytes_and_stays_vrrp() -> None:
    addrs = tuple(f"192.0.2.{i}" for i in range(10, 15))
    msg = v2_message(addrs)
    assert len(msg) == 36
    m = decode(eth(ipv4(msg))).message
    assert isinstance(m, VrrpV2Advert) and m.addresses == addrs


def test_36_byte_vrrpv2_shape_without_carp_signals_is_vrrp_malformed() -> None:
    # count=6 would need 40 bytes; authlen is not 7 and the CARP checksum does not validate.
    msg = v2_message(tuple(f"192.0.2.{i}" for i in range(5)), count=6, good=False)
    assert len(msg) == 36
    m = decode(eth(ipv4(msg))).message
    assert isinstance(m, Malformed) and m.reason == "count_exceeds_length"


def test_carp_truncated_capture() -> None:
    frame = eth(ipv4(carp_message()))[:-10]
    m = decode(frame).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("carp", "truncated")


# --- AH (keepalived auth_type AH) -----------------------------------------------------------


def ah_header(*, nh: int = 112, spi: int = 0x1000_0001, seq: int = 7, icv: bytes = bytes(range(12))) -> bytes:
    plen = (12 + len(icv)) // 4 - 2
    return struct.pack("!BBHII", nh, plen, 0, spi, seq) + icv


def test_vrrpv2_inside_ah() -> None:
    msg = v2_message(("192.0.2.100",), auth_type=2)
    d = decode(eth(ipv4(ah_header() + msg, proto=51)))
    assert d.ip is not None and d.ip.proto == 112
    assert d.ip.ah is not None
    assert (d.ip.ah.next_header, d.ip.ah.spi, d.ip.ah.sequence, d.ip.ah.icv) == (
        112,
        0x10000001,
        7,
        bytes(range(12)),
    )
    m = d.message
    assert isinstance(m, VrrpV2Advert)
    assert m.auth_type == 2 and m.auth_data == b"\0" * 8 and m.checksum_variant == "v2"


def test_ah_carrying_something_else_is_not_ours() -> None:
    frame = eth(ipv4(ah_header(nh=6) + b"\0" * 20, proto=51))
    assert is_candidate(ETH, frame)  # protocol 51 passes the pre-filter ...
    assert decode_frame(ETH, frame) is None  # ... but AH over TCP is not VRRP
    assert dissect(ETH, frame) is None


def test_ah_truncated() -> None:
    frame = eth(ipv4(ah_header()[:10], proto=51))
    m = decode(frame).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("ah", "ah_truncated")
    assert "claims 24 bytes" in m.detail


def test_ah_bad_length() -> None:
    hdr = bytearray(ah_header())
    hdr[1] = 0  # (0 + 2) * 4 = 8 bytes < 12
    m = decode(eth(ipv4(bytes(hdr) + v2_message(), proto=51))).message
    assert isinstance(m, Malformed) and m.reason == "bad_ah_length"


def test_ah_over_ipv6() -> None:
    msg = v3_message(("fe80::100",), family="ipv6")
    msg = with_checksum(msg, ref_checksum(pseudo6(SRC6, GROUP6, len(msg)) + msg))
    d = decode(eth(ipv6(ah_header() + msg, nh=51), 0x86DD))
    assert d.ip is not None and d.ip.ah is not None and d.ip.ah.spi == 0x10000001
    assert isinstance(d.message, VrrpV3Advert) and d.message.checksum_variant == "v3-ipv6"


# --- IPv4 / IPv6 details ----------------------------------------------------------------------


def test_ipv4_options_are_skipped() -> None:
    router_alert = bytes([0x94, 0x04, 0x00, 0x00])
    frame = eth(ipv4(v2_message(("192.0.2.100",)), options=router_alert))
    m = decode(frame).message
    assert isinstance(m, VrrpV2Advert) and m.addresses == ("192.0.2.100",)


def test_ipv4_bad_ihl() -> None:
    frame = bytearray(eth(ipv4(v2_message())))
    frame[14] = 0x44
    m = decode(bytes(frame)).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("ipv4", "bad_ihl")


def test_ipv4_total_length_below_header() -> None:
    m = decode(eth(ipv4(v2_message(), total=12))).message
    assert isinstance(m, Malformed) and m.reason == "bad_total_length"


def test_ipv4_total_length_shorter_than_vrrp_counts_as_count_error() -> None:
    msg = v2_message(("192.0.2.100", "192.0.2.101"))
    m = decode(eth(ipv4(msg, total=20 + 20))).message  # 20 bytes of VRRP claimed, 24 needed
    assert isinstance(m, Malformed) and m.reason == "count_exceeds_length"


@pytest.mark.parametrize(
    ("frag", "detail"), [(0x2000, "offset 0 bytes, MF=1"), (0x0003, "offset 24 bytes, MF=0")]
)
def test_ipv4_fragments(frag: int, detail: str) -> None:
    d = decode(eth(ipv4(v2_message(), frag=frag)))
    assert d.ip is not None and d.ip.src == SRC4
    m = d.message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("ipv4", "fragment") and detail in m.detail


def test_ipv4_dont_fragment_is_not_a_fragment() -> None:
    m = decode(eth(ipv4(v2_message(), frag=0x4000))).message
    assert isinstance(m, VrrpV2Advert)


def test_ipv4_ttl_and_unicast_are_reported() -> None:
    d = decode(eth(ipv4(v2_message(), dst="192.0.2.2", ttl=64)))
    assert d.ip is not None and d.ip.ttl == 64 and d.ip.multicast is False


def test_ipv4_header_cut_short() -> None:
    frame = eth(ipv4(v2_message()))[: 14 + 15]
    m = decode(frame).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("ipv4", "truncated")


def test_ipv6_extension_headers_are_skipped() -> None:
    msg = v3_message(("fe80::100",), family="ipv6")
    msg = with_checksum(msg, ref_checksum(pseudo6(SRC6, GROUP6, len(msg)) + msg))
    hop_by_hop = bytes([60, 0, 5, 2, 0, 0, 1, 0])  # next: dest opts; router alert + PadN
    dest_opts = bytes([43, 1]) + b"\x01\x0c" + b"\0" * 12  # next: routing; 16 bytes of PadN
    routing = bytes([112, 0, 0, 0, 0, 0, 0, 0])  # next: VRRP; type 0, segments left 0
    d = decode(eth(ipv6(hop_by_hop + dest_opts + routing + msg, nh=0), 0x86DD))
    assert d.ip is not None and d.ip.proto == 112
    assert isinstance(d.message, VrrpV3Advert) and d.message.checksum_variant == "v3-ipv6"


def test_ipv6_fragment_header() -> None:
    frag = struct.pack("!BBHI", 112, 0, 0x0001, 99)  # offset 0, M=1
    m = decode(eth(ipv6(frag + b"\0" * 16, nh=44), 0x86DD)).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("ipv6", "fragment")


def test_ipv6_header_cut_short() -> None:
    frame = eth(ipv6(b""), 0x86DD)[: 14 + 30]
    m = decode(frame).message
    assert isinstance(m, Malformed) and (m.layer, m.reason) == ("ipv6", "truncated")


def test_non_vrrp_ip_is_rejected_by_both_filters() -> None:
    tcp = eth(ipv4(b"\0" * 40, proto=6))
    assert not is_candidate(ETH, tcp)
    assert decode_frame(ETH, tcp) is None
    udp6 = eth(ipv6(b"\0" * 16, nh=17), 0x86DD)
    assert not is_candidate(ETH, udp6)
    assert decode_frame(ETH, udp6) is None


def test_malformed_offsets_point_into_the_frame() -> None:
    frame = eth(ipv4(v2_message(("192.0.2.100",), count=9)))
    m = decode(frame).message
    assert isinstance(m, Malformed) and frame[m.offset] == 9


# --- sub-decoders directly ----------------------------------------------------------------------


def test_decode_vrrp_defaults_claimed_length_to_the_bytes() -> None:
    m = decode_vrrp(v2_message(), family="ipv4", src=b"\xc0\0\2\1", dst=b"\xe0\0\0\x12")
    assert isinstance(m, VrrpV2Advert) and m.checksum_variant == "v2"


def test_parse_ip_layers_report_payload_bounds() -> None:
    frame = eth(ipv4(v2_message())) + b"\0" * 6  # 6 bytes of Ethernet padding
    ip = parse_ipv4(frame, 14)
    assert isinstance(ip, IpLayer)
    assert (ip.payload_offset, ip.payload_len, len(ip.payload)) == (34, 20, 20)
    assert ip.src_raw == socket.inet_aton(SRC4) and ip.dst_raw == socket.inet_aton(GROUP4)
    six = parse_ipv6(eth(ipv6(b"\0" * 8), 0x86DD) + b"\0" * 4, 14)
    assert isinstance(six, IpLayer)
    assert (six.payload_offset, six.payload_len, six.payload) == (54, 8, b"\0" * 8)


# --- checksum helpers -----------------------------------------------------------------------------


def test_checksum_helpers_agree_with_reference() -> None:
    for data in (b"", b"\x01", b"\x45\x00\x00\x1c", bytes(range(255)), b"\xff\xff", b"\0\0\0"):
        assert internet_checksum(data) == ref_checksum(data)
    assert ones_sum(b"\0\0") == 0 and ones_sum(b"\xff\xff") == 0xFFFF and ones_sum(b"\x80\0\x80\0") == 0x0001
    assert not verify(ones_sum(b"\0" * 8))  # all-zero data has +0, not -0
    assert (
        ipv4_pseudo_header(b"\1\2\3\4", b"\5\6\7\x08", 112, 20)
        == bytes.fromhex("0102030405060708") + b"\0\x70\0\x14"
    )
    src6, dst6 = bytes(range(16)), bytes(range(16, 32))
    assert ipv6_pseudo_header(src6, dst6, 112, 24) == src6 + dst6 + b"\0\0\0\x18\0\0\0\x70"


# --- tshark spot check ----------------------------------------------------------------------


def _write_pcap(path: Path, frames: list[bytes]) -> None:
    """Classic pcap, Ethernet, microsecond stamps: header + records (written by hand)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, frame in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


@pytest.mark.tshark
def test_spot_check_against_tshark(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required in CI")
        pytest.skip("tshark not installed")
    v3 = v3_message(("192.0.2.100", "192.0.2.101"), vrid=77, prio=200, interval_cs=50)
    v3 = with_checksum(v3, ref_checksum(pseudo4(SRC4, GROUP4, len(v3)) + v3))
    v6 = v3_message(("fe80::100",), family="ipv6", vrid=78)
    v6 = with_checksum(v6, ref_checksum(pseudo6(SRC6, GROUP6, len(v6)) + v6))
    bad = with_checksum(v3, 0x1234)
    frames = [V2_FRAME, eth(ipv4(v3)), eth(ipv6(v6), 0x86DD), eth(ipv4(bad))]
    pcap = tmp_path / "spot.pcap"
    _write_pcap(pcap, frames)
    fields = [
        "vrrp.version",
        "vrrp.virt_rtr_id",
        "vrrp.prio",
        "vrrp.addr_count",
        "vrrp.checksum",
        "vrrp.checksum.status",
        "vrrp.ip_addr",
        "vrrp.ipv6_addr",
        "vrrp.adver_int",
        "vrrp.short_adver_int",
    ]
    cmd = ["tshark", "-n", "-r", str(pcap), "-T", "fields", "-E", "separator=|", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"})
    rows = [line.split("|") for line in out.stdout.splitlines()]
    assert len(rows) == len(frames)
    for frame, row in zip(frames, rows, strict=True):
        m = decode(frame).message
        assert isinstance(m, (VrrpV2Advert, VrrpV3Advert))
        got = dict(zip(fields, row, strict=True))
        assert int(got["vrrp.version"]) == m.version
        assert int(got["vrrp.virt_rtr_id"]) == m.vrid
        assert int(got["vrrp.prio"]) == m.priority
        assert int(got["vrrp.addr_count"]) == m.count_ip_addrs
        assert int(got["vrrp.checksum"], 16) == m.checksum
        # tshark 4.0: 0 = bad, 1 = good (default pref: v3 IPv4 with pseudo-header)
        assert int(got["vrrp.checksum.status"]) == (1 if m.checksum_ok else 0)
        addrs = got["vrrp.ip_addr"] or got["vrrp.ipv6_addr"]
        assert tuple(addrs.split(",")) == m.addresses
        if isinstance(m, VrrpV2Advert):
            assert int(got["vrrp.adver_int"]) == m.advert_int
        else:
            assert int(got["vrrp.short_adver_int"]) == m.max_advert_int_cs


# --- dissect(): cache and safety net ----------------------------------------------------------


def test_repeated_frames_share_one_record_but_other_bytes_do_not() -> None:
    first = eth(ipv4(v2_message(("192.0.2.100",)), ident=1))
    again = eth(ipv4(v2_message(("192.0.2.100",)), ident=2))  # new id and header checksum
    assert first != again
    d1, d2 = dissect(ETH, first), dissect(ETH, again)
    assert d1 is not None and d1 is d2  # same immutable object from the cache
    assert decode_frame(ETH, first) == decode_frame(ETH, again)
    other = dissect(ETH, eth(ipv4(v2_message(("192.0.2.100",), prio=7), ident=1)))
    assert other is not None and isinstance(other.message, VrrpV2Advert) and other.message.priority == 7
    ttl = dissect(ETH, eth(ipv4(v2_message(("192.0.2.100",)), ident=1, ttl=64)))
    assert ttl is not None and ttl.ip is not None and ttl.ip.ttl == 64


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from dissectors import packet

    packet.clear_cache()
    monkeypatch.setattr(packet, "CACHE_SIZE", 8)
    for vrid in range(1, 30):
        d = dissect(ETH, eth(ipv4(v2_message(vrid=vrid))))
        assert d is not None and isinstance(d.message, VrrpV2Advert) and d.message.vrid == vrid
        assert len(packet._cache) <= 8
    packet.clear_cache()
    assert not packet._cache


def test_safety_net_turns_a_decoder_bug_into_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from dissectors import packet

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("boom")

    packet.clear_cache()
    monkeypatch.setattr(packet, "decode_vrrp", broken)
    frame = eth(ipv4(v2_message(vrid=201)))
    d = dissect(ETH, frame)
    assert d is not None and isinstance(d.message, Malformed)
    assert (d.message.layer, d.message.reason, d.message.detail) == (
        "decoder",
        "internal_error",
        "ValueError: boom",
    )
    with pytest.raises(ValueError, match="boom"):
        dissect(ETH, frame, strict=True)
    packet.clear_cache()


@pytest.mark.tshark
def test_carp_fields_against_tshark(tmp_path: Path) -> None:
    """tshark's CARP heuristic (tried first) reads the same fields from a CARP advert.

    Wireshark's heuristic (packet-carp.c) needs authlen 7, so only such adverts are compared; ours
    also accepts another authlen when the 36-byte checksum validates (tested above).
    """
    if shutil.which("tshark") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tshark is required in CI")
        pytest.skip("tshark not installed")
    frames = [
        eth(
            ipv4(carp_message(vhid=9, advskew=200, advbase=2, counter=0xFEDCBA9876543210)),
            src="00:00:5e:00:01:09",
        ),
        eth(ipv4(carp_message(vhid=200, advskew=0, counter=5), src="192.0.2.2")),
    ]
    pcap = tmp_path / "carp.pcap"
    _write_pcap(pcap, frames)
    fields = [
        "carp.version",
        "carp.type",
        "carp.vhid",
        "carp.advskew",
        "carp.authlen",
        "carp.adver_int",
        "carp.counter",
    ]
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(pcap),
        "-o",
        "ip.try_heuristic_first:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=|",
    ]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"})
    rows = [line.split("|") for line in out.stdout.splitlines()]
    assert len(rows) == len(frames)
    for frame, row in zip(frames, rows, strict=True):
        m = decode(frame).message
        assert isinstance(m, CarpAdvert)
        assert [int(v) for v in row] == [
            m.version,
            m.type,
            m.vhid,
            m.advskew,
            m.authlen,
            m.advbase,
            m.counter,
        ]
