"""preemption: the higher-priority router comes back and preempts the master.

The capture starts with r2 (192.0.2.2, priority 100) master of VRID 51 (VIP 192.0.2.100, v2, 1 s);
r1 (192.0.2.1, priority 150) is down for maintenance. keepalived starts on r1 at 10.05 s (IGMPv3
joins); as a backup it discards r2's lower-priority adverts, so it becomes master after its own
Master_Down_Interval 3 + (256 − 150)/256 = 3.4140625 s: advert, then GARPs (+0, +5 s). r2 hears
the higher-priority advert, becomes backup and stops advertising (its last advert is less than one
interval before r1's first).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("preemption")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 35.0)
    start = 10.05
    s.igmp_join(r1, start)
    first = start + r1.mdi() + ADVERT_LATENCY
    last = s.adverts(r2, 0.25, first - 0.0001)[-1]
    s.master_run(r1, first, 35.0)
    s.arp_exchange(5.0, hosts[0], "192.0.2.100", r2.mac)
    s.arp_exchange(25.0, hosts[1], "192.0.2.100", r1.mac)
    s.note(f"r2 last advert {last:.6f}; r1 first {first:.6f}; gap {first - last:.6f}; r1 MDI {r1.mdi():.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
