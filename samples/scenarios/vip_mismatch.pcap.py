"""vip_mismatch: a VRID collision; a second, unrelated keepalived instance uses VRID 51 with another VIP.

Cluster A: r1 (192.0.2.1, MAC :01, priority 150) is master of VRID 51 with VIP 192.0.2.100 (v2,
1 s). At 10.0 s a new single-node deployment r3 (192.0.2.3, MAC :03, priority 100) starts with VRID
51 and VIP 192.0.2.200. Each drops the other's adverts ("ip address associated with VRID 51 not
present in MASTER advert"); r3 becomes master 3.609375 s after starting and GARPs 192.0.2.200 (+0,
+5 s). As in PROTOCOL.md behaviour 7, r3 sends 2 adverts (r1 is pushed back meanwhile), then r1 gets
ahead and r3 stays silent on the wire while remaining master. Each VIP keeps a single owner.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("vip_mismatch")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r3 = Router("r3", mac(3), 100, ["192.0.2.200"], ip="192.0.2.3")
    s.noise(hosts, 0.0, 40.0)
    s.igmp_join(r3, 10.0)
    became = 10.0 + r3.mdi() + ADVERT_LATENCY
    r1_before = s.adverts(r1, 0.0, became - 0.001)
    s.become_master(r3, became)
    second = s.advert(r3, s.next_advert(r3, became))
    r1_after = s.adverts(r1, second + 0.9996, 40.0)
    s.arp_exchange(25.0, hosts[0], "192.0.2.200", r3.mac)
    s.arp_exchange(26.0, hosts[1], "192.0.2.100", r1.mac)
    s.note(f"r1 last before {r1_before[-1]:.6f}; r3 adverts {became:.6f}, {second:.6f}; r1 again {r1_after[0]:.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
