"""Hostile input: every prefix and many bit flips of real-shaped frames, plus random bytes.

The only contract here is "a record, a Malformed or None — never an exception" (STYLE.md §4.6
item 31). Decoders are called *directly* and through :func:`dissectors.packet.decode_frame`, which
have no safety net, so an internal exception fails the test instead of becoming an
``internal_error`` record. :func:`dissectors.packet.dissect` must then agree with the strict result,
and the fast pre-filter must never reject a frame that decodes to something.
"""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors.arp import decode_arp
from dissectors.carp import decode_carp, looks_like_carp
from dissectors.checksum import internet_checksum, ones_sum, verify
from dissectors.ip import IpLayer, IpProblem, parse_ah, parse_ipv4, parse_ipv6
from dissectors.link import parse_link
from dissectors.names import MALFORMED_REASONS
from dissectors.nd import decode_nd
from dissectors.packet import decode_frame, dissect, is_candidate
from dissectors.records import (
    ArpPacket,
    CarpAdvert,
    Dissected,
    LinkInfo,
    Malformed,
    NdMessage,
    VrrpV2Advert,
    VrrpV3Advert,
)
from dissectors.vrrp import decode_vrrp

LINKTYPES = (1, 101, 113, 228, 229, 276)
MESSAGES = (VrrpV2Advert, VrrpV3Advert, CarpAdvert, ArpPacket, NdMessage, Malformed)


# --- a corpus of well-formed frames of every shape the dissectors know --------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _fix(body: bytes) -> bytes:
    """Fill the checksum field (bytes 6-7, zero in ``body``) with the plain message checksum."""
    return body[:6] + struct.pack("!H", _csum(body)) + body[8:]


def _v4(
    payload: bytes, proto: int = 112, dst: str = "224.0.0.18", options: bytes = b"", frag: int = 0
) -> bytes:
    ihl = 5 + len(options) // 4
    return (
        struct.pack("!BBHHHBBH", 0x40 | ihl, 0, 4 * ihl + len(payload), 7, frag, 255, proto, 0)
        + socket.inet_aton("192.0.2.1")
        + socket.inet_aton(dst)
        + options
        + payload
    )


def _v6(payload: bytes, nh: int = 112, src: str = "fe80::1", dst: str = "ff02::12") -> bytes:
    return (
        struct.pack("!IHBB", 0x60000000, len(payload), nh, 255)
        + socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + payload
    )


def _eth(payload: bytes, ethertype: int, tags: bytes = b"") -> bytes:
    return b"\x01\x00\x5e\x00\x00\x12\x02\x00\x00\x00\x00\x01" + tags + struct.pack("!H", ethertype) + payload


def _v2msg(n: int = 2, auth_type: int = 1, trailer: bytes = b"") -> bytes:
    body = struct.pack("!BBBBBBH", 0x21, 51, 100, n, auth_type, 1, 0)
    body += b"".join(socket.inet_aton(f"192.0.2.{100 + i}") for i in range(n)) + b"secret\0\0"
    return _fix(body) + trailer


def _v3msg4(n: int = 2) -> bytes:
    body = struct.pack("!BBBBHH", 0x31, 52, 200, n, 100, 0)
    body += b"".join(socket.inet_aton(f"192.0.2.{100 + i}") for i in range(n))
    pseudo = (
        socket.inet_aton("192.0.2.1")
        + socket.inet_aton("224.0.0.18")
        + struct.pack("!BBH", 0, 112, len(body))
    )
    return body[:6] + struct.pack("!H", _csum(pseudo + body)) + body[8:]


def _v3msg6(n: int = 2) -> bytes:
    body = struct.pack("!BBBBHH", 0x31, 53, 150, n, 100, 0)
    body += b"".join(socket.inet_pton(socket.AF_INET6, f"fe80::{100 + i:x}") for i in range(n))
    pseudo = (
        socket.inet_pton(socket.AF_INET6, "fe80::1")
        + socket.inet_pton(socket.AF_INET6, "ff02::12")
        + struct.pack("!I3xB", len(body), 112)
    )
    return body[:6] + struct.pack("!H", _csum(pseudo + body)) + body[8:]


def _carp() -> bytes:
    body = struct.pack("!BBBBBBHQ", 0x21, 3, 0, 7, 0, 1, 0, 42) + bytes(20)
    return _fix(body)


def _ah(nh: int = 112) -> bytes:
    return struct.pack("!BBHII", nh, 4, 0, 0x100, 9) + bytes(range(12))


def _arp(op: int = 1) -> bytes:
    return (
        struct.pack("!HHBBH", 1, 0x0800, 6, 4, op)
        + b"\x02\x00\x00\x00\x00\x01"
        + socket.inet_aton("192.0.2.100")
        + b"\xff" * 6
        + socket.inet_aton("192.0.2.100")
    )


def _na() -> bytes:
    return (
        struct.pack("!BBHB3x", 136, 0, 0x1234, 0x20)
        + socket.inet_pton(socket.AF_INET6, "2001:db8::100")
        + bytes([2, 1])
        + b"\x02\0\0\0\0\x01"
    )


def _ns() -> bytes:
    return (
        struct.pack("!BBHI", 135, 0, 0x4321, 0)
        + socket.inet_pton(socket.AF_INET6, "fe80::2")
        + bytes([1, 1])
        + b"\x02\0\0\0\0\x02"
    )


def _sll(payload: bytes, proto: int) -> bytes:
    return struct.pack("!HHH8sH", 2, 1, 6, b"\x02\0\0\0\0\x01\0\0", proto) + payload


def _sll2(payload: bytes, proto: int) -> bytes:
    return struct.pack("!HHIHBB8s", proto, 0, 5, 1, 2, 6, b"\x02\0\0\0\0\x01\0\0") + payload


_HOP = bytes([112, 0, 5, 2, 0, 0, 1, 0])  # hop-by-hop, next header VRRP
_VLAN = struct.pack("!HH", 0x8100, 30)
_QINQ = struct.pack("!HHHH", 0x9100, 100, 0x8100, 30)

CORPUS: dict[str, tuple[int, bytes]] = {
    "v2": (1, _eth(_v4(_v2msg()), 0x0800)),
    "v2_count0": (1, _eth(_v4(_v2msg(0)), 0x0800)),
    "v2_trailer": (1, _eth(_v4(_v2msg(1, trailer=bytes(range(28)))), 0x0800)),
    "v2_options": (1, _eth(_v4(_v2msg(1), options=b"\x94\x04\0\0"), 0x0800)),
    "v2_fragment": (1, _eth(_v4(_v2msg(1), frag=0x2000), 0x0800)),
    "v2_ah": (1, _eth(_v4(_ah() + _v2msg(1, auth_type=2), proto=51), 0x0800)),
    "v2_vlan": (1, _eth(_v4(_v2msg()), 0x0800, _VLAN)),
    "v3_ipv4_qinq": (1, _eth(_v4(_v3msg4()), 0x0800, _QINQ)),
    "v3_ipv4_unicast": (1, _eth(_v4(_v3msg4(1), dst="192.0.2.2"), 0x0800)),
    "v3_ipv6": (1, _eth(_v6(_v3msg6()), 0x86DD)),
    "v3_ipv6_hop": (1, _eth(_v6(_HOP + _v3msg6(1), nh=0), 0x86DD)),
    "v3_ipv6_ah": (1, _eth(_v6(_ah() + _v3msg6(1), nh=51), 0x86DD)),
    "carp4": (1, _eth(_v4(_carp()), 0x0800)),
    "carp6": (1, _eth(_v6(_carp()), 0x86DD)),
    "arp": (1, _eth(_arp(), 0x0806) + bytes(18)),
    "arp_vlan": (1, _eth(_arp(2), 0x0806, _VLAN)),
    "na": (1, _eth(_v6(_na(), nh=58, src="2001:db8::100", dst="ff02::1"), 0x86DD)),
    "ns": (1, _eth(_v6(_ns(), nh=58, dst="ff02::1:ff00:2"), 0x86DD)),
    "sll_v2": (113, _sll(_v4(_v2msg()), 0x0800)),
    "sll_vlan_na": (113, _sll(struct.pack("!HH", 7, 0x86DD) + _v6(_na(), nh=58), 0x8100)),
    "sll2_v3": (276, _sll2(_v6(_v3msg6()), 0x86DD)),
    "sll2_arp": (276, _sll2(_arp(), 0x0806)),
    "raw_v2": (101, _v4(_v2msg())),
    "raw_v6": (101, _v6(_v3msg6(1))),
    "ipv4_v3": (228, _v4(_v3msg4())),
    "ipv6_na": (229, _v6(_na(), nh=58)),
}


# --- the strict check ----------------------------------------------------------------------------


def check_frame(linktype: int, data: bytes) -> Dissected | None:
    """Decode strictly and check the contract; returns the result for further assertions."""
    result = decode_frame(linktype, data)  # raises on a decoder bug
    if result is not None:
        assert isinstance(result, Dissected)
        assert isinstance(result.link, LinkInfo)
        assert isinstance(result.message, MESSAGES)
        check_message(result.message, len(data))
        assert is_candidate(linktype, data), "pre-filter rejected a frame that decodes"
    assert dissect(linktype, data) == result
    return result


def check_message(message: object, frame_len: int) -> None:
    """A Malformed has a catalogued reason and an offset inside the frame."""
    if isinstance(message, Malformed):
        assert message.reason in MALFORMED_REASONS, message.reason
        assert message.reason != "internal_error"
        assert 0 <= message.offset <= frame_len, message
        assert message.detail


def test_corpus_decodes_to_records() -> None:
    """Every corpus frame is well-formed (so prefixes and flips below start from real shapes)."""
    expected = {
        "v2_fragment": Malformed,
        "carp4": CarpAdvert,
        "carp6": CarpAdvert,
        "arp": ArpPacket,
        "arp_vlan": ArpPacket,
        "sll2_arp": ArpPacket,
        "na": NdMessage,
        "ns": NdMessage,
        "sll_vlan_na": NdMessage,
        "ipv6_na": NdMessage,
    }
    for name, (linktype, frame) in CORPUS.items():
        d = check_frame(linktype, frame)
        assert d is not None, name
        want = expected.get(name, (VrrpV2Advert, VrrpV3Advert))
        assert isinstance(d.message, want), (name, d.message)
        if isinstance(d.message, (VrrpV2Advert, VrrpV3Advert)):
            assert d.message.checksum_ok, name


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_prefix(name: str) -> None:
    linktype, frame = CORPUS[name]
    for end in range(len(frame) + 1):
        check_frame(linktype, frame[:end])


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bit_flips(name: str) -> None:
    linktype, frame = CORPUS[name]
    for pos in range(len(frame)):
        for mask in (0x01, 0x10, 0x80, 0xFF):
            mutated = frame[:pos] + bytes([frame[pos] ^ mask]) + frame[pos + 1 :]
            check_frame(linktype, mutated)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_sub_decoders_on_every_prefix(name: str) -> None:
    """Call each layer's decoder directly on every prefix of its own input."""
    linktype, frame = CORPUS[name]
    for end in range(len(frame) + 1):
        r = parse_link(linktype, frame[:end])
        assert r is None or (isinstance(r[0], LinkInfo) and r[1] <= end)
    link = parse_link(linktype, frame)
    assert link is not None
    info, offset = link
    for end in range(offset, len(frame) + 1):
        data = frame[:end]
        for parser in (parse_ipv4, parse_ipv6):
            ip = parser(data, offset)
            assert ip is None or isinstance(ip, (IpLayer, IpProblem))
            if isinstance(ip, IpProblem):
                check_message(ip.malformed, len(data))
        payload = data[offset:]
        arp = decode_arp(payload, offset)
        assert isinstance(arp, (ArpPacket, Malformed))
        check_message(arp, len(data))
        for claimed in (None, 0, len(payload), len(payload) + 7, 36):
            nd = decode_nd(payload, claimed, offset)
            assert nd is None or isinstance(nd, (NdMessage, Malformed))
            check_message(nd, len(data) + 7 + 36)
    ip = parse_ipv4(frame, offset) if info.ethertype == 0x0800 else parse_ipv6(frame, offset)
    if not isinstance(ip, IpLayer):
        return
    upper = ip.payload
    for end in range(len(upper) + 1):
        part = upper[:end]
        for family in ("ipv4", "ipv6"):
            for claimed in (None, 0, 8, end, ip.payload_len, 36, 10_000):
                m = decode_vrrp(part, family=family, src=ip.src_raw, dst=ip.dst_raw, claimed_len=claimed)
                assert isinstance(m, (VrrpV2Advert, VrrpV3Advert, CarpAdvert, Malformed))
                check_message(m, 10_000)
                assert isinstance(looks_like_carp(part, claimed or 0, family), bool)
        c = decode_carp(part)
        assert isinstance(c, (CarpAdvert, Malformed))
        nd = decode_nd(part)
        assert nd is None or isinstance(nd, (NdMessage, Malformed))
    # AH where it would start (after a 20- or 40-byte IP header), IP length and capture cut anywhere
    for start in (offset + 20, offset + 40):
        for end in range(start, len(frame) + 1):
            for claimed_end in (end, len(frame)):
                ah = parse_ah(frame[:end], start, claimed_end, end)
                assert ah is None or isinstance(ah, Malformed) or ah[1] >= 12
                check_message(ah, len(frame))


# --- properties ---------------------------------------------------------------------------------

SWEEP = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_headers = st.sampled_from(
    [
        b"",
        b"\x01\x00\x5e\x00\x00\x12\x02\x00\x00\x00\x00\x01\x08\x00",
        b"\x01\x00\x5e\x00\x00\x12\x02\x00\x00\x00\x00\x01\x86\xdd",
        b"\x01\x00\x5e\x00\x00\x12\x02\x00\x00\x00\x00\x01\x08\x06",
        b"\x01\x00\x5e\x00\x00\x12\x02\x00\x00\x00\x00\x01\x81\x00\x00\x1e\x08\x00",
        b"\x45\x00\x00\x30\x00\x00\x00\x00\xff\x70\x00\x00\xc0\x00\x02\x01\xe0\x00\x00\x12",
        b"\x45\x00\x00\x40\x00\x00\x00\x00\xff\x33\x00\x00\xc0\x00\x02\x01\xe0\x00\x00\x12\x70",
        b"\x60\x00\x00\x00\x00\x20\x70\xff" + bytes(32),
        b"\x60\x00\x00\x00\x00\x20\x3a\xff" + bytes(32) + b"\x88",
        b"\x60\x00\x00\x00\x00\x20\x00\xff" + bytes(32),
    ]
)


@SWEEP
@given(linktype=st.sampled_from((*LINKTYPES, 0, 12, 9999)), head=_headers, tail=st.binary(max_size=120))
def test_random_bytes_never_raise(linktype: int, head: bytes, tail: bytes) -> None:
    check_frame(linktype, head + tail)


@SWEEP
@given(
    name=st.sampled_from(sorted(CORPUS)),
    edits=st.lists(st.tuples(st.integers(min_value=0, max_value=4095), st.integers(0, 255)), max_size=6),
    cut=st.integers(min_value=0, max_value=4096),
)
def test_random_edits_of_real_frames(name: str, edits: list[tuple[int, int]], cut: int) -> None:
    linktype, frame = CORPUS[name]
    data = bytearray(frame)
    for pos, value in edits:
        data[pos % len(data)] = value
    check_frame(linktype, bytes(data[: max(cut, 1) if cut < len(data) else len(data)]))


@SWEEP
@given(st.binary(max_size=200))
def test_checksum_matches_reference_loop(data: bytes) -> None:
    assert internet_checksum(data) == _csum(data)
    even = data + b"\0" * (len(data) % 2)
    assert verify(ones_sum(even + struct.pack("!H", internet_checksum(even))))
    if data.strip(b"\0"):
        assert not verify(ones_sum(even + struct.pack("!H", internet_checksum(even) ^ 0x0001)))


def test_bytes_like_input_is_accepted_by_dissect() -> None:
    linktype, frame = CORPUS["v2"]
    want = decode_frame(linktype, frame)
    assert dissect(linktype, bytearray(frame)) == want  # type: ignore[arg-type]
    assert dissect(linktype, memoryview(frame)) == want  # type: ignore[arg-type]
