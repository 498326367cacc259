"""VRRPv3 over IPv4, checksum variant "plain":
the VRRP message only, no pseudo-header: RFC 9568 §5.2.8 (keepalived >= 2.2.8
``v3_checksum_as_v2``, FRR >= 8.5 ``no checksum-with-ipv4-pseudoheader``; variant ``v3-ipv4-plain``).
tshark validates these only with ``-o vrrp.v3_checksum_as_in_v2:TRUE``.

Frames: see :func:`_synth.write_v3_ipv4_checksum_case`.
"""

from __future__ import annotations

from _synth import write_v3_ipv4_checksum_case


def main() -> None:
    """Build the frames and write the capture beside this script."""
    write_v3_ipv4_checksum_case(__file__, "plain")


if __name__ == "__main__":
    main()
