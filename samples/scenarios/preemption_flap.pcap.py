"""preemption_flap: a flapping track_script moves mastership back and forth 6 times in 48 s.

VRID 51 (VIP 192.0.2.100, v2, 1 s). r1 (192.0.2.1) has priority 150 and a track_script with weight
−60; r2 (192.0.2.2) has priority 100. The script fails at 2.5, 22.5 and 42.5 s (r1's adverts then
carry priority 90) and recovers at 10.3, 30.3 and 50.3 s. Each failure: r2 drops r1's
lower-priority adverts and becomes master Master_Down_Interval (3.609375 s) after r1's last
priority-150 advert; r1 hears the higher priority and becomes backup. Each recovery: r1 (backup,
priority 150 again) drops r2's adverts and preempts 3.4140625 s after the last advert it accepted.
Every new master GARPs (+0, +5 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("preemption_flap")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    end = 62.0
    s.noise(hosts, 0.0, end)
    t = 0.0
    first_cycle = True
    for fail, recover in [(2.5, 10.3), (22.5, 30.3), (42.5, 50.3)]:
        if first_cycle:
            healthy = s.adverts(r1, t, fail)
            first_cycle = False
        else:
            healthy = [t, *s.adverts(r1, s.next_advert(r1, t), fail)]
        r2_first = healthy[-1] + r2.mdi() + ADVERT_LATENCY
        degraded = s.adverts(r1, s.next_advert(r1, healthy[-1]), r2_first - 0.001, priority=90)
        r2_times = [r2_first, *s.adverts(r2, s.next_advert(r2, r2_first), recover)]
        s.become_master(r2, r2_first)
        t = r2_times[-1] + r1.mdi() + ADVERT_LATENCY
        r2_times += s.adverts(r2, s.next_advert(r2, r2_times[-1]), t - 0.0001)
        s.become_master(r1, t)
        s.note(
            f"r1 150 last {healthy[-1]:.6f}, 90 last {degraded[-1]:.6f}; r2 first {r2_first:.6f} "
            f"(gap {r2_first - degraded[-1]:.6f}); r2 last {r2_times[-1]:.6f}; r1 back {t:.6f} "
            f"(gap {t - r2_times[-1]:.6f})"
        )
    s.adverts(r1, s.next_advert(r1, t), end)
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
