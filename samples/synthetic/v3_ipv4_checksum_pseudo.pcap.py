"""VRRPv3 over IPv4, checksum variant "pseudo":
IPv4 pseudo-header (source, destination, 0, 112, length): the keepalived, FRR and
Wireshark default (PROTOCOL.md §9.3, variant ``v3-ipv4-pseudo``).

Frames: see :func:`_synth.write_v3_ipv4_checksum_case`.
"""

from __future__ import annotations

from _synth import write_v3_ipv4_checksum_case


def main() -> None:
    """Build the frames and write the capture beside this script."""
    write_v3_ipv4_checksum_case(__file__, "pseudo")


if __name__ == "__main__":
    main()
