"""Immutable records produced by the dissectors.

Every decoder in this package is a pure function from bytes to one of these records, or to a
:class:`Malformed` record when the bytes cannot be decoded. Nothing here does I/O or imports scapy.

Field names follow the RFCs in snake_case (RFC 3768 §5.1, RFC 9568 §5.1, RFC 826, RFC 4861 §4.3/4.4),
spelled out where the RFC is cryptic:

=================  ==========================  ===========================
RFC / tool name    record field                unit / notes
=================  ==========================  ===========================
Count IP Addrs     ``count_ip_addrs``          number of addresses claimed
Adver Int (v2)     ``advert_int``              seconds (integer on the wire)
Max Adver Int (v3) ``max_advert_int_cs``       centiseconds, 12 bits
sha / spa          ``sender_mac``/``sender_ip``
tha / tpa          ``target_mac``/``target_ip``
=================  ==========================  ===========================

Addresses are kept as text (``"192.0.2.1"``, ``"2001:db8::1"`` in RFC 5952 form), MAC addresses as
lower-case colon-separated text. Enumerated values stay plain ``int`` so unknown codes remain
representable; :mod:`dissectors.names` maps them to names for display.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

Family = Literal["ipv4", "ipv6"]

#: The checksum variants recognised (PROTOCOL.md §9.3), in the order they are tried.
CHECKSUM_VARIANTS = (
    "v2",  # RFC 3768: one's complement over the whole VRRP message, no pseudo-header
    "v3-ipv6",  # RFC 5798/9568: IPv6 pseudo-header (RFC 8200 §8.1), next header 112
    "v3-ipv4-pseudo",  # keepalived/FRR/Wireshark default: IPv4 pseudo-header (src, dst, 0, 112, len)
    "v3-ipv4-plain",  # RFC 9568 §5.2.8: message only, no pseudo-header
    "v3-ipv4-pseudo-mcast",  # keepalived < 1.3.6 unicast: pseudo-header with dst 224.0.0.18
)

ChecksumVariant = Literal["v2", "v3-ipv6", "v3-ipv4-pseudo", "v3-ipv4-plain", "v3-ipv4-pseudo-mcast"]


def secret_fingerprint(data: bytes) -> str:
    """Return the stable fingerprint shown instead of authentication data: ``sha256:<16 hex>``.

    The configured password (truncated/padded to 8 bytes as keepalived does) fingerprints the same
    way, so configuration and wire can be compared without printing either.
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A packet of an interesting protocol that could not be decoded.

    ``layer`` is where decoding stopped (``link``, ``ipv4``, ``ipv6``, ``ah``, ``vrrp``, ``arp``,
    ``nd``); ``reason`` is a stable snake_case id (``truncated``, ``count_exceeds_length``,
    ``bad_version``, ``carp_not_vrrp`` ...); ``detail`` is human text with the numbers;
    ``offset`` is the byte offset in the frame where decoding stopped.
    """

    layer: str
    reason: str
    detail: str
    offset: int = 0


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """Link-layer facts of a frame after normalisation (Ethernet, 802.1Q/QinQ, SLL, SLL2, raw IP).

    ``src_mac``/``dst_mac`` are ``None`` where the link type has none (raw IP; SLL has only a
    source address). ``vlans`` lists VLAN ids outermost first. ``ifindex`` is the SLL2 interface
    index (``None`` otherwise). ``ethertype`` is the protocol after the last tag.
    """

    src_mac: str | None
    dst_mac: str | None
    vlans: tuple[int, ...]
    ethertype: int
    ifindex: int | None = None


@dataclass(frozen=True, slots=True)
class AhInfo:
    """IPsec Authentication Header (RFC 4302) carrying VRRPv2, as keepalived's ``auth_type AH`` sends.

    ``icv`` is the integrity check value (HMAC-MD5-96 for keepalived: 12 bytes).
    """

    next_header: int
    spi: int
    sequence: int
    icv: bytes


@dataclass(frozen=True, slots=True)
class IpInfo:
    """IP-layer facts a detector needs.

    ``ttl`` is the IPv4 TTL or the IPv6 hop limit. ``proto`` is the upper-layer protocol actually
    carried (112 for VRRP, 58 for ICMPv6), after any AH header, which is then in ``ah``.
    ``multicast`` is true when the destination is a multicast address.
    """

    family: Family
    src: str
    dst: str
    ttl: int
    proto: int
    multicast: bool
    ah: AhInfo | None = None


@dataclass(frozen=True, slots=True)
class VrrpV2Advert:
    """VRRPv2 advertisement (RFC 3768 §5.1). IPv4 only.

    ``advert_int`` is in whole seconds. ``auth_type``: 0 none, 1 simple text password,
    2 IP AH (RFC 2338). ``auth_data`` is the 8 bytes after the addresses (always present);
    it is never printed, only :attr:`auth_fingerprint`. ``checksum_variant`` is ``"v2"`` when the
    checksum validates, else ``None``. ``trailer`` counts bytes after the auth data (e.g.
    keepalived's 28-byte HMAC trailer), not covered by the checksum.
    """

    type: int
    vrid: int
    priority: int
    count_ip_addrs: int
    auth_type: int
    advert_int: int
    checksum: int
    addresses: tuple[str, ...]
    auth_data: bytes
    checksum_variant: ChecksumVariant | None
    trailer: int = 0
    version: int = 2

    @property
    def advert_int_s(self) -> float:
        """The advertisement interval in seconds (float), as for v3."""
        return float(self.advert_int)

    @property
    def checksum_ok(self) -> bool:
        """True when the v2 checksum validates."""
        return self.checksum_variant is not None

    @property
    def auth_fingerprint(self) -> str | None:
        """Fingerprint of the simple-text password (auth type 1), else ``None``.

        Computed over all 8 bytes of auth data: keepalived truncates the configured password to
        8 bytes and pads it with NULs, so the configured password fingerprints identically.
        """
        if self.auth_type != 1:
            return None
        return secret_fingerprint(self.auth_data)

    @property
    def auth_text(self) -> str:
        """The clear-text password (auth type 1), NUL padding removed. Show only on request."""
        return self.auth_data.split(b"\0", 1)[0].decode("latin-1")


@dataclass(frozen=True, slots=True)
class VrrpV3Advert:
    """VRRPv3 advertisement (RFC 5798 §5.1, RFC 9568 §5.1), IPv4 or IPv6.

    ``max_advert_int_cs`` is in centiseconds (12 bits); :attr:`advert_int_s` gives seconds.
    ``addresses`` are of the IP header's family. ``reserved`` is the 4-bit reserved field (MUST be 0).
    ``checksum_variant`` names the variant that validates, or ``None`` when none does.
    ``trailer`` counts bytes after the last address (keepalived ``auth_hmac``: 28).
    """

    type: int
    vrid: int
    priority: int
    count_ip_addrs: int
    reserved: int
    max_advert_int_cs: int
    checksum: int
    addresses: tuple[str, ...]
    checksum_variant: ChecksumVariant | None
    trailer: int = 0
    version: int = 3

    @property
    def advert_int_s(self) -> float:
        """The maximum advertisement interval in seconds (centiseconds / 100)."""
        return self.max_advert_int_cs / 100.0

    @property
    def checksum_ok(self) -> bool:
        """True when one of the v3 checksum variants validates."""
        return self.checksum_variant is not None


@dataclass(frozen=True, slots=True)
class CarpAdvert:
    """An OpenBSD/FreeBSD CARP advertisement: IP protocol 112 but not VRRP (version 2, type 1,
    different layout). Reported as its own kind so it is never read as garbage VRRP.
    """

    version: int
    type: int
    vhid: int
    advskew: int
    authlen: int
    advbase: int
    counter: int


@dataclass(frozen=True, slots=True)
class ArpPacket:
    """ARP (RFC 826) for IPv4 over Ethernet. ``op``: 1 request, 2 reply (other values kept).

    ``gratuitous`` is true when sender IP equals target IP (request or reply), the form keepalived
    uses when a VIP moves (request, target MAC ff:ff:ff:ff:ff:ff).
    """

    op: int
    sender_mac: str
    sender_ip: str
    target_mac: str
    target_ip: str
    hardware_type: int = 1
    protocol_type: int = 0x0800

    @property
    def gratuitous(self) -> bool:
        """Sender IP equals target IP."""
        return self.sender_ip == self.target_ip


@dataclass(frozen=True, slots=True)
class NdMessage:
    """IPv6 neighbour solicitation (135) or advertisement (136) (RFC 4861 §4.3, §4.4).

    ``router``/``solicited``/``override`` are the NA R/S/O flags (all false for NS).
    ``slla``/``tlla`` are the source/target link-layer address options when present.
    """

    type: int
    code: int
    target: str
    router: bool
    solicited: bool
    override: bool
    slla: str | None
    tlla: str | None
    checksum: int

    @property
    def flags(self) -> str:
        """The set flags as letters, ``"RSO"`` order (e.g. ``"O"`` for keepalived's unsolicited NA)."""
        return ("R" if self.router else "") + ("S" if self.solicited else "") + (
            "O" if self.override else ""
        )


#: Any message a dissector can return for an interesting frame.
Message = VrrpV2Advert | VrrpV3Advert | CarpAdvert | ArpPacket | NdMessage | Malformed


@dataclass(frozen=True, slots=True)
class Dissected:
    """One interesting frame, fully decoded: link facts, IP facts (``None`` for ARP), the message.

    ``message`` is a :class:`Malformed` when the frame looked like VRRP/ARP/ND (by ethertype and IP
    protocol) but could not be decoded; ``link``/``ip`` then hold whatever was decoded before.
    """

    link: LinkInfo
    ip: IpInfo | None
    message: Message

    @property
    def proto(self) -> str:
        """Protocol label of the decode contract: ``vrrp``, ``carp``, ``arp``, ``nd`` or ``malformed``."""
        m = self.message
        if isinstance(m, (VrrpV2Advert, VrrpV3Advert)):
            return "vrrp"
        if isinstance(m, ArpPacket):
            return "arp"
        if isinstance(m, NdMessage):
            return "nd"
        if isinstance(m, CarpAdvert):
            return "carp"
        return "malformed"
