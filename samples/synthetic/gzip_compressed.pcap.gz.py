"""gzip-compressed classic pcap (``tcpdump -w - | gzip``): readers must decompress transparently.

The gzip header has mtime 0 and no file name so the file is reproducible. Frames: two v2 adverts,
a GARP, noise.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    MAC_R1,
    VIP1,
    eth,
    garp_request,
    noise4,
    output_path,
    vrrp2_message,
    vrrp4,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    n = noise4()
    v2 = vrrp2_message(51, 150, [VIP1])
    frames = [
        (0.0, eth(vrrp4(IP_R1, v2, ident=1), MAC_R1)),
        (0.1, eth(garp_request(MAC_R1, VIP1), MAC_R1)),
        (0.5, eth(n[0])),
        (1.0, eth(vrrp4(IP_R1, v2, ident=2), MAC_R1)),
    ]
    write_pcap(output_path(__file__), frames, gz=True)


if __name__ == "__main__":
    main()
