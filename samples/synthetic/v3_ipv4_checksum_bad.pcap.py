"""VRRPv3 over IPv4, checksum variant "bad":
a deliberately wrong value that no variant (pseudo-header, message only, pseudo-header
with 224.0.0.18) validates: checksum_variant must be None, tshark reports Bad in both modes.

Frames: see :func:`_synth.write_v3_ipv4_checksum_case`.
"""

from __future__ import annotations

from _synth import write_v3_ipv4_checksum_case


def main() -> None:
    """Build the frames and write the capture beside this script."""
    write_v3_ipv4_checksum_case(__file__, "bad")


if __name__ == "__main__":
    main()
