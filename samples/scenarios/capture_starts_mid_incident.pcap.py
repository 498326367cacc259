"""capture_starts_mid_incident: the capture starts about 0.5 s after a takeover it did not see.

r1 (the old master) died before the capture started; r2 (192.0.2.2, priority 100) became master of
VRID 51 (VIP 192.0.2.100, v2, 1 s) at −0.3 s (the first captured frame is at 0.26 s), so its first
advert and first GARP burst are not in the capture. The capture shows r2's regular adverts from
0.7 s and its delayed second GARP burst at 4.7 s. Nothing is known about the old master: no
takeover can be measured, and a GARP burst without a preceding first advert is normal here.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import GARP_AFTER_ADVERT, GARP_DELAY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("capture_starts_mid_incident")
    hosts = hosts_v4()
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    became_master = -0.3
    s.noise(hosts, 0.0, 30.0)
    first_seen = s.next_advert(r2, became_master)
    times = s.adverts(r2, first_seen, 30.0)
    s.link_update(r2, became_master + GARP_AFTER_ADVERT + GARP_DELAY)
    s.arp_exchange(12.0, hosts[0], "192.0.2.100", r2.mac)
    s.note(f"r2 became master at {became_master} (not captured); first captured advert {times[0]:.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
