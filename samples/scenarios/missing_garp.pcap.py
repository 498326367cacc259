"""missing_garp: a normal failover in which the new master's gratuitous ARPs never reach the wire.

r1 (192.0.2.1, priority 150) master of VRID 51 (VIP 192.0.2.100, v2, 1 s) is crashed at 20.45 s;
r2 (192.0.2.2, priority 100) takes over after 3.609375 s and advertises normally, but an arptables
OUTPUT rule left over from a migration drops its gratuitous ARPs (ordinary ARP replies still go
out). Hosts keep sending to r1's dead MAC until their ARP entries expire: they probe r1's MAC,
then broadcast a request that r2 answers, 7 s after the takeover.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("missing_garp")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 40.0)
    crash = 20.45
    last = s.adverts(r1, 0.0, crash)[-1]
    s.igmp_leave(r1, crash)
    first = last + r2.mdi() + ADVERT_LATENCY
    s.master_run(r2, first, 40.0, garp=False)
    s.arp_exchange(6.0, hosts[0], "192.0.2.100", r1.mac)
    for t in (27.6, 28.6, 29.6):
        s.arp_request(t, hosts[0], "192.0.2.100", eth_dst=r1.mac, target_mac=r1.mac)
    s.arp_exchange(30.6, hosts[0], "192.0.2.100", r2.mac)
    s.note(f"r1 last {last:.6f}; r2 first {first:.6f}; gap {first - last:.6f}; MDI {r2.mdi():.6f}; no GARP")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
