"""Scenario streams for reconstructor/detector tests, modelled on what keepalived 2.2.7 really sends.

Timing follows PROTOCOL.md: Master_Down_Interval = 3 × interval + (256 - p)/256 (v2), the backup's
first advert about 1 ms after its timer, GARP bursts of 5 right after the first advert and again
5 s later, a SIGTERM'd master's single priority-0 advert and the backup 0.611 s later.
Every function returns a time-ordered, frame-numbered list of packets.
"""

from __future__ import annotations

from recon_builders import Lan, every, mac_of, merge, renumber

from vrrpscope.model import Packet
from vrrpscope.timing import master_down_interval, skew_time

R1, R2, R3 = "192.0.2.11", "192.0.2.12", "192.0.2.13"
VIP = "192.0.2.100"
VIP2 = "192.0.2.101"
R1_6, R2_6 = "fe80::11", "fe80::12"
VIP6 = ("fe80::100", "2001:db8::100")


def burst(lan: Lan, t: float, ip: str, mac: str, n: int = 5, *, na: bool = False) -> list[Packet]:
    """keepalived's GARP (or unsolicited NA) burst: ``n`` back to back, 100 µs apart."""
    make = lan.na if na else lan.garp
    return [make(round(t + i * 0.0001, 6), ip, mac) for i in range(n)]


def garps(lan: Lan, t: float, ip: str, mac: str, *, na: bool = False, second: bool = True) -> list[Packet]:
    """keepalived defaults: 5 at +0 s, 5 more at +5 s."""
    out = burst(lan, t, ip, mac, na=na)
    if second:
        out += burst(lan, t + 5.0, ip, mac, na=na)
    return out


def failover(lan: Lan | None = None, *, end: float = 30.0, garp: bool = True, lateness: float = 0.001) -> list[Packet]:
    """r1 (150) master from 0 s, dies after its advert at 9 s; r2 (100) takes over after MDI."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=150) for t in every(0, 10, 1)]
    pk += burst(lan, 0.002, VIP, mac_of(R1))
    t2 = round(9 + master_down_interval(2, 100, 1.0) + lateness, 6)
    pk += [lan.v2(t, R2, prio=100) for t in every(t2, end, 1)]
    if garp:
        pk += garps(lan, t2 + 0.002, VIP, mac_of(R2))
    # hosts keep asking for the VIP; the master answers
    pk += [lan.arp_reply(t, VIP, mac_of(R1)) for t in (4.5,)]
    pk += [lan.arp_reply(t, VIP, mac_of(R2)) for t in (t2 + 8.5,)]
    return renumber(merge(pk))


def graceful_resign(lan: Lan | None = None, *, measured: float = 0.611) -> list[Packet]:
    """SIGTERM of r1: one priority-0 advert at 10.2 s; r2 (100) masters ``measured`` s later."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=150) for t in every(0.2, 10.2, 1)]
    pk.append(lan.v2(10.2, R1, prio=0))
    t2 = round(10.2 + measured, 6)
    pk += [lan.v2(t, R2, prio=100) for t in every(t2, 25, 1)]
    pk += garps(lan, t2 + 0.002, VIP, mac_of(R2))
    return renumber(merge(pk))


def preemption(lan: Lan | None = None) -> list[Packet]:
    """r2 (100) master; r1 (150) comes back at 20.3 s and preempts. r2's next advert was already
    scheduled (20.4 s, sent before it processed r1's), and with ``higher_prio_send_advert`` it
    sends one at its own priority; r1 answers that lower-priority advert at once (RFC 9568)."""
    lan = lan or Lan()
    pk = [lan.v2(t, R2, prio=100) for t in every(0.4, 20.5, 1)]
    pk += [lan.v2(20.401, R2, prio=100)]
    pk += [lan.v2(t, R1, prio=150) for t in every(20.3, 40, 1)]
    pk += [lan.v2(20.4012, R1, prio=150)]
    pk += garps(lan, 20.302, VIP, mac_of(R1))
    return renumber(merge(pk))


def lower_priority_startup(lan: Lan | None = None) -> list[Packet]:
    """r2 (100) starts in MASTER state while r1 (150) is master: one advert and a GARP burst; r1
    answers at once with an advert and re-GARPs (garp_lower_prio_repeat); r2 yields."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=150) for t in every(0, 20, 1)]
    pk += [lan.v2(7.5, R2, prio=100)]
    pk += burst(lan, 7.5005, VIP, mac_of(R2))
    pk += [lan.v2(7.502, R1, prio=150)]
    pk += burst(lan, 7.5025, VIP, mac_of(R1))
    return renumber(merge(pk))


def subsecond_v3(lan: Lan | None = None) -> list[Packet]:
    """VRRPv3 every 10 cs: r1 (200) master, dies at 5.0 s; r2 (100) takes over after 0.3609 s."""
    lan = lan or Lan()
    pk = [lan.v3(t, R1, prio=200, interval_cs=10) for t in every(0, 5.05, 0.1)]
    t2 = round(5.0 + master_down_interval(3, 100, 0.1) + 0.001, 6)
    pk += [lan.v3(t, R2, prio=100, interval_cs=10) for t in every(t2, 12, 0.1)]
    pk += garps(lan, t2 + 0.001, VIP, mac_of(R2))
    return renumber(merge(pk))


def two_vrids(lan: Lan | None = None) -> list[Packet]:
    """VRID 51 every 1 s (r1 master) and VRID 52 every 3 s (r2 master), one LAN."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, vrid=51, prio=150, vips=(VIP,)) for t in every(0, 30, 1)]
    pk += [lan.v2(t, R2, vrid=52, prio=150, vips=(VIP2,), interval=3) for t in every(0.5, 30, 3)]
    return renumber(merge(pk))


def same_vrid_two_vlans() -> list[Packet]:
    """VRID 51 on VLAN 10 and on VLAN 20: different routers, VIPs and intervals."""
    a = Lan(segment="eth0/vlan10")
    b = Lan(segment="eth0/vlan20")
    pk = [a.v2(t, R1, prio=150, vips=(VIP,)) for t in every(0, 20, 1)]
    pk += [b.v2(t, R2, prio=120, vips=("198.51.100.100",), interval=2) for t in every(0.3, 20, 2)]
    out = merge(pk)
    # number frames in one file
    return renumber(out)


def ipv6_failover(lan: Lan | None = None) -> list[Packet]:
    """VRRPv3/IPv6: r1 (150) dies after 9 s, r2 (120) takes over after 3.53 s and sends NAs."""
    lan = lan or Lan()
    pk = [lan.v3(t, R1_6, prio=150, vips=VIP6) for t in every(0, 10, 1)]
    t2 = round(9 + master_down_interval(3, 120, 1.0) + 0.0007, 6)
    pk += [lan.v3(t, R2_6, prio=120, vips=VIP6) for t in every(t2, 25, 1)]
    for v in VIP6:
        pk += garps(lan, t2 + 0.002, v, mac_of(R2_6), na=True)
    return renumber(merge(pk))


def vmac_failover(lan: Lan | None = None) -> list[Packet]:
    """use_vmac: adverts and GARPs from 00:00:5e:00:01:33; after r1 is SIGKILLed its macvlan still
    answers each GARP request of r2 from the same VMAC (PROTOCOL.md "observed" 13)."""
    lan = lan or Lan()
    vmac = "00:00:5e:00:01:33"
    pk = [lan.v2(t, R1, prio=150, mac=vmac) for t in every(0, 10, 1)]
    t2 = round(9 + master_down_interval(2, 100, 1.0) + 0.001, 6)
    pk += [lan.v2(t, R2, prio=100, mac=vmac) for t in every(t2, 25, 1)]
    for p in burst(lan, t2 + 0.002, VIP, vmac):
        pk.append(p)
        pk.append(lan.garp(round(p.time + 0.000005, 6), VIP, vmac, reply=True))
    return renumber(merge(pk))


def split_brain_auth(lan: Lan | None = None) -> list[Packet]:
    """r1 (140, password 'secret1') and r2 (110, password 'secret2') both advertise for 20 s."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=140, auth_type=1, password=b"secret1") for t in every(0, 30, 1)]
    pk += [lan.v2(t, R2, prio=110, auth_type=1, password=b"secret2") for t in every(5.3, 25, 1)]
    pk += burst(lan, 5.302, VIP, mac_of(R2))
    return renumber(merge(pk))


def one_way_split_brain(lan: Lan | None = None) -> list[Packet]:
    """r2 (110) does not hear r1 (140) and keeps advertising; r1 hears r2 and answers each advert
    with an immediate advert plus 5 GARPs (PROTOCOL.md "observed" 6)."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=140) for t in every(0, 30, 1)]
    pk += [lan.v2(t, R2, prio=110) for t in every(5.5, 20, 1)]
    pk += burst(lan, 5.502, VIP, mac_of(R2))
    for t in every(5.5, 20, 1):
        pk.append(lan.v2(round(t + 0.004, 6), R1, prio=140))
        pk += burst(lan, t + 0.005, VIP, mac_of(R1))
    pk += [lan.garp(round(t + 0.0001, 6), VIP, mac_of(R2)) for t in every(10.502, 20, 5)]
    return renumber(merge(pk))


def hidden_master(lan: Lan | None = None) -> list[Packet]:
    """PROTOCOL.md "observed" 7: r2 (110) has a different VIP set; both masters reject each other's
    adverts. r2 sends two adverts and falls silent while it keeps the VIP and GARPs at +0 s and +5 s."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=140, vips=(VIP,)) for t in every(0, 40, 1)]
    pk += burst(lan, 0.002, VIP, mac_of(R1))
    pk += [lan.v2(t, R2, prio=110, vips=(VIP, VIP2)) for t in (3.55, 4.55)]
    pk += garps(lan, 3.552, VIP, mac_of(R2))
    pk += garps(lan, 3.553, VIP2, mac_of(R2))
    return renumber(merge(pk))


def no_master(lan: Lan | None = None, *, silence: float = 20.0) -> list[Packet]:
    """r1 stops at 9 s; nobody advertises for ``silence`` s; then r2 starts (with GARPs)."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=150) for t in every(0, 10, 1)]
    t2 = 9 + silence
    pk += [lan.v2(t, R2, prio=100) for t in every(t2, t2 + 10, 1)]
    pk += garps(lan, t2 + 0.002, VIP, mac_of(R2))
    pk += [lan.arp_reply(t, "192.0.2.50", "02:00:00:00:00:50") for t in every(0, t2 + 10, 5)]
    return renumber(merge(pk))


def flapping(lan: Lan | None = None, *, changes: int = 6) -> list[Packet]:
    """Mastership alternates between r1 and r2 by priority-0 resigns every 6 s."""
    lan = lan or Lan()
    pk: list[Packet] = []
    t = 0.0
    routers = [R1, R2]
    for i in range(changes + 1):
        r = routers[i % 2]
        start = t
        pk += [lan.v2(x, r, prio=150) for x in every(start, start + 6, 1)]
        pk += burst(lan, start + 0.002, VIP, mac_of(r))
        pk.append(lan.v2(round(start + 5.5, 6), r, prio=0))
        t = round(start + 5.5 + skew_time(2, 150, 1.0) + 0.001, 6)
    return renumber(merge(pk))


def hidden_master_high(lan: Lan | None = None) -> list[Packet]:
    """The other outcome of "observed" 7: both start together with different passwords; the
    higher-priority r1 falls silent after 3 adverts (still master, GARPing at +0 s and +5 s),
    r2 keeps advertising."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=140, auth_type=1, password=b"alpha") for t in (3.4, 4.4, 5.4)]
    pk += garps(lan, 3.402, VIP, mac_of(R1))
    pk += [lan.v2(t, R2, prio=110, auth_type=1, password=b"bravo") for t in every(3.5, 30, 1)]
    pk += garps(lan, 3.502, VIP, mac_of(R2))
    return renumber(merge(pk))


def interval_mismatch(lan: Lan | None = None) -> list[Packet]:
    """r1 (140) every 1 s, r2 (110) every 3 s; v2 receivers drop each other's adverts."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=140, interval=1) for t in every(0, 30, 1)]
    pk += [lan.v2(t, R2, prio=110, interval=3) for t in every(9.6, 30, 3)]
    return renumber(merge(pk))


def suppressed_master(lan: Lan | None = None) -> list[Packet]:
    """ "Observed" 7 as keepalived does it: r2 (wrong password) starts advertising 0.86 s after r1's
    advert; each of r2's two adverts restarts r1's advert timer, so r1 pauses 2.86 s and goes on;
    r2 never advertises again (it still holds the VIP: GARPs at +0 s and +5 s)."""
    lan = lan or Lan()
    pk = [lan.v2(t, R1, prio=150, auth_type=1, password=b"alpha") for t in every(10, 13.5, 1)]
    pk += [lan.v2(t, R2, prio=100, auth_type=1, password=b"bravo") for t in (13.86, 14.86)]
    pk += garps(lan, 13.861, VIP, mac_of(R2))
    pk += [lan.v2(t, R1, prio=150, auth_type=1, password=b"alpha") for t in every(15.86, 30, 1)]
    return renumber(merge(pk))


def suppression_changes_sides(rounds: int, gap: float, lan: Lan | None = None) -> list[Packet]:
    """Two masters rejecting each other's adverts (different VIP sets), as in the lab's
    vrid_collision: r3 (120) gets one advert in at 2.12 s (with its GARP bursts at +0 s and +5 s),
    r1 (150) wins the next ``rounds`` rounds and falls silent, r3 advertises ``gap`` s after r1's
    last advert and from then on (samples/real/vrid_collision_suppressed: 3 rounds, 1.000 s)."""
    lan = lan or Lan()
    last = 2.0 + rounds
    pk = [lan.v2(t, R1, prio=150) for t in every(0, last + 0.5, 1)]
    pk.append(lan.v2(2.12, R3, prio=120, vips=(VIP2,)))
    pk += garps(lan, 2.121, VIP2, mac_of(R3))
    pk += [lan.v2(round(t, 6), R3, prio=120, vips=(VIP2,)) for t in every(last + gap, last + gap + 12, 1)]
    return renumber(merge(pk))


def recurring_transients(lan: Lan | None = None) -> list[Packet]:
    """Two masters that reject each other's adverts (different VIP sets) share one advert cadence:
    r3 gets a word in now and then (2 adverts, later 1), never long enough to look like a split
    brain from the adverts alone (samples/real/vrid_collision)."""
    lan = lan or Lan()
    r1 = [0, 2.202, 3.204, 5.208, 6.208, 7.21, 8.21, 9.21, 10.21]
    pk = [lan.v2(t, R1, prio=150) for t in r1]
    pk += [lan.v2(t, R3, prio=120, vips=(VIP2,)) for t in (0.196, 1.199, 4.204)]
    return renumber(merge(pk))
