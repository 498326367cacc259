"""pcapng with two interfaces, written block by block (scapy writes neither several IDBs with
options nor ISBs).

Section header, then IDB 0 (Ethernet, ``if_name`` "eth0", ``if_tsresol`` 6 = microseconds) and IDB 1
(Ethernet, ``if_name`` "eth1", ``if_tsresol`` 9 = nanoseconds). Enhanced packet blocks alternate
between them: VRID 51 v2 from R1 on eth0 and VRID 51 v3 from R2 on eth1 (two segments), a GARP on
eth1, noise on both; an interface statistics block for eth0 reports 3 dropped packets
(``isb_ifdrop``) and one for eth1 reports none, then one more frame on eth0.
"""

from __future__ import annotations

from _synth import (
    IP_R1,
    IP_R2,
    LINKTYPE_ETHERNET,
    MAC_R1,
    MAC_R2,
    VIP1,
    VIP2,
    VRRP4_GROUP,
    epb,
    eth,
    garp_request,
    idb,
    isb,
    noise4,
    output_path,
    shb,
    ticks,
    vrrp2_message,
    vrrp3_message,
    vrrp4,
)

US = 10**6
NS = 10**9


def main() -> None:
    """Build the blocks and write the capture beside this script."""
    n = noise4()
    v2 = vrrp2_message(51, 150, [VIP1])
    v3 = vrrp3_message(51, 150, [VIP2], src=IP_R2, dst=VRRP4_GROUP)
    blocks = [
        shb(),
        idb(LINKTYPE_ETHERNET, name="eth0", tsresol=6),
        idb(LINKTYPE_ETHERNET, name="eth1", tsresol=9),
        epb(0, ticks("0.000001", US), bytes(eth(vrrp4(IP_R1, v2, ident=1), MAC_R1))),
        epb(1, ticks("0.000001123", NS), bytes(eth(vrrp4(IP_R2, v3, ident=1), MAC_R2))),
        epb(1, ticks("0.100000456", NS), bytes(eth(garp_request(MAC_R2, VIP2), MAC_R2, pad=True))),
        epb(0, ticks("0.2", US), bytes(eth(n[0]))),
        epb(1, ticks("0.3", NS), bytes(eth(n[1]))),
        epb(0, ticks("1.000002", US), bytes(eth(vrrp4(IP_R1, v2, ident=2), MAC_R1))),
        epb(1, ticks("1.000002789", NS), bytes(eth(vrrp4(IP_R2, v3, ident=2), MAC_R2))),
        isb(0, ticks("1.5", US), ifrecv=10, ifdrop=3),
        isb(1, ticks("1.5", NS), ifrecv=9, ifdrop=0),
        epb(0, ticks("2.000003", US), bytes(eth(vrrp4(IP_R1, v2, ident=3), MAC_R1))),
    ]
    output_path(__file__).write_bytes(b"".join(blocks))


if __name__ == "__main__":
    main()
