"""Write ``hostile.pcapng``: a capture whose every packet- or file-derived string is an attack on the output.

Packets are built with scapy (VRRPv2 with simple-text passwords, a gratuitous ARP, a malformed VRRP
advert); the pcapng container is written here with plain ``struct`` so the hostile ``if_name`` and
comment options are exactly the bytes below (scapy's writer has no ``if_name``).

What is hostile (all documented in docs/HARDENING.md and checked by tests/test_hostile_output.py):

- the ``if_name`` of interface 0 (the segment name in every output): ESC[2J (clear screen),
  ESC]0;title BEL (set the terminal title), a raw C1 CSI (U+009B), other C0 controls, DEL,
  ``<script>alert(1)</script>``, double and single quotes and ``&``;
- the VRRPv2 simple-text passwords of three routers: two made of escape sequences, quotes and
  markup characters, one plain and distinctive (``S3cr3tPw``) so a leak is easy to spot;
- section and packet comments (not shown by vrrpscope; present so a future change that shows them
  is tested too).

Addresses are documentation ones (192.0.2.0/24). Deterministic: rerunning rewrites identical bytes.

    python samples/hostile/hostile.pcapng.py            # rewrite hostile.pcapng in place
    python samples/hostile/hostile.pcapng.py --out F    # write elsewhere (the test compares)
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

from scapy.layers.inet import IP
from scapy.layers.l2 import ARP, Ether
from scapy.layers.vrrp import VRRP

HERE = Path(__file__).resolve().parent
BASE_TIME = 1_700_000_000

#: The interface name: every terminal and HTML attack at once.
HOSTILE_IFNAME = ("eth0\x1b[2J\x1b]0;pwned\x07\u009b31m<script>alert(1)</script>\"'&amp;\x01\x08\x7f").encode("utf-8")
#: Passwords (8 bytes max in VRRPv2): (router IP, VRID, password bytes).
ROUTERS: tuple[tuple[str, int, bytes], ...] = (
    ("192.0.2.1", 51, b"\x1b[2J<&'\""),
    ("192.0.2.2", 51, b"\x1b]0;t\x07\x9b>"),
    ("192.0.2.3", 52, b"S3cr3tPw"),
)
#: The plain password the leak tests look for.
PLAIN_SECRET = "S3cr3tPw"
HOSTILE_COMMENT = b"\x1b[31mred\x1b[0m <script>alert('c')</script> & \x07"


def _mac(ip: str) -> str:
    last = int(ip.rsplit(".", 1)[1])
    return f"02:00:5e:00:53:{last:02x}"


def vrrp_advert(src: str, vrid: int, password: bytes, prio: int) -> bytes:
    """A VRRPv2 advert with simple-text authentication (auth type 1), checksum computed by scapy."""
    pw = password.ljust(8, b"\0")
    vrrp = VRRP(
        version=2,
        type=1,
        vrid=vrid,
        priority=prio,
        authtype=1,
        adv=1,
        addrlist=[f"192.0.2.{100 + vrid - 51}"],
        auth1=int.from_bytes(pw[:4], "big"),
        auth2=int.from_bytes(pw[4:], "big"),
    )
    pkt = Ether(src=_mac(src), dst="01:00:5e:00:00:12") / IP(src=src, dst="224.0.0.18", ttl=255, proto=112) / vrrp
    return bytes(pkt)


def garp(src: str, vip: str) -> bytes:
    """A gratuitous ARP request from ``src``'s MAC for ``vip``."""
    mac = _mac(src)
    pkt = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=vip, hwdst="00:00:00:00:00:00", pdst=vip)
    return bytes(pkt)


def malformed_advert(src: str) -> bytes:
    """A VRRPv2 advert whose address count (200) overruns the packet: a ``malformed`` record."""
    raw = bytearray(vrrp_advert(src, 51, b"S3cr3tPw", 100))
    raw[14 + 20 + 3] = 200  # count IP addrs
    return bytes(raw)


# --- pcapng ------------------------------------------------------------------------------------


def _option(code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def _block(btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", btype, length) + body + struct.pack("<I", length)


def shb() -> bytes:
    """Section header with a hostile comment and hostile hardware/OS/application strings."""
    opts = (
        _option(1, HOSTILE_COMMENT)
        + _option(2, HOSTILE_IFNAME)
        + _option(3, HOSTILE_IFNAME)
        + _option(4, HOSTILE_IFNAME)
        + _option(0, b"")
    )
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opts)


def idb(name: bytes) -> bytes:
    """Ethernet interface with ``if_name`` = ``name`` and a hostile ``if_description``."""
    opts = _option(2, name) + _option(3, HOSTILE_COMMENT) + _option(0, b"")
    return _block(1, struct.pack("<HHI", 1, 0, 65535) + opts)


def epb(t: float, data: bytes, comment: bytes | None = None) -> bytes:
    """Enhanced packet on interface 0, microsecond timestamps, optional hostile comment."""
    ts = round(t * 1_000_000)
    body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data
    body += b"\0" * ((-len(data)) % 4)
    if comment is not None:
        body += _option(1, comment) + _option(0, b"")
    return _block(6, body)


def frames() -> list[tuple[float, bytes]]:
    """The capture's frames: adverts from every router, a GARP, a malformed advert."""
    out: list[tuple[float, bytes]] = []
    for i in range(3):
        for n, (ip, vrid, pw) in enumerate(ROUTERS):
            out.append((BASE_TIME + i + n * 0.01, vrrp_advert(ip, vrid, pw, 100 + n)))
    out.append((BASE_TIME + 3.0, garp("192.0.2.1", "192.0.2.100")))
    out.append((BASE_TIME + 3.5, malformed_advert("192.0.2.3")))
    return out


def build() -> bytes:
    """The whole hostile.pcapng file."""
    blob = shb() + idb(HOSTILE_IFNAME)
    for k, (t, data) in enumerate(frames()):
        blob += epb(t, data, HOSTILE_COMMENT if k == 0 else None)
    return blob


def main() -> None:
    """Write the capture (to ``--out`` or beside this script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=HERE / "hostile.pcapng")
    args = parser.parse_args()
    args.out.write_bytes(build())


if __name__ == "__main__":
    main()
