"""advert_interval_mismatch: VRRPv3 routers of one group configured with 1 s and 3 s.

VRID 51 (VIP 192.0.2.100, v3/IPv4). r1 (192.0.2.1, priority 150) advertises every 100 cs, r2
(192.0.2.2, priority 100) is configured with 300 cs. In v3 an interval mismatch is only logged and
a backup adopts the master's interval, so there is no split brain. r1 is crashed at 15.4 s; r2
(using r1's 1 s) takes over after 3 + (256 − 100)/256 = 3.609375 s and advertises every 3 s, with
GARPs (+0, +5 s). keepalived restarts on r1 at 31.0 s; as backup with its own 1 s interval it
preempts after 3 + (256 − 150)/256 = 3.4140625 s and GARPs; r2 returns to backup.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("advert_interval_mismatch")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", version=3, advert_int=1.0)
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", version=3, advert_int=3.0)
    s.noise(hosts, 0.0, 50.0)
    crash = 15.4
    r1_last = s.adverts(r1, 0.0, crash)[-1]
    s.igmp_leave(r1, crash)
    r2_first = r1_last + r2.mdi(1.0) + ADVERT_LATENCY
    restart = 31.0
    s.igmp_join(r1, restart)
    r1_back = restart + r1.mdi() + ADVERT_LATENCY
    r2_last = s.master_run(r2, r2_first, r1_back - 0.0001)[-1]
    s.master_run(r1, r1_back, 50.0)
    s.arp_exchange(25.0, hosts[0], "192.0.2.100", r2.mac)
    s.note(f"r1 last {r1_last:.6f}; r2 first {r2_first:.6f}; gap {r2_first - r1_last:.6f} (MDI {r2.mdi(1.0):.6f})")
    s.note(f"r2 last {r2_last:.6f}; r1 back {r1_back:.6f}; gap {r1_back - r2_last:.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
