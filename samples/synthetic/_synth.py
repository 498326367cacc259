"""Shared building blocks for the synthetic capture scripts in this folder (scapy based).

Every ``<case>.pcap.py`` / ``<case>.pcapng.py`` script imports this module, builds a handful of frames
and calls one of the writers below. Everything is deterministic: fixed timestamps (``T0`` plus fixed
offsets), fixed locally administered MAC addresses, documentation addresses only (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, fe80::/10), and never a default that scapy would take
from the host (source MAC/IP, routing table).

The VRRP checksum of each frame is computed here explicitly (never left to scapy) so every variant of
PROTOCOL.md §9.3 can be produced on purpose: ``v2`` (message only), ``pseudo`` (IPv4 pseudo-header with
the real addresses: keepalived/FRR/Wireshark default), ``plain`` (RFC 9568 message only), ``mcast``
(pseudo-header with destination 224.0.0.18: keepalived < 1.3.6 unicast), ``ipv6`` (RFC 8200 §8.1) and
``bad`` (none of them validates).
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import ipaddress
import struct
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.ipsec import AH
from scapy.layers.l2 import ARP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, PcapWriter

#: Capture clock origin of every synthetic capture (2023-11-14T22:13:20Z); frames add fixed offsets.
T0 = Decimal("1700000000")

# Locally administered MAC addresses (02:...) for routers and hosts; RFC virtual router MACs.
MAC_R1 = "02:00:00:00:01:01"
MAC_R2 = "02:00:00:00:01:02"
MAC_HOST = "02:00:00:00:02:01"
MAC_GW = "02:00:00:00:02:fe"
MAC_BCAST = "ff:ff:ff:ff:ff:ff"
MAC_VRRP4_MCAST = "01:00:5e:00:00:12"  # 224.0.0.18
MAC_VRRP6_MCAST = "33:33:00:00:00:12"  # ff02::12
MAC_ALLNODES6 = "33:33:00:00:00:01"  # ff02::1


def vmac4(vrid: int) -> str:
    """The IPv4 virtual router MAC 00:00:5e:00:01:{VRID} (RFC 9568 §7.3)."""
    return f"00:00:5e:00:01:{vrid:02x}"


def vmac6(vrid: int) -> str:
    """The IPv6 virtual router MAC 00:00:5e:00:02:{VRID} (RFC 9568 §7.3)."""
    return f"00:00:5e:00:02:{vrid:02x}"


IP_R1 = "192.0.2.1"
IP_R2 = "192.0.2.2"
IP_HOST = "192.0.2.50"
VIP1 = "192.0.2.100"
VIP2 = "192.0.2.101"
VIP3 = "192.0.2.102"
VIP4 = "203.0.113.10"
VRRP4_GROUP = "224.0.0.18"
LL_R1 = "fe80::1"
LL_R2 = "fe80::2"
LL_HOST = "fe80::50"
VIP6_LL = "fe80::100"
VIP6 = "2001:db8::100"
VIP6_2 = "2001:db8::101"
VRRP6_GROUP = "ff02::12"
ALLNODES6 = "ff02::1"

IPPROTO_AH = 51
IPPROTO_VRRP = 112

# Link types written into capture headers (tcpdump.org/linktypes.html).
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


# --------------------------------------------------------------------------------------------------
# Checksums (RFC 1071) and VRRP messages
# --------------------------------------------------------------------------------------------------


def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum of ``data`` (odd length padded with one zero byte)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def pseudo4(src: str, dst: str, length: int) -> bytes:
    """IPv4 pseudo-header (source, destination, zero, protocol 112, length)."""
    return (
        ipaddress.IPv4Address(src).packed
        + ipaddress.IPv4Address(dst).packed
        + struct.pack("!BBH", 0, IPPROTO_VRRP, length)
    )


def pseudo6(src: str, dst: str, length: int) -> bytes:
    """IPv6 pseudo-header (RFC 8200 §8.1) for next header 112."""
    return (
        ipaddress.IPv6Address(src).packed
        + ipaddress.IPv6Address(dst).packed
        + struct.pack("!I3xB", length, IPPROTO_VRRP)
    )


def vrrp_checksum(message: bytes, variant: str, src: str, dst: str) -> int:
    """Checksum for a VRRP ``message`` whose checksum field is zero, per ``variant``.

    ``v2``/``plain``: message only; ``pseudo``: IPv4 pseudo-header with ``src``/``dst``; ``mcast``:
    IPv4 pseudo-header with destination 224.0.0.18; ``ipv6``: RFC 8200 pseudo-header; ``bad``: the
    ``pseudo`` value with its bits flipped in a pattern no other variant produces.
    """
    if variant in ("v2", "plain"):
        return inet_checksum(message)
    if variant == "pseudo":
        return inet_checksum(pseudo4(src, dst, len(message)) + message)
    if variant == "mcast":
        return inet_checksum(pseudo4(src, VRRP4_GROUP, len(message)) + message)
    if variant == "ipv6":
        return inet_checksum(pseudo6(src, dst, len(message)) + message)
    if variant == "bad":
        good = {
            inet_checksum(message),
            inet_checksum(pseudo4(src, dst, len(message)) + message),
            inet_checksum(pseudo4(src, VRRP4_GROUP, len(message)) + message),
        }
        bad = inet_checksum(pseudo4(src, dst, len(message)) + message) ^ 0x1234
        while bad in good:
            bad = (bad + 1) & 0xFFFF
        return bad
    raise ValueError(f"unknown checksum variant {variant!r}")


def patch_checksum(message: bytes, checksum: int) -> bytes:
    """``message`` with its checksum field (bytes 6-7) set to ``checksum``."""
    return message[:6] + struct.pack("!H", checksum) + message[8:]


def vrrp2_message(
    vrid: int,
    priority: int,
    vips: Sequence[str],
    *,
    auth_type: int = 0,
    auth_data: bytes = b"",
    advert_int: int = 1,
    count: int | None = None,
    checksum: str | int = "v2",
    version: int = 2,
    type_: int = 1,
) -> bytes:
    """A VRRPv2 message (RFC 3768 §5.1) built with scapy's ``VRRP`` layer, checksum set explicitly.

    ``count`` overrides Count IP Addrs (to forge inconsistent packets); ``auth_data`` is padded or cut
    to 8 bytes; ``checksum`` is a variant name for :func:`vrrp_checksum` or a literal value.
    """
    auth = (auth_data + b"\0" * 8)[:8]
    layer = VRRP(
        version=version,
        type=type_,
        vrid=vrid,
        priority=priority,
        ipcount=len(vips) if count is None else count,
        authtype=auth_type,
        adv=advert_int,
        chksum=0,
        addrlist=list(vips),
        auth1=int.from_bytes(auth[:4], "big"),
        auth2=int.from_bytes(auth[4:], "big"),
    )
    message = bytes(layer)
    value = checksum if isinstance(checksum, int) else vrrp_checksum(message, checksum, "0.0.0.0", "0.0.0.0")
    return patch_checksum(message, value)


def vrrp3_message(
    vrid: int,
    priority: int,
    vips: Sequence[str],
    *,
    src: str,
    dst: str,
    advert_int_cs: int = 100,
    count: int | None = None,
    checksum: str | int = "pseudo",
    reserved: int = 0,
) -> bytes:
    """A VRRPv3 message (RFC 9568 §5.1) built with scapy's ``VRRPv3`` layer, checksum set explicitly.

    The address family follows ``src``; ``checksum`` is a variant name for :func:`vrrp_checksum`
    (computed with ``src``/``dst``) or a literal value.
    """
    ipv6 = ":" in src
    under: Packet = (
        IPv6(src=src, dst=dst, nh=IPPROTO_VRRP) if ipv6 else IP(src=src, dst=dst, proto=IPPROTO_VRRP)
    )
    pkt = under / VRRPv3(
        vrid=vrid,
        priority=priority,
        ipcount=len(vips) if count is None else count,
        res=reserved,
        adv=advert_int_cs,
        chksum=0,
        addrlist=list(vips),
    )
    message = bytes(pkt[VRRPv3])
    if isinstance(checksum, int):
        value = checksum
    else:
        value = vrrp_checksum(message, "ipv6" if ipv6 and checksum == "pseudo" else checksum, src, dst)
    return patch_checksum(message, value)


def hmac_trailer(message: bytes, *, key_id: int = 1, sec: int = 1700000000, ctr: int = 0) -> bytes:
    """A 28-byte trailer shaped like keepalived 2.4's ``auth_hmac`` extension (draft-cassen-vrrp-auth-hmac).

    ext_type(1)=1 (HMAC-SHA256/128), key_id(1), reserved(2), sec(4), subsec(2), ctr(2), then 16 bytes of
    HMAC-SHA256 (here over the message and the header fields with a fixed key: deterministic bytes of
    the right shape, not an interoperable signature).
    """
    head = struct.pack("!BBHIHH", 1, key_id, 0, sec, 0x8000, ctr)
    mac = hmac.new(b"vrrpscope-synthetic-key-32-bytes", message + head, hashlib.sha256).digest()[:16]
    return head + mac


# --------------------------------------------------------------------------------------------------
# IP packets
# --------------------------------------------------------------------------------------------------


def ip4(src: str, dst: str, proto: int, payload: bytes | Packet, *, ttl: int = 255, ident: int = 0) -> Packet:
    """An IPv4 packet with every header field fixed (DF clear, TOS 0)."""
    return IP(src=src, dst=dst, proto=proto, ttl=ttl, id=ident) / (
        Raw(payload) if isinstance(payload, bytes) else payload
    )


def ip6(src: str, dst: str, nh: int, payload: bytes | Packet, *, hlim: int = 255) -> Packet:
    """An IPv6 packet with every header field fixed."""
    return IPv6(src=src, dst=dst, nh=nh, hlim=hlim) / (
        Raw(payload) if isinstance(payload, bytes) else payload
    )


def vrrp_ah_packet(src: str, message: bytes, *, spi: int, seq: int, key: bytes, ident: int = 0) -> Packet:
    """VRRPv2 inside IPsec AH as keepalived's ``auth_type AH`` sends it (PROTOCOL.md §4.4).

    IPv4 protocol 51; AH (RFC 4302) next header 112, payload length 4 (24-byte header), SPI, sequence
    and a 12-byte ICV = HMAC-MD5-96 over the IP header with mutable fields zeroed, the AH header
    with a zero ICV, and the VRRP message.
    """
    ah_zero = AH(nh=IPPROTO_VRRP, payloadlen=4, spi=spi, seq=seq, icv=b"\0" * 12)
    pkt = IP(src=src, dst=VRRP4_GROUP, proto=IPPROTO_AH, ttl=255, id=ident) / ah_zero / Raw(message)
    raw = bytearray(bytes(pkt))
    mutable = bytearray(raw)
    mutable[1] = 0  # TOS
    mutable[6:8] = b"\0\0"  # flags + fragment offset
    mutable[8] = 0  # TTL
    mutable[10:12] = b"\0\0"  # header checksum
    icv = hmac.new(key, bytes(mutable), hashlib.md5).digest()[:12]
    ah = AH(nh=IPPROTO_VRRP, payloadlen=4, spi=spi, seq=seq, icv=icv)
    return IP(src=src, dst=VRRP4_GROUP, proto=IPPROTO_AH, ttl=255, id=ident) / ah / Raw(message)


def vrrp4(src: str, message: bytes, *, dst: str = VRRP4_GROUP, ttl: int = 255, ident: int = 0) -> Packet:
    """IPv4 packet carrying a VRRP message (protocol 112)."""
    return ip4(src, dst, IPPROTO_VRRP, message, ttl=ttl, ident=ident)


def vrrp6(src: str, message: bytes, *, dst: str = VRRP6_GROUP, hlim: int = 255) -> Packet:
    """IPv6 packet carrying a VRRP message (next header 112)."""
    return ip6(src, dst, IPPROTO_VRRP, message, hlim=hlim)


def garp_request(mac: str, vip: str) -> Packet:
    """keepalived's gratuitous ARP: a request, SPA = TPA = VIP, THA = ff:ff:ff:ff:ff:ff (§4.3)."""
    return ARP(op=1, hwsrc=mac, psrc=vip, hwdst=MAC_BCAST, pdst=vip)


def garp_reply(mac: str, vip: str) -> Packet:
    """Gratuitous ARP in reply form (SPA = TPA = VIP, THA = SHA), as some routers send it."""
    return ARP(op=2, hwsrc=mac, psrc=vip, hwdst=mac, pdst=vip)


def arp_request(mac: str, ip: str, target_ip: str) -> Packet:
    """An ordinary ARP request (THA zero)."""
    return ARP(op=1, hwsrc=mac, psrc=ip, hwdst="00:00:00:00:00:00", pdst=target_ip)


def arp_reply(mac: str, ip: str, to_mac: str, to_ip: str) -> Packet:
    """An ordinary unicast ARP reply."""
    return ARP(op=2, hwsrc=mac, psrc=ip, hwdst=to_mac, pdst=to_ip)


def unsolicited_na(mac: str, vip: str, *, router: bool = False) -> Packet:
    """keepalived's unsolicited NA: src = VIP, dst ff02::1, hop limit 255, S=0, O=1, TLLA (§4.3)."""
    return (
        IPv6(src=vip, dst=ALLNODES6, hlim=255)
        / ICMPv6ND_NA(R=int(router), S=0, O=1, tgt=vip)
        / ICMPv6NDOptDstLLAddr(lladdr=mac)
    )


def solicited_na(mac: str, src: str, dst: str, target: str) -> Packet:
    """A solicited NA (S=1, O=1) answering an NS, with TLLA."""
    return (
        IPv6(src=src, dst=dst, hlim=255)
        / ICMPv6ND_NA(R=0, S=1, O=1, tgt=target)
        / ICMPv6NDOptDstLLAddr(lladdr=mac)
    )


def neighbor_solicit(mac: str, src: str, target: str) -> Packet:
    """A multicast NS to the target's solicited-node group, with SLLA."""
    t = ipaddress.IPv6Address(target).packed
    snm = str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + t[-3:]))
    return IPv6(src=src, dst=snm, hlim=255) / ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=mac)


def mcast_mac6(dst: str) -> str:
    """The Ethernet multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast address."""
    tail = ipaddress.IPv6Address(dst).packed[-4:]
    return "33:33:" + tail.hex(":")


# --------------------------------------------------------------------------------------------------
# Noise: frames that are neither VRRP nor ARP nor ND and must never be reported.
# --------------------------------------------------------------------------------------------------


def noise4() -> list[Packet]:
    """IPv4 noise: ICMP echo, TCP SYN, UDP (DNS-like), IGMPv2 report to 224.0.0.22."""
    igmp = bytes.fromhex("16000000e0000016")
    igmp = igmp[:2] + struct.pack("!H", inet_checksum(igmp)) + igmp[4:]
    return [
        IP(src=IP_HOST, dst=IP_R1, ttl=64, id=7) / ICMP(type=8, id=1, seq=1) / Raw(b"vrrpscope"),
        IP(src=IP_HOST, dst="203.0.113.80", ttl=64, id=8) / TCP(sport=40000, dport=80, flags="S", seq=1000),
        IP(src=IP_HOST, dst="198.51.100.53", ttl=64, id=9)
        / UDP(sport=40001, dport=53)
        / Raw(b"\x12\x34" + b"\0" * 10),
        IP(src=IP_HOST, dst="224.0.0.22", ttl=1, id=10, proto=2) / Raw(igmp),
    ]


def noise6() -> list[Packet]:
    """IPv6 noise: ICMPv6 echo request and a router solicitation (type 133, not NS/NA)."""
    return [
        IPv6(src="2001:db8::50", dst="2001:db8::1", hlim=64)
        / ICMPv6EchoRequest(id=1, seq=1, data=b"vrrpscope"),
        IPv6(src=LL_HOST, dst="ff02::2", hlim=255) / ICMPv6ND_RS(),
    ]


# --------------------------------------------------------------------------------------------------
# Link layers
# --------------------------------------------------------------------------------------------------


def _ethertype(pkt: Packet) -> int:
    if isinstance(pkt, ARP):
        return 0x0806
    if isinstance(pkt, IPv6):
        return 0x86DD
    return 0x0800


def default_macs(pkt: Packet, src_mac: str | None = None) -> tuple[str, str]:
    """(src, dst) Ethernet addresses that fit ``pkt``: multicast MAC for multicast destinations."""
    src = src_mac or MAC_HOST
    if isinstance(pkt, ARP):
        return src, (MAC_BCAST if pkt.op == 1 else pkt.hwdst)
    if isinstance(pkt, IPv6):
        dst_ip = ipaddress.IPv6Address(pkt.dst)
        return src, (mcast_mac6(pkt.dst) if dst_ip.is_multicast else MAC_GW)
    dst4 = ipaddress.IPv4Address(pkt.dst)
    if dst4.is_multicast:
        b = dst4.packed
        return src, f"01:00:5e:{b[1] & 0x7F:02x}:{b[2]:02x}:{b[3]:02x}"
    return src, MAC_GW


def eth(
    pkt: Packet,
    src: str | None = None,
    dst: str | None = None,
    vlans: Sequence[tuple[int, int]] = (),
    *,
    pad: bool = False,
) -> Packet:
    """Ethernet frame for ``pkt``; ``vlans`` is a list of (TPID, VLAN id), outermost first.

    ``pad`` appends zero bytes up to the 60-byte Ethernet minimum, as a frame received from the wire
    carries them (captured on the sender, short frames are not padded): decoders must take lengths
    from the IP header, not from the frame.
    """
    s, d = default_macs(pkt, src)
    frame: Packet = Ether(src=s, dst=dst or d, type=vlans[0][0] if vlans else _ethertype(pkt))
    for i, (tpid, vid) in enumerate(vlans):
        next_type = vlans[i + 1][0] if i + 1 < len(vlans) else _ethertype(pkt)
        tag: Packet = (Dot1AD if tpid == 0x88A8 else Dot1Q)(vlan=vid, type=next_type)
        frame = frame / tag
    frame = frame / pkt
    if pad:
        # Padding is added to the built bytes: appended as a layer, scapy would count it in the IP
        # total length.
        data = bytes(frame)
        return Raw(data + b"\0" * max(0, 60 - len(data)))
    return frame


def sll(pkt: Packet, src: str, *, pkttype: int = 0) -> Packet:
    """Linux cooked capture v1 header (16 bytes): packet type, ARPHRD_ETHER, 6-byte source address."""
    return (
        CookedLinux(
            pkttype=pkttype,
            lladdrtype=1,
            lladdrlen=6,
            src=bytes.fromhex(src.replace(":", "")) + b"\0\0",
            proto=_ethertype(pkt),
        )
        / pkt
    )


def sll2(pkt: Packet, src: str, ifindex: int, *, pkttype: int = 0) -> Packet:
    """Linux cooked capture v2 header (20 bytes) with the interface index."""
    return (
        CookedLinuxV2(
            proto=_ethertype(pkt),
            ifindex=ifindex,
            lladdrtype=1,
            pkttype=pkttype,
            lladdrlen=6,
            src=bytes.fromhex(src.replace(":", "")) + b"\0\0",
        )
        / pkt
    )


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def output_path(script: str) -> Path:
    """Where a script named ``<case>.<ext>.py`` writes ``<case>.<ext>``: beside itself, or in the
    directory given as the first command-line argument (``make_all.py --check`` uses a temp dir)."""
    name = Path(script).name[: -len(".py")]
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(script).resolve().parent
    return out_dir / name


def timed(frames: Iterable[tuple[float | Decimal | str, Packet]]) -> list[Packet]:
    """Attach capture times (offsets in seconds from :data:`T0`, as text/Decimal for exactness)."""
    out = []
    for offset, pkt in frames:
        pkt.time = T0 + Decimal(str(offset))
        out.append(pkt)
    return out


def write_pcap(
    path: Path,
    frames: Iterable[
        tuple[float | Decimal | str, Packet | bytes] | tuple[float | Decimal | str, Packet | bytes, int]
    ],
    *,
    linktype: int = LINKTYPE_ETHERNET,
    nano: bool = False,
    endianness: str = "<",
    snaplen: int = 65535,
    gz: bool = False,
) -> None:
    """Write a classic pcap with scapy's ``PcapWriter`` (fixed byte order, optional ns and gzip).

    A frame given as ``(offset, packet, wirelen)`` is stored with caplen = its length and that
    original length (a snaplen-truncated frame). scapy's gzip writer stamps the current time into
    the gzip header, so gzip output is produced here with ``mtime=0`` instead, keeping the file
    byte-for-byte reproducible.
    """
    target = path.with_suffix("") if gz else path
    with PcapWriter(
        str(target), linktype=linktype, nano=nano, endianness=endianness, snaplen=snaplen, sync=True
    ) as writer:
        writer.write_header(None)
        for item in frames:
            t = T0 + Decimal(str(item[0]))
            data = bytes(item[1])
            wirelen = item[2] if len(item) == 3 else len(data)  # type: ignore[misc]
            sec = int(t)
            frac = int((t - sec) * (10**9 if nano else 10**6))
            writer.write_packet(data, sec=sec, usec=frac, wirelen=wirelen)
    if gz:
        raw = target.read_bytes()
        target.unlink()
        with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gzf:
            gzf.write(raw)


def write_pcapng_scapy(path: Path, frames: Iterable[tuple[float | Decimal | str, Packet]]) -> None:
    """Write a single-interface pcapng with scapy's ``PcapNgWriter`` (µs resolution, link type from
    the outermost layer). scapy multiplies a float time by 10**6, so offsets must be binary
    fractions (0.5, 0.25 ...) for the stored microseconds to be exact."""
    with PcapNgWriter(str(path)) as writer:
        for offset, pkt in frames:
            t = T0 + Decimal(str(offset))
            if (t * 2**10) != int(t * 2**10):
                raise ValueError(f"offset {offset} is not a binary fraction")
            pkt.time = float(t)
            writer.write(pkt)


# pcapng by hand (scapy writes one IDB per link type and no ISB): block builders (pcapng spec
# draft-ietf-opsawg-pcapng §4), little-endian.


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _options(opts: Sequence[tuple[int, bytes]]) -> bytes:
    if not opts:
        return b""
    out = b"".join(struct.pack("<HH", code, len(val)) + _pad4(val) for code, val in opts)
    return out + struct.pack("<HH", 0, 0)


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def shb(opts: Sequence[tuple[int, bytes]] = ()) -> bytes:
    """Section header block (byte-order magic, version 1.0, unknown section length)."""
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _options(opts))


def idb(
    linktype: int, *, name: str | None = None, tsresol: int | None = None, snaplen: int = 262144
) -> bytes:
    """Interface description block with optional ``if_name`` (2) and ``if_tsresol`` (9)."""
    opts: list[tuple[int, bytes]] = []
    if name is not None:
        opts.append((2, name.encode()))
    if tsresol is not None:
        opts.append((9, bytes([tsresol])))
    return _block(1, struct.pack("<HHI", linktype, 0, snaplen) + _options(opts))


def epb(interface: int, ticks: int, data: bytes, wirelen: int | None = None) -> bytes:
    """Enhanced packet block; ``ticks`` in the interface's resolution units since the epoch."""
    wl = len(data) if wirelen is None else wirelen
    body = struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), wl) + _pad4(data)
    return _block(6, body)


def isb(interface: int, ticks: int, *, ifrecv: int, ifdrop: int) -> bytes:
    """Interface statistics block with ``isb_ifrecv`` (4) and ``isb_ifdrop`` (5)."""
    opts = [(4, struct.pack("<Q", ifrecv)), (5, struct.pack("<Q", ifdrop))]
    return _block(5, struct.pack("<III", interface, ticks >> 32, ticks & 0xFFFFFFFF) + _options(opts))


def ticks(offset: float | Decimal | str, per_second: int) -> int:
    """Timestamp T0 + ``offset`` in units of 1/``per_second`` s."""
    return int((T0 + Decimal(str(offset))) * per_second)


def write_v3_ipv4_checksum_case(script: str, variant: str) -> None:
    """The three v3/IPv4 checksum-variant captures share one story, differing only in ``variant``.

    R1 (192.0.2.1, priority 200, VRID 10, 1 s) and R2 (192.0.2.2, priority 100) advertise to
    224.0.0.18 with checksums of ``variant``, with noise frames in between; written beside ``script``.
    """
    r1 = vrrp3_message(10, 200, [VIP1], src=IP_R1, dst=VRRP4_GROUP, checksum=variant)
    r2 = vrrp3_message(10, 100, [VIP1], src=IP_R2, dst=VRRP4_GROUP, checksum=variant)
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, r1, ident=1), MAC_R1)),
        (0.2, eth(n[0])),
        (0.4, eth(vrrp4(IP_R2, r2, ident=1), MAC_R2)),
        (1.0, eth(vrrp4(IP_R1, r1, ident=2), MAC_R1)),
        (1.3, eth(n[1])),
        (2.0, eth(vrrp4(IP_R1, r1, ident=3), MAC_R1)),
    ]
    write_pcap(output_path(script), frames)
