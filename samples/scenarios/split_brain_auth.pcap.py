"""split_brain_auth: two masters with different simple passwords advertise side by side for ~8 s.

r1 (192.0.2.1, priority 150, auth PASS "alpha") is master of VRID 51 (VIP 192.0.2.100, v2, 1 s).
A half-done password rotation restarts keepalived on r2 (192.0.2.2, priority 100) with PASS
"bravo" at 10.2 s (IGMPv3 leave/join). r2 drops r1's adverts ("received an invalid passwd!"),
becomes master after its Master_Down_Interval (3.609375 s) and GARPs (+0, +5 s); r1 drops r2's
adverts too and keeps advertising: both advertise for ~8.4 s. At 22.3 s r1 is reloaded with the
new password "bravo" (a reload keeps MASTER and sends an advert at once); r2 now accepts r1's
higher-priority adverts and returns to backup without a priority-0 advert. r1 never re-GARPs, so
the VIP stays on r2's MAC (r2's GARPs were the last).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("split_brain_auth")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", auth=("pass", "alpha"))
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", auth=("pass", "bravo"))
    s.noise(hosts, 0.0, 45.0)
    s.igmp_leave(r2, 10.2 - 0.012)
    s.igmp_join(r2, 10.25)
    became = 10.25 + r2.mdi() + ADVERT_LATENCY
    reload = 22.3
    r1_before = s.adverts(r1, 0.0, reload - 0.001)
    r2_times = s.master_run(r2, became, reload + 0.00005)
    r1.auth = ("pass", "bravo")
    s.adverts(r1, reload + 0.0003, 45.0)
    s.arp_exchange(5.5, hosts[0], "192.0.2.100", r1.mac)
    s.note(
        f"r2 master {r2_times[0]:.6f}..{r2_times[-1]:.6f} ({len(r2_times)} adverts) while r1 advertised; "
        f"r1 last 'alpha' advert {r1_before[-1]:.6f}, reloaded at {reload + 0.0003:.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
