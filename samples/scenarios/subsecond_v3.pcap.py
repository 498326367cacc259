"""subsecond_v3: VRRPv3 (IPv4) with a 0.2 s advertisement interval; the master dies silently.

r1 (192.0.2.1, priority 150) and r2 (192.0.2.2, priority 100), VRID 51, VIP 192.0.2.100,
advert_int 20 cs, keepalived's default v3/IPv4 checksum (with pseudo-header). r1 is crashed at
10.05 s; r2 takes over after Master_Down_Interval 3 × 0.2 + (256 − 100) × 0.2/256 = 0.721875 s,
then GARPs (+0, +5 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("subsecond_v3")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", version=3, advert_int=0.2)
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", version=3, advert_int=0.2)
    s.noise(hosts, 0.0, 20.0)
    crash = 10.05
    last = s.adverts(r1, 0.0, crash)[-1]
    s.igmp_leave(r1, crash)
    first = last + r2.mdi(0.2) + ADVERT_LATENCY
    s.master_run(r2, first, 20.0)
    s.arp_exchange(15.5, hosts[0], "192.0.2.100", r2.mac)
    s.note(f"r1 last {last:.6f}; r2 first {first:.6f}; gap {first - last:.6f}; MDI {r2.mdi(0.2):.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
