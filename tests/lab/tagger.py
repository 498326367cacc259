"""User-space 802.1Q tagger: copies every frame seen on an access veth to a trunk veth, tagged.

This machine's kernel has no 802.1Q module (``ip link add … type vlan`` fails), so the lab makes
tagged traffic itself. Run inside the bridge namespace by :class:`tests.lab.lab.Lab` as a separate
process (killed by PID on teardown)::

    python tagger.py --access tag-a --trunk tag-t --vid 30            # one 802.1Q tag
    python tagger.py --access tag-a --trunk tag-t --vid 100 --vid 30  # QinQ: 802.1ad 100, 802.1Q 30

Frames are forwarded one way only (access -> trunk): the observer on the trunk never transmits.
The tag is inserted after the two MAC addresses (RFC-free, IEEE 802.1Q §9.3): TPID 0x8100 (inner)
or 0x88a8 (outer tags of a stack), PCP 0, DEI 0, VID. Kept free of package imports so it runs as a
plain script.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys

#: ETH_P_ALL: receive every protocol on the access socket.
ETH_P_ALL = 0x0003
#: packet type of frames we sent ourselves (``sll_pkttype``), never forwarded.
PACKET_OUTGOING = 4
TPID_8021Q = 0x8100
TPID_8021AD = 0x88A8


def tag_bytes(vids: list[int]) -> bytes:
    """The tag stack for ``vids`` (outermost first): 802.1ad outer tags, 802.1Q innermost."""
    out = b""
    for i, vid in enumerate(vids):
        if not 0 <= vid <= 4095:
            raise ValueError(f"VLAN id out of range: {vid}")
        tpid = TPID_8021Q if i == len(vids) - 1 else TPID_8021AD
        out += struct.pack("!HH", tpid, vid & 0x0FFF)
    return out


def insert_tags(frame: bytes, tags: bytes) -> bytes:
    """``frame`` with ``tags`` inserted after destination and source MAC."""
    return frame[:12] + tags + frame[12:]


def main(argv: list[str] | None = None) -> int:
    """Forward frames until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--access", required=True)
    parser.add_argument("--trunk", required=True)
    parser.add_argument("--vid", type=int, action="append", required=True)
    args = parser.parse_args(argv)
    tags = tag_bytes(args.vid)
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((args.access, ETH_P_ALL))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    tx.bind((args.trunk, 0))
    print("ready", flush=True)
    while True:
        frame, addr = rx.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING or len(frame) < 14:
            continue
        tx.send(insert_tags(frame, tags))


if __name__ == "__main__":
    sys.exit(main())
