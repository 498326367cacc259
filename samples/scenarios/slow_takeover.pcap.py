"""slow_takeover: the backup takes over 11 s after the master died, three times what VRRP allows.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s); r2 (192.0.2.2,
priority 100) is backup. r2's VM is frozen from 18.5 s to 27.4 s (a live migration); r1 is crashed
at 20.45 s. On resuming, r2 first processes the stale adverts queued in its socket, which restart
its master-down timer (PROTOCOL.md behaviour 11), and only takes over Master_Down_Interval later
(3.609375 s after resuming, ~11.0 s after r1's last advert), then GARPs (+0, +5 s). Meanwhile the
hosts probe r1's stale MAC and broadcast ARP requests for the VIP that nobody answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("slow_takeover")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 50.0)
    crash = 20.45
    last = s.adverts(r1, 0.0, crash)[-1]
    s.igmp_leave(r1, crash)
    resumed = 27.4
    first = resumed + r2.mdi() + ADVERT_LATENCY
    s.master_run(r2, first, 50.0)
    for t in (23.5, 24.5, 25.5):  # Linux NUD probes: unicast to the cached MAC
        s.arp_request(t, hosts[0], "192.0.2.100", eth_dst=r1.mac, target_mac=r1.mac)
    for t in (26.5, 27.5, 28.5):
        s.arp_request(t, hosts[0], "192.0.2.100")
    s.arp_exchange(38.0, hosts[1], "192.0.2.100", r2.mac)
    s.note(f"r1 last {last:.6f}; r2 first {first:.6f}; gap {first - last:.6f}; MDI {r2.mdi():.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
