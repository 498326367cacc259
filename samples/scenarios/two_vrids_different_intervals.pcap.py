"""two_vrids_different_intervals: two VRRPv2 groups on one segment, 1 s and 3 s, active/active.

VRID 51 (VIP 192.0.2.100, advert_int 1 s): r1 (192.0.2.1) priority 150 master, r2 priority 100.
VRID 52 (VIP 192.0.2.101, advert_int 3 s): r2 (192.0.2.2) priority 150 master, r1 priority 100.
r2 loses power at 30.9 s (no priority 0, no IGMP leave). In VRID 52, r1 takes over after
3 × 3 + (256 − 100)/256 = 9.609375 s and GARPs 192.0.2.101 (+0, +5 s); VRID 51 is unaffected
(r2 was its silent backup). Different intervals in different groups are not a mismatch.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("two_vrids_different_intervals")
    hosts = hosts_v4()
    r1_51 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", vrid=51)
    r2_52 = Router("r2", mac(2), 150, ["192.0.2.101"], ip="192.0.2.2", vrid=52, advert_int=3.0)
    r1_52 = Router("r1", mac(1), 100, ["192.0.2.101"], ip="192.0.2.1", vrid=52, advert_int=3.0)
    s.noise(hosts, 0.0, 60.0)
    s.adverts(r1_51, 0.0, 60.0)
    last = s.adverts(r2_52, 0.4, 30.9)[-1]
    first = last + r1_52.mdi() + ADVERT_LATENCY
    s.master_run(r1_52, first, 60.0)
    s.arp_exchange(10.2, hosts[0], "192.0.2.101", r2_52.mac)
    s.arp_exchange(50.2, hosts[0], "192.0.2.101", r1_52.mac)
    s.arp_exchange(50.8, hosts[1], "192.0.2.100", r1_51.mac)
    s.note(f"VRID 52: r2 last {last:.6f}; r1 first {first:.6f}; gap {first - last:.6f}; MDI {r1_52.mdi():.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
