"""Generate the deterministic mixed benchmark captures (seeded; no scapy, plain struct).

A realistic post-incident capture: mostly TCP (full-size data segments and bare ACKs), some UDP
(DNS-sized and mid-size datagrams), about 8 % of frames VLAN-tagged, and a sprinkle (~0.3 %) of
VRRP adverts and ARP, like a busy segment where VRRP is well under 1 % of the traffic.

    python bench/make_capture.py --packets 1000000 --out bench/data/mixed.pcap
    python bench/make_capture.py --packets 1000000 --format pcapng --out bench/data/mixed.pcapng
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

BASE_TIME = 1_700_000_000


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _eth(dst: bytes, src: bytes, ethertype: int, vlan: int | None) -> bytes:
    if vlan is None:
        return dst + src + struct.pack("!H", ethertype)
    return dst + src + struct.pack("!HHH", 0x8100, vlan, ethertype)


def _ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64) -> bytes:
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl, proto, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
    return hdr + payload


def templates() -> list[tuple[float, list[bytes]]]:
    """(weight, [frame variants]) for each traffic class."""
    mac_a, mac_b = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    out: list[tuple[float, list[bytes]]] = []

    def tcp(size: int, vlan: int | None) -> bytes:
        payload_len = max(0, size - 14 - (4 if vlan else 0) - 40)
        seg = struct.pack("!HHIIBBHHH", 443, 51000, 1, 1, 0x50, 0x10, 65535, 0, 0) + b"x" * payload_len
        return _eth(mac_a, mac_b, 0x0800, vlan) + _ipv4("198.51.100.10", "203.0.113.20", 6, seg)

    def udp(size: int, vlan: int | None) -> bytes:
        payload_len = max(0, size - 14 - (4 if vlan else 0) - 28)
        dgram = struct.pack("!HHHH", 53, 40000, 8 + payload_len, 0) + b"d" * payload_len
        return _eth(mac_b, mac_a, 0x0800, vlan) + _ipv4("198.51.100.53", "203.0.113.20", 17, dgram)

    def vrrp(vlan: int | None) -> bytes:
        msg = struct.pack("!BBBBBBH4s", 0x21, 51, 100, 1, 0, 1, 0, bytes([192, 0, 2, 100])) + b"\0" * 8
        msg = msg[:6] + struct.pack("!H", _csum(msg)) + msg[8:]
        frame = _eth(bytes.fromhex("01005e000012"), mac_a, 0x0800, vlan)
        return frame + _ipv4("192.0.2.11", "224.0.0.18", 112, msg, ttl=255)

    def arp(vlan: int | None) -> bytes:
        body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac_a, bytes([192, 0, 2, 100]),
                           b"\xff" * 6, bytes([192, 0, 2, 100]))
        return _eth(b"\xff" * 6, mac_a, 0x0806, vlan) + body + b"\0" * 18

    for vlan in (None, 30):
        w = 0.92 if vlan is None else 0.08
        out.append((0.38 * w, [tcp(1514, vlan)]))
        out.append((0.34 * w, [tcp(66, vlan)]))
        out.append((0.14 * w, [udp(s, vlan) for s in (90, 120, 180, 250)]))
        out.append((0.137 * w, [tcp(s, vlan) for s in (300, 576, 800, 1200)]))
        out.append((0.0015 * w, [vrrp(vlan)]))
        out.append((0.0015 * w, [arp(vlan)]))
    return out


def generate(packets: int, out: Path, fmt: str, seed: int = 7) -> None:
    """Write ``packets`` frames to ``out`` as classic pcap (µs) or pcapng (one IDB, EPBs)."""
    rng = random.Random(seed)
    classes = templates()
    weights = [w for w, _ in classes]
    choices = rng.choices(range(len(classes)), weights=weights, k=packets)
    out.parent.mkdir(parents=True, exist_ok=True)
    rec = struct.Struct("<IIII")
    epb = struct.Struct("<IIIIIII")
    with out.open("wb", buffering=1 << 20) as fh:
        if fmt == "pcap":
            fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        else:
            fh.write(struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28))
            fh.write(struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20))
        usec = 0
        buf: list[bytes] = []
        for i, c in enumerate(choices):
            variants = classes[c][1]
            frame = variants[i % len(variants)]
            usec += 40 + (i % 17)
            sec, us = divmod(usec, 1_000_000)
            if fmt == "pcap":
                buf.append(rec.pack(BASE_TIME + sec, us, len(frame), len(frame)))
                buf.append(frame)
            else:
                ts = (BASE_TIME + sec) * 1_000_000 + us
                pad = (-len(frame)) % 4
                total = 32 + len(frame) + pad
                buf.append(epb.pack(6, total, 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)))
                buf.append(frame + b"\0" * pad + struct.pack("<I", total))
            if len(buf) >= 4096:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["pcap", "pcapng"], default="pcap")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    generate(args.packets, args.out, args.format, args.seed)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {args.packets} packets)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
