"""split_brain_unknown_cause: identical configurations, one-way multicast loss (PROTOCOL.md
behaviour 6).

r1 (192.0.2.1, priority 150) and r2 (192.0.2.2, priority 100), VRID 51, VIP 192.0.2.100, v2, 1 s,
no authentication. From 9.5 s to 30.3 s r1's adverts no longer reach r2 (r2's still reach r1; the
capture sees both). r2 becomes master 3.609375 s after the last advert it received and advertises
every second, with GARPs (+0, +5 s). r1 answers each of r2's lower-priority adverts at once with an
extra advert and 5 GARPs, plus a delayed burst of 5 every 5 s; its own timer keeps restarting, so
its adverts follow r2's by 0.3 ms. The VIP flips to r2 and back to r1 within a millisecond each time
r2 GARPs. When the loss ends, r2 hears r1's reply, returns to backup and stops.
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
    s = Scenario("split_brain_unknown_cause")
    hosts = hosts_v4()
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1")
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2")
    s.noise(hosts, 0.0, 45.0)
    loss_start, loss_end = 9.5, 30.3
    heard = s.adverts(r1, 0.0, loss_start)[-1]
    became = heard + r2.mdi() + ADVERT_LATENCY
    s.adverts(r1, s.next_advert(r1, heard), became - 0.001)
    s.become_master(r2, became)
    r2_times = [became]
    while r2_times[-1] <= loss_end:
        r2_times.append(s.advert(r2, s.next_advert(r2, r2_times[-1])))
    delayed_due = -1.0
    reply = 0.0
    for t in r2_times:
        reply = s.advert(r1, t + REPLY_LATENCY)
        s.link_update(r1, reply + GARP_AFTER_ADVERT)
        if reply > delayed_due:  # garp_lower_prio_delay: one delayed burst pending at a time
            delayed_due = reply + GARP_DELAY
            s.link_update(r1, delayed_due + GARP_AFTER_ADVERT)
    s.adverts(r1, s.next_advert(r1, reply), 45.0)
    s.arp_exchange(40.5, hosts[0], "192.0.2.100", r1.mac)
    s.note(
        f"r1 advert last heard by r2 {heard:.6f}; r2 adverts {r2_times[0]:.6f}..{r2_times[-1]:.6f} "
        f"({len(r2_times)}); r1 last reply {reply:.6f}"
    )
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
