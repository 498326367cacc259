"""keepalived_lower_prio_reply: the master answers a lower-priority advert at once (RFC 9568 §6.4.3,
keepalived's default) and the spurious master steps down within a millisecond; not a split brain.

r1 (192.0.2.1, priority 150) is master of VRID 51 (VIP 192.0.2.100, v2, 1 s); r2 (192.0.2.2,
priority 100) is backup. From 19.5 s to 22.6 s the switch stops forwarding 224.0.0.18 to r2 (an
IGMP-snooping glitch; the capture, taken on r1's side, still shows r1's adverts). r2's
Master_Down_Interval expires 3.609375 s after r1's advert at ~19.0 s: it sends one advert
(priority 100) and its 5 GARPs. r1 receives the lower-priority advert, logs "forcing new election",
answers 0.3 ms later with an extra advert and 5 GARPs (``garp_lower_prio_repeat``), and 5 more 5 s
later (``garp_lower_prio_delay``); its advert timer restarts from the extra advert. The glitch is
over, r2 receives r1's advert, returns to backup and removes the VIP, so its delayed GARP burst is
never sent (keepalived only sends GARPs while the VIPs are set). The VIP ends on r1's MAC.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import (
    ADVERT_LATENCY,
    GARP_AFTER_ADVERT,
    GARP_DELAY,
    REPLY_LATENCY,
    Router,
    Scenario,
    hosts_v4,
    mac,
)


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("keepalived_lower_prio_reply")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 40.0)
    before = s.adverts(r1, 0.0, 19.5)
    spurious = before[-1] + r2.mdi() + ADVERT_LATENCY
    during = s.adverts(r1, s.next_advert(r1, before[-1]), spurious - 0.001)
    s.advert(r2, spurious)
    s.link_update(r2, spurious + GARP_AFTER_ADVERT)
    reply = s.advert(r1, spurious + REPLY_LATENCY)
    s.link_update(r1, reply + GARP_AFTER_ADVERT)
    s.link_update(r1, reply + GARP_AFTER_ADVERT + GARP_DELAY)
    s.adverts(r1, s.next_advert(r1, reply), 40.0)
    s.arp_exchange(8.8, hosts[0], "192.0.2.100", r1.mac)
    s.arp_exchange(31.9, hosts[1], "192.0.2.100", r1.mac)
    s.note(
        f"r1 advert last accepted by r2 {before[-1]:.6f}; r1 adverts during the glitch {len(during)}; "
        f"r2 spurious advert {spurious:.6f}; r1 reply {reply:.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
