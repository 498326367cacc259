"""same_vrid_two_vlans: VRID 51 on VLAN 10 and VRID 51 on VLAN 20, different routers and VIPs.

Captured on a trunk port, every frame 802.1Q-tagged. VLAN 10: r1 (192.0.2.1, priority 150, MAC
:01) master of VIP 192.0.2.100, r2 (192.0.2.2, 100) silent backup. VLAN 20: r3 (198.51.100.1,
priority 200, MAC :03) master of VIP 198.51.100.100, r4 (198.51.100.2, 100, MAC :04) backup. r3
crashes at 20.5 s; r4 takes over after 3 + (256 − 100)/256 = 3.609375 s and GARPs (+0, +5 s).
These are two groups: merged, they would look like a split brain with a VIP mismatch.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("same_vrid_two_vlans")
    hosts10 = hosts_v4("192.0.2", vlan=10, first_mac=5)
    hosts20 = hosts_v4("198.51.100", vlan=20, first_mac=8)
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", vlan=10)
    r3 = Router("r3", mac(3), 200, ["198.51.100.100"], ip="198.51.100.1", vlan=20)
    r4 = Router("r4", mac(4), 100, ["198.51.100.100"], ip="198.51.100.2", vlan=20)
    s.noise(hosts10, 0.0, 40.0, rate=2.0)
    s.noise(hosts20, 0.0, 40.0, rate=2.0)
    s.adverts(r1, 0.0, 40.0)
    crash = 20.5
    last = s.adverts(r3, 0.3, crash)[-1]
    s.igmp_leave(r3, crash)
    first = last + r4.mdi() + ADVERT_LATENCY
    s.master_run(r4, first, 40.0)
    s.arp_exchange(6.6, hosts10[0], "192.0.2.100", r1.mac)
    s.arp_exchange(7.7, hosts20[0], "198.51.100.100", r3.mac)
    s.arp_exchange(33.3, hosts20[1], "198.51.100.100", r4.mac)
    s.note(f"VLAN 20: r3 last {last:.6f}; r4 first {first:.6f}; gap {first - last:.6f}; MDI {r4.mdi():.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
