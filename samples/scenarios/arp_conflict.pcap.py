"""arp_conflict: a host that is not a VRRP router claims the VIP while the master holds it.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s) throughout; r2 is its
silent backup. At 12 s a provisioning mistake adds 192.0.2.100 to host "h60" (192.0.2.60, MAC :0b),
whose script announces it (``arping -U -c 2``: two ARP requests, sender = target = the VIP, 1 s
apart). From then on both r1 and h60 answer ARP requests for the VIP, 0.15 ms apart (at 15 s and
30 s): two MACs claim one IP at the same time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Host, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("arp_conflict")
    hosts = hosts_v4()
    h60 = Host("h60", "192.0.2.60", mac(0x0B))
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    s.noise([*hosts, h60], 0.0, 40.0)
    s.adverts(r1, 0.0, 40.0)
    s.arp_exchange(5.0, hosts[0], "192.0.2.100", r1.mac)
    for t in (12.0, 13.0):
        s.add(t, s.garp_frame(h60.mac, "192.0.2.100"))
    s.arp_exchange(15.0, hosts[0], "192.0.2.100", r1.mac, h60.mac)
    s.arp_exchange(30.0, hosts[1], "192.0.2.100", h60.mac, r1.mac)
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
