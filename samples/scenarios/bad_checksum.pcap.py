"""bad_checksum: a keepalived build with broken VRRPv3 checksums (the GCC-LTO bug fixed in 2.2.8).

VRID 51 (v3/IPv4, VIP 192.0.2.100): r1 (192.0.2.1, priority 150) runs the broken build; every advert
carries a checksum that matches none of the variants (not with the IPv4 pseudo-header, not without
it). Its backup is down for maintenance, so r1 is alone and stays master. VRID 52 (v3/IPv4, VIP
192.0.2.101) on the same segment is healthy: r3 (192.0.2.3, MAC :03, priority 150) master with
correct checksums (pseudo-header, keepalived 2.2.7's default).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("bad_checksum")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", version=3, checksum="bad")
    r3 = Router("r3", mac(3), 150, ["192.0.2.101"], ip="192.0.2.3", vrid=52, version=3)
    s.noise(hosts, 0.0, 30.0)
    s.adverts(r1, 0.0, 30.0)
    s.adverts(r3, 0.5, 30.0)
    s.arp_exchange(9.0, hosts[0], "192.0.2.100", r1.mac)
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
