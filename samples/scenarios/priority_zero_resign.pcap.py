"""priority_zero_resign: a VRRPv3 master with a 0.5 s interval resigns; the backup takes over after
its Skew_Time only.

VRID 51 (v3/IPv4, VIP 192.0.2.100, 50 cs). r1 (192.0.2.1, priority 254) is master; at 12.37 s
keepalived on r1 is stopped: one priority-0 advert, VIP removed, IGMPv3 leaves. r2 (192.0.2.2,
priority 200) becomes master after Skew_Time = (256 − 200) × 0.5/256 = 0.109375 s (plus 1.5 ms
latency) and GARPs (+0, +5 s). Normal operation: the only finding is the informational resign.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("priority_zero_resign")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 254, ["192.0.2.100"], ip="192.0.2.1", version=3, advert_int=0.5)
    r2 = Router("r2", mac(2), 200, ["192.0.2.100"], ip="192.0.2.2", version=3, advert_int=0.5)
    s.noise(hosts, 0.0, 30.0)
    s.adverts(r1, 0.0, 12.3)
    stop = s.resign(r1, 12.37)
    first = stop + r2.skew(0.5) + 0.0015
    s.master_run(r2, first, 30.0)
    s.arp_exchange(20.0, hosts[0], "192.0.2.100", r2.mac)
    s.note(f"priority 0 at {stop:.6f}; r2 first {first:.6f}; gap {first - stop:.6f}; skew {r2.skew(0.5):.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
