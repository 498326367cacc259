"""IPv6 neighbour discovery: solicitation (135) and advertisement (136), RFC 4861 §4.3, §4.4.

Layout::

    type(1) code(1) checksum(2)
    NS: reserved(4)                  NA: R|S|O|reserved(29 bits)
    target address(16)
    options: type(1) length(1, units of 8 bytes) data...

Options SLLA (type 1) and TLLA (type 2) give the link-layer address; other options are skipped.
Other ICMPv6 types are not ND: :func:`decode_nd` returns ``None`` for them so they are not reported.
The ICMPv6 checksum is kept on the record, not verified.

Malformed reasons (layer ``nd``): ``truncated`` (the message or an option is cut by the capture),
``bad_option_length`` (an option of length 0, which RFC 4861 §4.6 says to discard the packet for),
``option_exceeds_length`` (an option reaching past the end of the ICMPv6 message).
"""

from __future__ import annotations

import socket
import struct

from dissectors.records import Malformed, NdMessage

ICMPV6_NS = 135  # neighbour solicitation
ICMPV6_NA = 136  # neighbour advertisement
ND_FIXED_LEN = 24  # type, code, checksum, flags/reserved, target address
ND_OPT_SLLA = 1  # source link-layer address option
ND_OPT_TLLA = 2  # target link-layer address option
NA_FLAG_ROUTER = 0x80  # R: sender is a router
NA_FLAG_SOLICITED = 0x40  # S: sent in response to a solicitation
NA_FLAG_OVERRIDE = 0x20  # O: override an existing cache entry

_ND_FIXED = struct.Struct("!BBHB3x16s")  # type, code, checksum, flags, reserved, target

_inet_ntop = socket.inet_ntop
_AF_INET6 = socket.AF_INET6


def decode_nd(
    message: bytes, claimed_len: int | None = None, offset: int = 0
) -> NdMessage | Malformed | None:
    """Decode an ICMPv6 message if it is a neighbour solicitation or advertisement.

    ``message`` is the captured ICMPv6 message (at frame offset ``offset``), ``claimed_len`` the
    length the IPv6 header gives it (default ``len(message)``). Returns ``None`` for other ICMPv6
    types. Never raises.
    """
    if claimed_len is None or claimed_len < 0:
        claimed_len = len(message)
    if len(message) > claimed_len:
        message = message[:claimed_len]
    if not message:
        return None
    icmp_type = message[0]
    if icmp_type != ICMPV6_NS and icmp_type != ICMPV6_NA:
        return None
    if len(message) < ND_FIXED_LEN:
        where = "captured" if claimed_len > len(message) else "in the IPv6 payload"
        return Malformed(
            "nd",
            "truncated",
            f"ND message needs {ND_FIXED_LEN} bytes, {len(message)} {where}",
            offset + len(message),
        )
    _t, code, checksum, flags, target = _ND_FIXED.unpack_from(message, 0)
    slla: str | None = None
    tlla: str | None = None
    pos = ND_FIXED_LEN
    end = len(message)
    while pos < claimed_len:
        if end - pos < 2:
            return Malformed(
                "nd", "truncated", f"ND option header cut at byte {pos} of {claimed_len}", offset + end
            )
        opt_type = message[pos]
        opt_len = message[pos + 1] * 8
        if opt_len == 0:
            return Malformed(
                "nd", "bad_option_length", f"option type {opt_type} with length 0", offset + pos + 1
            )
        if pos + opt_len > claimed_len:
            return Malformed(
                "nd",
                "option_exceeds_length",
                f"option type {opt_type} of {opt_len} bytes at byte {pos}, message has {claimed_len}",
                offset + pos + 1,
            )
        if pos + opt_len > end:
            return Malformed(
                "nd",
                "truncated",
                f"option type {opt_type} needs {opt_len} bytes, {end - pos} captured",
                offset + end,
            )
        if opt_type == ND_OPT_SLLA and slla is None:
            slla = message[pos + 2 : pos + 8].hex(":")
        elif opt_type == ND_OPT_TLLA and tlla is None:
            tlla = message[pos + 2 : pos + 8].hex(":")
        pos += opt_len
    is_na = icmp_type == ICMPV6_NA
    return NdMessage(
        icmp_type,
        code,
        _inet_ntop(_AF_INET6, target),
        is_na and bool(flags & NA_FLAG_ROUTER),
        is_na and bool(flags & NA_FLAG_SOLICITED),
        is_na and bool(flags & NA_FLAG_OVERRIDE),
        slla,
        tlla,
        checksum,
    )
