"""checksum_variant_mix: one router computes the VRRPv3/IPv4 checksum with the pseudo-header, the
other without (RFC 9568).

VRID 51 (v3/IPv4, VIP 192.0.2.100, 1 s). r1 (192.0.2.1, priority 150) runs keepalived 2.2.7
(checksum with the IPv4 pseudo-header, variant v3-ipv4-pseudo). r2 (192.0.2.2, priority 100) is
upgraded and restarted at 10.2 s with ``v3_checksum_as_v2`` (message-only checksum, variant
v3-ipv4-plain). Each rejects the other's adverts ("Invalid VRRPv3 checksum"): r2 becomes master
3.609375 s after starting and GARPs (+0, +5 s); as in PROTOCOL.md behaviour 7 it sends 2 adverts,
then r1 gets ahead and r2 stays silent on the wire while remaining master.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("checksum_variant_mix")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", version=3, checksum="pseudo")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", version=3, checksum="plain")
    s.noise(hosts, 0.0, 40.0)
    s.igmp_leave(r2, 10.2 - 0.012)
    s.igmp_join(r2, 10.25)
    became = 10.25 + r2.mdi() + ADVERT_LATENCY
    r1_before = s.adverts(r1, 0.0, became - 0.001)
    s.become_master(r2, became)
    second = s.advert(r2, s.next_advert(r2, became))
    r1_after = s.adverts(r1, second + 0.9996, 40.0)
    s.note(f"r1 last before {r1_before[-1]:.6f}; r2 adverts {became:.6f}, {second:.6f}; r1 again {r1_after[0]:.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
