"""malformed: undecodable VRRP and ARP frames among a healthy group's traffic.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s), r2 its silent
backup. A buggy test device (192.0.2.9, MAC :09) sends: at 8.2 s a VRRP packet cut after 6 bytes
(IP total length 26; the Ethernet padding after it must not be read as VRRP); at 16.4 s a VRRPv2
advert for VRID 51 claiming 4 addresses but carrying 1 (count overflow, IP length consistent). At
22.0 s an ARP frame was captured with only 30 of its 60 bytes (caplen 30 < wire length). None of
these may create a router or change the group's state.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import VRRP_GROUP4, VRRP_GROUP4_MAC, Router, Scenario, hosts_v4, mac
from scapy.layers.inet import IP, checksum
from scapy.layers.l2 import ARP, Ether
from scapy.layers.vrrp import VRRP
from scapy.packet import Raw


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("malformed")
    hosts = hosts_v4()
    buggy = mac(9)
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    s.noise(hosts, 0.0, 30.0)
    s.adverts(r1, 0.0, 30.0)
    whole = bytes(VRRP(vrid=51, priority=100, addrlist=["192.0.2.100"]))
    cut = IP(src="192.0.2.9", dst=VRRP_GROUP4, ttl=255, id=0x77, proto=112) / Raw(whole[:6])
    s.add(8.2, Ether(src=buggy, dst=VRRP_GROUP4_MAC) / cut)
    body = bytearray(bytes(VRRP(vrid=51, priority=100, addrlist=["192.0.2.100"])))
    body[3] = 4  # Count IP Addrs claims 4, one address present
    body[6:8] = b"\0\0"  # checksum recomputed over the (short) message as sent
    body[6:8] = checksum(bytes(body)).to_bytes(2, "big")
    overflow = IP(src="192.0.2.9", dst=VRRP_GROUP4, ttl=255, id=0x78, proto=112) / Raw(bytes(body))
    s.add(16.4, Ether(src=buggy, dst=VRRP_GROUP4_MAC) / overflow)
    arp = Ether(src=hosts[1].mac, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=hosts[1].mac, psrc=hosts[1].ip, hwdst="00:00:00:00:00:00", pdst="192.0.2.100"
    )
    s.add(22.0, arp, caplen=30)
    s.arp_exchange(22.5, hosts[1], "192.0.2.100", r1.mac)
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
