"""arp_conflict_stale_owner: after a split brain heals, the VIP stays on the loser's MAC.

r1 (192.0.2.1, priority 150, PASS "alpha") is master of VRID 51 (VIP 192.0.2.100, v2, 1 s). A bad
configuration push restarts keepalived on r2 (192.0.2.2, priority 100) with PASS "bravo" at 10.2 s:
r2 becomes master 3.609375 s later and GARPs (+0, +5 s), both advertise. At 21.4 s r2 is stopped
(SIGTERM: one priority-0 advert, still with "bravo", which r1 drops) and restarted with the right
password at 26 s as a silent backup. r1 was never disturbed, so it never re-GARPs: host h50 keeps
sending to r2's MAC (TCP SYN retransmissions to 198.51.100.20 through the VIP) until its ARP entry
goes stale; its unicast probes to r2's MAC go unanswered and its broadcast request at 45 s is
answered by r1. The VIP pointed at a router that did not hold it for ~25 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import ADVERT_LATENCY, Router, Scenario, hosts_v4, mac
from scapy.layers.inet import IP, TCP


def build() -> Scenario:
    """Build the scenario."""
    s = Scenario("arp_conflict_stale_owner")
    hosts = hosts_v4()
    h50 = hosts[0]
    r1 = Router("r1", mac(1), 150, ["192.0.2.100"], ip="192.0.2.1", auth=("pass", "alpha"))
    r2 = Router("r2", mac(2), 100, ["192.0.2.100"], ip="192.0.2.2", auth=("pass", "bravo"))
    s.noise(hosts, 0.0, 60.0)
    s.adverts(r1, 0.0, 60.0)
    s.igmp_leave(r2, 10.2 - 0.012)
    s.igmp_join(r2, 10.25)
    became = 10.25 + r2.mdi() + ADVERT_LATENCY
    r2_times = s.master_run(r2, became, 21.39)
    stop = s.resign(r2, 21.4)
    s.igmp_join(r2, 26.0)
    s.arp_exchange(4.0, h50, "192.0.2.100", r1.mac)
    syn_seq = 0x3C1D2E4F
    for t, gateway in [
        (22.0, r2.mac),
        (23.0, r2.mac),
        (25.0, r2.mac),
        (29.0, r2.mac),
        (37.0, r2.mac),
        (45.2, r1.mac),
    ]:
        syn = IP(src=h50.ip, dst="198.51.100.20", ttl=64, id=0x2222, flags="DF") / TCP(
            sport=51514, dport=443, flags="S", seq=syn_seq, window=64240
        )
        s.add(t, s.ether(h50.mac, gateway, syn, None))
    for t in (42.0, 43.0, 44.0):
        s.arp_request(t, h50, "192.0.2.100", eth_dst=r2.mac, target_mac=r2.mac)
    s.arp_exchange(45.0, h50, "192.0.2.100", r1.mac)
    s.note(f"r2 master {r2_times[0]:.6f}..{stop:.6f}; last GARP from r2 at {became + 5.0004:.6f}")
    return s


if __name__ == "__main__":
    build().write(Path(__file__).with_suffix(""))
