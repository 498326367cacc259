"""split_brain_hidden: PROTOCOL.md behaviour 7, the "hidden" second master.

r1 (192.0.2.1, priority 150, PASS "alpha") is master of VRID 51 (VIP 192.0.2.100, v2, 1 s). r2
(192.0.2.2, priority 100) is restarted at 10.2 s with PASS "bravo"; it drops r1's adverts, becomes
master 3.609375 s after starting and sends its advert and GARPs. From then on each master drops the
other's adverts, but every received advert restarts the receiver's advert timer, so whichever sends
first keeps pushing the other back: r2 sends 2 adverts (r1 is silent for 2.8 s meanwhile), then r1
gets ahead by scheduler jitter and r2 never advertises again. r2 still believes it is MASTER, holds
the VIP and sends its second GARP burst 5 s after the first, after which hosts' ARP caches point at
r2, the router that is not advertising. At 30 s a host's ARP request for the VIP is answered by
both routers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("split_brain_hidden")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", auth=("pass", "alpha"))
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", auth=("pass", "bravo"))
    s.noise(hosts, 0.0, 40.0)
    s.igmp_leave(r2, 10.2 - 0.012)
    s.igmp_join(r2, 10.25)
    became = 10.25 + r2.mdi() + ADVERT_LATENCY
    r1_before = s.adverts(r1, 0.0, became - 0.001)
    s.become_master(r2, became)
    second = s.advert(r2, s.next_advert(r2, became))
    r1_back = second + 0.9996  # r1's restarted timer fires 0.4 ms before r2's
    r1_after = s.adverts(r1, r1_back, 40.0)
    s.arp_exchange(5.5, hosts[0], "192.0.2.100", r1.mac)
    s.arp_exchange(30.0, hosts[1], "192.0.2.100", r1.mac, r2.mac)
    s.note(
        f"r1 last before {r1_before[-1]:.6f}; r2 adverts {became:.6f}, {second:.6f}; "
        f"r1 again from {r1_after[0]:.6f}; r2 GARPs at {became + 0.0004:.6f} and {became + 5.0004:.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
