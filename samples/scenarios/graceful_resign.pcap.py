"""graceful_resign: the VRRPv2 master is stopped cleanly and the backup takes over after Skew_Time.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, 1 s). At 15.3 s keepalived on
r1 gets SIGTERM: it sends exactly one priority-0 advert and removes the VIP; the kernel's IGMPv3
leaves follow. r2 (192.0.2.2, priority 100) becomes master Skew_Time = (256 − 100)/256 = 0.609375 s
later (measured on keepalived 2.2.7: 0.611 s, so 1.6 ms latency is added), then GARPs (+0, +5 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("graceful_resign")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 35.0)
    last = s.adverts(r1, 0.0, 15.2)[-1]
    stop = s.resign(r1, 15.3)
    first = stop + r2.skew() + 0.0016
    s.master_run(r2, first, 35.0)
    s.arp_exchange(4.1, hosts[0], "192.0.2.100", r1.mac)
    s.arp_exchange(25.7, hosts[1], "192.0.2.100", r2.mac)
    s.note(
        f"r1 last regular advert {last:.6f}; priority 0 at {stop:.6f}; r2 first {first:.6f}; "
        f"gap {first - stop:.6f}; skew {r2.skew():.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
