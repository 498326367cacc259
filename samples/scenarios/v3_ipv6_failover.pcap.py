"""v3_ipv6_failover: VRRPv3 over IPv6; the master dies silently, the backup takes over and sends
unsolicited neighbour advertisements.

VRID 51, VIPs fe80::51 (link-local first, as RFC 5798 requires) and 2001:db8:51::100, advert_int
1 s. Adverts come from the routers' EUI-64 link-local addresses to ff02::12, hop limit 255. r1
(MAC :01, priority 150) is crashed at 20.3 s; r2 (MAC :02, priority 100) takes over after
3 + (256 − 100)/256 = 3.609375 s, then sends 5 unsolicited NAs per VIP (source = the VIP, to
ff02::1, O=1, S=0, R=0, TLLA = its MAC), and 5 more per VIP 5 s later. Hosts resolve the global
VIP with NS/NA before and after.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v6, mac

VIPS = ["fe80::51", "2001:db8:51::100"]


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("v3_ipv6_failover")
    hosts = hosts_v6()
    r1 = Router("r1", mac(1), 150, VIPS, version=3)
    r2 = Router("r2", mac(2), 100, VIPS, version=3)
    s.noise(hosts, 0.0, 40.0, rate=2.0)
    last = s.adverts(r1, 0.0, 20.3)[-1]
    first = last + r2.mdi() + ADVERT_LATENCY
    s.master_run(r2, first, 40.0)
    s.nd_exchange(7.2, hosts[0], VIPS[1], r1.mac)
    s.nd_exchange(30.4, hosts[1], VIPS[1], r2.mac)
    s.note(f"r1 {r1.ip} last {last:.6f}; r2 {r2.ip} first {first:.6f}; gap {first - last:.6f}; MDI {r2.mdi():.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
