"""`vrrpscope decode`: one record per VRRP/CARP/ARP/ND packet, per DESIGN.md's decode contract.

:func:`packet_record` turns a :class:`~vrrpscope.model.Packet` into the JSON Lines object of the
contract (common keys ``frame``, ``time``, ``segment``, ``src_mac``, ``dst_mac``, ``vlan``, ``proto``,
then per-protocol keys). :func:`packet_line` renders the same packet as one short terminal line, in
the spirit of ``tshark -Y vrrp``. Authentication data appears only as a fingerprint unless
``show_secrets`` is set.
"""

from __future__ import annotations

from typing import Any

from dissectors.records import (
    ArpPacket,
    CarpAdvert,
    Malformed,
    NdMessage,
    VrrpV2Advert,
    VrrpV3Advert,
)
from vrrpscope.model import Packet
from vrrpscope.output.safe import terminal_safe

#: VRRPv2 auth type names (RFC 3768 §5.3.6 / RFC 2338).
AUTH_TYPE_NAMES = {0: "none", 1: "simple", 2: "ah"}
#: ARP opcode names (RFC 826).
ARP_OP_NAMES = {1: "request", 2: "reply"}
#: ND message names (RFC 4861).
ND_TYPE_NAMES = {135: "NS", 136: "NA"}


def is_virtual_mac(mac: str | None, vrid: int, family: str) -> bool:
    """True when ``mac`` is the VRRP virtual router MAC of ``vrid`` (RFC 5798 §7.3).

    IPv4: 00:00:5e:00:01:VRID; IPv6: 00:00:5e:00:02:VRID.
    """
    if mac is None:
        return False
    kind = "01" if family == "ipv4" else "02"
    return mac == f"00:00:5e:00:{kind}:{vrid:02x}"


def packet_record(packet: Packet, *, show_secrets: bool = False, with_file: bool = False) -> dict[str, Any]:
    """Return the decode-contract JSON object for one packet.

    ``with_file`` adds the ``file`` key (used when several captures are decoded together).
    """
    link, ip, msg = packet.link, packet.ip, packet.message
    rec: dict[str, Any] = {
        "frame": packet.frame,
        "time": packet.time,
        "segment": packet.segment,
        "src_mac": link.src_mac,
        "dst_mac": link.dst_mac,
        "vlan": list(link.vlans),
        "proto": "malformed",
    }
    if with_file:
        rec["file"] = packet.file
    if isinstance(msg, (VrrpV2Advert, VrrpV3Advert)) and ip is not None:
        rec["proto"] = "vrrp"
        rec.update(
            src=ip.src,
            dst=ip.dst,
            ttl=ip.ttl,
            family=ip.family,
            multicast=ip.multicast,
            version=msg.version,
            type=msg.type,
            vrid=msg.vrid,
            priority=msg.priority,
            count=msg.count_ip_addrs,
            advert_int=msg.advert_int_s,
        )
        if isinstance(msg, VrrpV2Advert):
            rec["auth_type"] = "ah" if ip.ah is not None else msg.auth_type
            rec["auth_fingerprint"] = msg.auth_fingerprint
            if show_secrets and msg.auth_type == 1:
                rec["auth_data"] = msg.auth_text
        else:
            rec["auth_type"] = "ah" if ip.ah is not None else None
            rec["auth_fingerprint"] = None
        if ip.ah is not None:
            rec["ah_spi"] = ip.ah.spi
            rec["ah_seq"] = ip.ah.sequence
        rec.update(
            checksum=msg.checksum,
            checksum_ok=msg.checksum_ok,
            checksum_variant=msg.checksum_variant,
            addresses=list(msg.addresses),
            virtual_mac=is_virtual_mac(link.src_mac, msg.vrid, ip.family),
            trailer=msg.trailer,
        )
    elif isinstance(msg, ArpPacket):
        rec["proto"] = "arp"
        rec.update(
            op=msg.op,
            sender_mac=msg.sender_mac,
            sender_ip=msg.sender_ip,
            target_mac=msg.target_mac,
            target_ip=msg.target_ip,
            gratuitous=msg.gratuitous,
        )
    elif isinstance(msg, NdMessage) and ip is not None:
        rec["proto"] = "nd"
        rec.update(
            type=msg.type,
            src=ip.src,
            dst=ip.dst,
            ttl=ip.ttl,
            target=msg.target,
            flags=msg.flags,
            tlla=msg.tlla,
            slla=msg.slla,
        )
    elif isinstance(msg, CarpAdvert):
        rec["proto"] = "carp"
        rec.update(
            src=ip.src if ip else None,
            dst=ip.dst if ip else None,
            vhid=msg.vhid,
            advskew=msg.advskew,
            advbase=msg.advbase,
        )
    elif isinstance(msg, Malformed):
        rec.update(layer=msg.layer, reason=msg.reason, detail=msg.detail)
        if ip is not None:
            rec.update(src=ip.src, dst=ip.dst)
    return rec


def _time_text(t: float) -> str:
    import time as _time

    whole = int(t)
    return _time.strftime("%H:%M:%S", _time.gmtime(whole)) + f".{round((t - whole) * 1e6):06d}"[:7]


def packet_line(packet: Packet, *, show_secrets: bool = False) -> str:
    """One terminal line per packet: frame, UTC time, segment, then a protocol summary."""
    msg, ip = packet.message, packet.ip
    head = f"{packet.frame:>7} {_time_text(packet.time)} {terminal_safe(packet.segment):<10}"
    if isinstance(msg, (VrrpV2Advert, VrrpV3Advert)) and ip is not None:
        if isinstance(msg, VrrpV2Advert):
            interval = f"{msg.advert_int}s"
            auth = AUTH_TYPE_NAMES.get(msg.auth_type, str(msg.auth_type))
            if ip.ah is not None:
                auth = f"ah(spi=0x{ip.ah.spi:x},seq={ip.ah.sequence})"
            elif msg.auth_type == 1:
                auth = (
                    f"simple({terminal_safe(repr(msg.auth_text))})"
                    if show_secrets
                    else f"simple({msg.auth_fingerprint})"
                )
            extra = f" auth {auth}"
        else:
            interval = f"{msg.advert_int_s:g}s"
            extra = ""
        ck = f"ok({msg.checksum_variant})" if msg.checksum_variant else f"BAD(0x{msg.checksum:04x})"
        ttl = "" if ip.ttl == 255 else f" TTL {ip.ttl}!"
        addrs = ",".join(msg.addresses) or "-"
        return (
            f"{head} {ip.src} > {ip.dst} VRRPv{msg.version} vrid {msg.vrid} prio {msg.priority}"
            f" int {interval}{extra} addrs {addrs} cksum {ck}{ttl}"
        )
    if isinstance(msg, ArpPacket):
        op = ARP_OP_NAMES.get(msg.op, f"op{msg.op}")
        g = " GARP" if msg.gratuitous else ""
        return (
            f"{head} ARP {op}{g} {msg.sender_ip} is-at {msg.sender_mac}"
            f" -> {msg.target_ip} ({msg.target_mac}) eth {packet.link.src_mac}"
        )
    if isinstance(msg, NdMessage) and ip is not None:
        name = ND_TYPE_NAMES.get(msg.type, str(msg.type))
        lla = f" tlla {msg.tlla}" if msg.tlla else (f" slla {msg.slla}" if msg.slla else "")
        flags = f" [{msg.flags}]" if msg.flags else ""
        return f"{head} {ip.src} > {ip.dst} ND {name} target {msg.target}{flags}{lla}"
    if isinstance(msg, CarpAdvert):
        src = ip.src if ip else "?"
        return f"{head} {src} CARP (not VRRP) vhid {msg.vhid} advskew {msg.advskew} advbase {msg.advbase}"
    if isinstance(msg, Malformed):
        return f"{head} MALFORMED {msg.layer}: {msg.reason}: {terminal_safe(msg.detail)}"
    return head
