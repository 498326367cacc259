"""ttl_violation: a standalone appliance sends its VRRP multicast adverts with TTL 64.

VRID 51 is a healthy keepalived pair: r1 (192.0.2.1, priority 150) master of VIP 192.0.2.100 with
TTL 255 adverts, r2 its silent backup. VRID 60 has a single router, an appliance r5 (192.0.2.5, MAC
:0a, priority 100, VIP 192.0.2.160) whose adverts to 224.0.0.18 leave with TTL 64 (an
``iptables -t mangle ... -j TTL --ttl-set 64`` rule matching all its output). Receivers must
discard such adverts (RFC 3768/5798 §7.1). Only VRID 60 is at fault.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("ttl_violation")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r5 = Router("r5", mac(0x0A), 100, ["192.0.2.160"], ip="192.0.2.5", vrid=60, ttl=64)
    s.noise(hosts, 0.0, 40.0)
    s.adverts(r1, 0.0, 40.0)
    s.adverts(r5, 0.6, 40.0)
    s.arp_exchange(12.0, hosts[0], "192.0.2.160", r5.mac)
    s.arp_exchange(13.0, hosts[1], "192.0.2.100", r1.mac)
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
