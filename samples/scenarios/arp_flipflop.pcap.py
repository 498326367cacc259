"""arp_flipflop: the VIP's owner MAC alternates between the VRRP master and a decommissioned host.

r1 (192.0.2.1, priority 150, MAC :01) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s) and runs with
``vrrp_garp_master_refresh 10`` (one GARP every 10 s, at 2, 12, 22 ... s). The old load balancer
"oldlb" (192.0.2.61, MAC :0c) was never cleaned up: it still has 192.0.2.100 configured and a
monitor that re-announces it every 10 s (``arping -U -c 1``, at 7, 17, 27 ... s). The VIP's owner
flips r1 → oldlb → r1 → ... every 5 s for a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Host, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("arp_flipflop")
    hosts = hosts_v4()
    oldlb = Host("oldlb", "192.0.2.61", mac(0x0C))
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    s.noise([*hosts, oldlb], 0.0, 60.0)
    s.adverts(r1, 0.0, 60.0)
    for k in range(6):
        s.link_update(r1, 2.0 + 10 * k, repeat=1)
        s.add(7.0 + 10 * k, s.garp_frame(oldlb.mac, "192.0.2.100"))
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
