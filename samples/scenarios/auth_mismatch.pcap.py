"""auth_mismatch: IPsec-AH on one router, simple password on the other; on the wire it looks like a
takeover by the lower-priority router.

r1 (192.0.2.1, priority 150, auth_type AH, password "alpha": IP protocol 51, AH with HMAC-MD5-96,
VRRP auth type 2) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s). r2 (192.0.2.2, priority 100) is
deployed at 8.0 s with auth_type PASS "alpha". r2 drops r1's adverts ("Received AH header but auth
type not AH"), becomes master 3.609375 s after starting, advertises and GARPs. r1 drops r2's
adverts too, but each one restarts its advert timer and r2 is always first, so r1 falls silent on
the wire although it is still MASTER and holds the VIP (PROTOCOL.md behaviour 7, here the
higher-priority side loses the race). At 25 s both routers answer an ARP request for the VIP.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("auth_mismatch")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", auth=("ah", "alpha"))
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", auth=("pass", "alpha"))
    s.noise(hosts, 0.0, 40.0)
    s.igmp_join(r2, 8.0)
    became = 8.0 + r2.mdi() + ADVERT_LATENCY
    r1_times = s.adverts(r1, 0.0, became - 0.001)
    s.master_run(r2, became, 40.0)
    s.arp_exchange(4.4, hosts[0], "192.0.2.100", r1.mac)
    s.arp_exchange(25.0, hosts[1], "192.0.2.100", r2.mac, r1.mac)
    s.note(
        f"r1 (AH) last advert {r1_times[-1]:.6f}; r2 (PASS) first {became:.6f}; "
        f"gap {became - r1_times[-1]:.6f}, below r2's MDI {r2.mdi():.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
