"""version_mismatch: VRRPv2 and VRRPv3 adverts in one group (a half-done migration).

r1 (192.0.2.1, priority 150, VRRPv2) is master of VRID 51 (VIP 192.0.2.100, 1 s). r2 (192.0.2.2,
priority 100) is restarted at 10.2 s configured for VRRPv3 (keepalived: "wrong version. Received 2
and expect 3"); it becomes master 3.609375 s after starting, with an advert and GARPs (+0, +5 s).
Both drop the other's adverts; as in an observed keepalived run (PROTOCOL.md behaviour 7), the
higher-priority v2 router sends 3 more adverts (r2 is pushed back meanwhile) and then falls silent
for good while still MASTER; r2 advertises (v3) from then on.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, fmt, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("version_mismatch")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", version=2)
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", version=3)
    s.noise(hosts, 0.0, 40.0)
    s.igmp_leave(r2, 10.2 - 0.012)
    s.igmp_join(r2, 10.25)
    became = 10.25 + r2.mdi() + ADVERT_LATENCY
    r1_before = s.adverts(r1, 0.0, became - 0.001)
    s.become_master(r2, became)
    extra = [s.advert(r1, became + k - 0.0002 * k) for k in (1, 2, 3)]
    r2_again = s.adverts(r2, extra[-1] + 1.0001, 40.0)
    s.note(
        f"r1 last regular {r1_before[-1]:.6f}; r2 first {became:.6f}; r1 extra {fmt(extra)}; "
        f"r2 again from {r2_again[0]:.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
