"""normal_failover_v2: the VRRPv2 master dies silently and the backup takes over after
Master_Down_Interval.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, advert_int 1 s) from the start
of the capture; r2 (192.0.2.2, priority 100) is backup. r1 is crashed at 20.45 s, after its advert at ~20 s
(SIGSTOP parent, SIGKILL child: no priority-0 advert; the kernel's IGMPv3 leaves follow). r2 takes
over 3 × 1 + (256 − 100)/256 = 3.609375 s after r1's last advert (plus 0.8 ms send latency), sends
its advert, then 5 GARPs and 5 more 5 s later. Hosts resolve the VIP before and after.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("normal_failover_v2")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 40.0)
    crash = 20.45
    last = s.adverts(r1, 0.0, crash)[-1]
    s.igmp_leave(r1, crash)
    first = last + r2.mdi() + ADVERT_LATENCY
    s.master_run(r2, first, 40.0)
    s.arp_exchange(5.3, hosts[0], "192.0.2.100", r1.mac)
    s.arp_exchange(31.2, hosts[1], "192.0.2.100", r2.mac)
    s.note(f"r1 last advert {last:.6f}; r2 first advert {first:.6f}; gap {first - last:.6f}; MDI {r2.mdi():.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
