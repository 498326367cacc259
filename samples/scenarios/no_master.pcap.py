"""no_master: the master dies and nobody takes over.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s). r2 (192.0.2.2,
priority 100), its backup, went to FAULT at 12 s (tracked uplink down; a backup entering FAULT sends
nothing). r1 is crashed at 20.45 s (IGMPv3 leaves follow). No VRRP advert appears for the remaining
25 s; hosts probe r1's stale MAC, then broadcast ARP requests for the VIP that nobody answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("no_master")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    s.noise(hosts, 0.0, 45.0)
    crash = 20.45
    last = s.adverts(r1, 0.0, crash)[-1]
    s.igmp_leave(r1, crash)
    s.arp_exchange(6.0, hosts[0], "192.0.2.100", r1.mac)
    for t in (23.5, 24.5, 25.5):
        s.arp_request(t, hosts[0], "192.0.2.100", eth_dst=r1.mac, target_mac=r1.mac)
    for t in (26.5, 27.5, 28.5, 35.0, 36.0, 37.0):
        s.arp_request(t, hosts[0], "192.0.2.100")
    s.note(f"r1 last advert {last:.6f}; silence until the end")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
