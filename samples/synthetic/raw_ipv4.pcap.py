"""Raw IPv4 capture (link type 228). Frames: v2 and v3 adverts, IPv4 noise."""

from __future__ import annotations

from _synth import (
    IP_R1,
    LINKTYPE_IPV4,
    VIP1,
    VIP2,
    VRRP4_GROUP,
    noise4,
    output_path,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n4 = noise4()
    frames = [
        (0.0, vrrp4(IP_R1, vrrp2_message(51, 150, [VIP1]), ident=1)),
        (0.1, vrrp4(IP_R1, vrrp3_message(52, 150, [VIP2], src=IP_R1, dst=VRRP4_GROUP), ident=2)),
        (0.4, n4[0]),
        (0.5, n4[1]),
    ]
    write_pcap(output_path(__file__), frames, linktype=LINKTYPE_IPV4)


if __name__ == "__main__":
    main()
