"""VRRPv2 with simple text password authentication (auth type 1, keepalived ``auth_type PASS``).

Frames: R1 (priority 150) with password "secret" (NUL padded to 8 bytes); R2 (priority 100) with
"longpassword", which keepalived truncates to the 8 bytes "longpass" (an auth mismatch between the
two); R2's frames carry Ethernet padding to 60 bytes as received frames do; noise frames
between them.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    MAC_R1,
    MAC_R2,
    VIP1,
    eth,
    noise4,
    output_path,
    vrrp2_message,
    vrrp4,
    write_pcap,
)


def main() -> None:
    """Build the frames and write the capture beside this script."""
    r1 = vrrp2_message(51, 150, [VIP1], auth_type=1, auth_data=b"secret")
    r2 = vrrp2_message(51, 100, [VIP1], auth_type=1, auth_data=b"longpassword")
    n = noise4()
    frames = [
        (0.0, eth(vrrp4(IP_R1, r1, ident=1), MAC_R1)),
        (0.1, eth(n[0])),
        (0.5, eth(vrrp4(IP_R2, r2, ident=1), MAC_R2, pad=True)),
        (1.0, eth(vrrp4(IP_R1, r1, ident=2), MAC_R1)),
        (1.2, eth(n[1])),
        (1.5, eth(vrrp4(IP_R2, r2, ident=2), MAC_R2, pad=True)),
        (1.7, eth(n[2])),
    ]
    write_pcap(output_path(__file__), frames)


if __name__ == "__main__":
    main()
