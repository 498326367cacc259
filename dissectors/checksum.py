"""The Internet checksum (RFC 1071) and the IP pseudo-headers VRRP checksums may include.

RFC 1071 §2 notes that the one's complement sum of 16-bit words is independent of byte order and
that ``2**16 ≡ 1 (mod 0xFFFF)``. So the sum of a byte string read as one big-endian integer,
reduced modulo ``0xFFFF``, equals the folded one's complement sum; one C-level ``int.from_bytes``
does what a Python loop over words would do in a tenth of the time. The only care needed is the
two representations of zero: the sum of data with at least one non-zero word is never ``0x0000``
after end-around carry, so a remainder of 0 means ``0xFFFF`` then.

Because the pseudo-header has an even length, the sum of ``pseudo || message`` is the one's
complement sum of the two separate sums; :func:`verify` combines them, so a message is summed once
and each candidate pseudo-header (PROTOCOL.md §9.3) costs only a 12- or 40-byte sum.

Pseudo-headers: IPv4 per RFC 768/793 (source, destination, zero, protocol, length: 12 bytes);
IPv6 per RFC 8200 §8.1 (source, destination, 32-bit length, three zero bytes, next header: 40 bytes).
"""

from __future__ import annotations

import struct

#: Modulus of one's complement 16-bit arithmetic (RFC 1071 §2: 2**16 ≡ 1 mod 0xFFFF).
_ONES_MOD = 0xFFFF

_V4_TAIL = struct.Struct("!BBH")  # zero, protocol, upper-layer length (RFC 768 pseudo-header)
_V6_TAIL = struct.Struct("!I3xB")  # upper-layer length (32 bits), 3 zero bytes, next header


def ones_sum(data: bytes) -> int:
    """Return the 16-bit one's complement sum of ``data`` (odd length padded with a zero byte).

    The result is in ``0..0xFFFF``; it is 0 only when every byte is zero.
    """
    if len(data) & 1:
        data = data + b"\0"
    total = int.from_bytes(data, "big") % _ONES_MOD
    if total == 0 and data.count(0) != len(data):
        return 0xFFFF
    return total


def internet_checksum(data: bytes) -> int:
    """Return the RFC 1071 checksum to store in a header whose checksum field is zero in ``data``."""
    return ~ones_sum(data) & 0xFFFF


def verify(*sums: int) -> bool:
    """True when one's complement sums of the parts (checksum field included) add up to ``0xFFFF``.

    Pass the :func:`ones_sum` of each even-length part (pseudo-header, message). A message whose
    parts are all zero does not verify (its sum is +0, not -0).
    """
    total = 0
    for part in sums:
        total += part
    return total != 0 and total % _ONES_MOD == 0


def ipv4_pseudo_header(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    """Return the 12-byte IPv4 pseudo-header for 4-byte ``src``/``dst`` addresses."""
    return src + dst + _V4_TAIL.pack(0, proto & 0xFF, length & 0xFFFF)


def ipv6_pseudo_header(src: bytes, dst: bytes, next_header: int, length: int) -> bytes:
    """Return the 40-byte IPv6 pseudo-header (RFC 8200 §8.1) for 16-byte ``src``/``dst``."""
    return src + dst + _V6_TAIL.pack(length & 0xFFFFFFFF, next_header & 0xFF)
