"""Scenarios: small production failures reproduced with real keepalived, each well under 30 s.

Every scenario is a function ``body(lab)`` plus what the analysis should conclude:

* ``takeovers``: the hand-overs the scenario is designed to cause, as (from, to, cause) with cause in
  DESIGN.md's vocabulary (``timeout``, ``resign``, ``preempt``). The runner pairs each with the new
  master's ``Entering MASTER STATE`` log line and its first advert on the wire; a scenario that did not
  behave as designed fails loudly.
* ``expected_findings``: finding kinds the analysis must report; ``tolerated_findings``: warning or
  critical kinds it may also report (a real consequence of the fault, e.g. ``arp_conflict`` during a
  split brain). Any other warning/critical finding is a false alarm.
* ``normal``: every mastership seen on the wire starts with a MASTER log line of that router (false
  when a frozen master silently resumes advertising, or when a hidden master re-appears).

Routers: r1 192.0.2.11 (priority 150, ``state MASTER`` as in typical production configs), r2 .12
(priority 100), r3 .13; VIP 192.0.2.100, VRID 51, advert_int 1 s unless said otherwise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .capture import CaptureSpec
from .frr import frr_instance
from .keepalived import Auth, Config, Instance
from .lab import Lab

VIP4 = ("192.0.2.100/24",)
#: IPv6 VIPs: the link-local one first (RFC 5798 §5.2.9), then a global documentation address.
VIP6 = ("fe80::100/64", "2001:db8::100/64")

#: Seconds keepalived keeps the default second GARP burst after becoming master (garp_master_delay).
GARP_SECOND_BURST = 5.0


@dataclass(frozen=True)
class Scenario:
    """One lab scenario: topology, body and the analysis it should produce."""

    name: str
    title: str
    description: str
    body: Callable[[Lab], None]
    routers: int = 2
    ipv6: bool = True
    vlan: tuple[int, ...] = ()
    captures: tuple[CaptureSpec, ...] = (CaptureSpec(),)
    takeovers: tuple[tuple[str, str, str], ...] = ()
    expected_findings: tuple[str, ...] = ()
    tolerated_findings: tuple[str, ...] = ()
    normal: bool = True
    needs: tuple[str, ...] = field(default=())


SCENARIOS: dict[str, Scenario] = {}


def scenario(**kwargs: Any) -> Callable[[Callable[[Lab], None]], Callable[[Lab], None]]:
    """Register the decorated body as a :class:`Scenario` named after the function."""

    def wrap(body: Callable[[Lab], None]) -> Callable[[Lab], None]:
        name = body.__name__
        doc = (body.__doc__ or "").strip()
        title, _, description = doc.partition("\n")
        SCENARIOS[name] = Scenario(
            name=name, title=title.strip(), description=_dedent(description), body=body, **kwargs
        )
        return body

    return wrap


def _dedent(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines()]
    return " ".join(ln for ln in lines if ln)


def conf(router: str, *instances: Instance, global_extra: tuple[str, ...] = ()) -> Config:
    """A keepalived config for ``router`` with ``instances``."""
    return Config(router_id=router, instances=instances, global_extra=global_extra)


def pair(lab: Lab, i1: Instance, i2: Instance, *, settle: float = 2.0) -> float:
    """Start r1 with ``i1`` then r2 with ``i2``; wait until r1 is MASTER and r2 BACKUP.

    Returns the time of r1's ``Entering MASTER STATE`` line (= its first advert, within a ms).
    """
    t0 = lab.faults[-1].time if lab.faults else 0.0
    lab.start("r1", conf("r1", i1))
    lab.start("r2", conf("r2", i2))
    master = lab.wait_state("r1", "MASTER", instance=i1.name, after=t0, timeout=12)
    lab.wait_state("r2", "BACKUP", instance=i2.name, after=t0, timeout=5)
    lab.sleep(settle)
    return master.time


def before_next_advert(lab: Lab, master_since: float, interval: float = 1.0, lead: float = 0.15) -> None:
    """Sleep until ``lead`` seconds before the master's next advert (adverts follow its first one,
    sent at ``master_since``, every ``interval``): a fault injected then is ~one interval after the
    last advert, which makes races against the master-down timer deterministic."""
    now = time.time()
    n = math.ceil((now - master_since + lead) / interval)
    lab.sleep(master_since + n * interval - lead - now)


R1 = Instance(priority=150, state="MASTER")
R2 = Instance(priority=100)


# ---------------------------------------------------------------------------- failover family


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def failover_crash_preempt(lab: Lab) -> None:
    """Master crashes, backup takes over after Master_Down_Interval, master restarts and preempts back.

    r1 (150) is master, r2 (100) backup. r1's keepalived is killed without a chance to resign
    (SIGSTOP parent, SIGKILL VRRP child, SIGKILL parent); r2 takes over 3×1 s + (256−100)/256 s
    after r1's last advert and sends its GARP bursts (+0 s, +5 s). r1 is restarted, starts in
    BACKUP, ignores r2's lower-priority adverts, times out after 3×1 s + (256−150)/256 s and preempts;
    r2 falls back to BACKUP on r1's first advert. The capture ends after r1's second GARP burst.
    """
    pair(lab, R1, R2, settle=2.5)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(3.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(GARP_SECOND_BURST + 0.7)


@scenario(takeovers=(("r1", "r2", "resign"), ("r2", "r1", "preempt")), expected_findings=("priority_zero_resign",))
def graceful_shutdown(lab: Lab) -> None:
    """Master is stopped with SIGTERM: one priority-0 advert, backup takes over after skew time only.

    r1 (150) master, r2 (100) backup. ``systemctl stop keepalived`` is SIGTERM: keepalived logs
    "Stopping", "(VI_1) sent 0 priority", removes the VIP. r2 becomes master (256−100)/256 = 0.609 s
    after the priority-0 advert. r1 is started again 4 s later and preempts back.
    """
    pair(lab, R1, R2)
    stop = lab.terminate("r1")
    lab.wait_state("r2", "MASTER", after=stop.time, timeout=5)
    lab.sleep(4.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(
    routers=3,
    takeovers=(("r1", "r2", "timeout"), ("r2", "r3", "resign"), ("r3", "r1", "preempt")),
    expected_findings=("priority_zero_resign",),
)
def three_routers(lab: Lab) -> None:
    """Three routers: crash of the master, then resign of the second, then the first preempts back.

    r1 (150) master, r2 (120), r3 (100). r1 crashes: r2 (the higher backup, shorter skew) takes
    over after 3 + 136/256 s while r3 stays BACKUP. r2 is stopped with SIGTERM: r3 takes over after
    its skew time 0.609 s. r1 restarts and preempts r3.
    """
    lab.start("r1", conf("r1", R1))
    lab.start("r2", conf("r2", Instance(priority=120)))
    lab.start("r3", conf("r3", Instance(priority=100)))
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.sleep(2.0)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(2.5)
    stop = lab.terminate("r2")
    lab.wait_state("r3", "MASTER", after=stop.time, timeout=5)
    lab.sleep(2.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r3", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(takeovers=(("r1", "r2", "timeout"),))
def nopreempt(lab: Lab) -> None:
    """``nopreempt``: after the crash, the restarted higher-priority router stays BACKUP.

    Both routers start as ``state BACKUP`` with ``nopreempt`` (keepalived ignores nopreempt with
    ``state MASTER``). r1 (150) wins the first election, crashes, r2 (100) takes over; r1 restarts
    and stays BACKUP because r2 keeps advertising: no takeover back, by design.
    """
    i1 = Instance(priority=150, preempt=False)
    i2 = Instance(priority=100, preempt=False)
    pair(lab, i1, i2)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(2.0)
    lab.restart("r1")
    lab.wait_state("r1", "BACKUP", timeout=5)
    lab.sleep(6.0)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def preempt_delay(lab: Lab) -> None:
    """``preempt_delay 3``: the restarted master waits 3 s longer before preempting.

    r1 (150, state BACKUP, preempt_delay 3) and r2 (100). After r1's crash r2 takes over; r1 is
    restarted and preempts after advert timeout + 3 s instead of 3.414 s.
    """
    i1 = Instance(priority=150, preempt_delay=3)
    pair(lab, i1, R2)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(2.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=14)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def link_down(lab: Lab) -> None:
    """Master's link goes down (cable pull at the switch port): FAULT, no priority-0 advert.

    r1 (150) master. The bridge port to r1 is set down: r1 loses carrier and enters FAULT without
    sending anything, r2 takes over after Master_Down_Interval. The port comes back 5 s later: r1
    enters BACKUP and preempts.
    """
    pair(lab, R1, R2)
    down = lab.link_down("r1", side="switch")
    lab.wait_state("r2", "MASTER", after=down.time, timeout=8)
    lab.sleep(1.5)
    lab.link_up("r1", side="switch")
    back = lab.wait_state("r1", "MASTER", timeout=12)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(2.0)


@scenario(
    takeovers=(("r1", "r2", "resign"), ("r2", "r1", "preempt")),
    expected_findings=("priority_zero_resign",),
)
def kill_parent(lab: Lab) -> None:
    """``kill -9`` of the keepalived PID (the parent) is *not* a crash: the child resigns cleanly.

    keepalived's VRRP child has a parent-death signal of SIGTERM: SIGKILL of the parent (the PID in
    the pid file) makes the child send one priority-0 advert and remove the VIP, so r2 takes over
    after skew time only. r1 is restarted and preempts back.
    """
    pair(lab, R1, R2)
    kill = lab.kill_parent("r1")
    lab.wait_state("r2", "MASTER", after=kill.time, timeout=5)
    lab.sleep(2.5)
    lab.wait_until_stopped("r1")
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def kill_child(lab: Lab) -> None:
    """SIGKILL of the VRRP child only: no resign, the parent respawns the child, which preempts back.

    r2 takes over after Master_Down_Interval; keepalived's parent logs "VRRP child process(N) died:
    Respawning", the new child starts in BACKUP and becomes master again after its own down timer.
    """
    since = pair(lab, R1, R2)
    # the respawned child preempts 3.41 s after the kill, r2 times out 3.61 s after r1's last advert:
    # kill just before an advert would be due so that r2 wins the race by ~0.65 s
    before_next_advert(lab, since)
    kill = lab.kill_child("r1")
    lab.wait_state("r2", "MASTER", after=kill.time, timeout=8)
    back = lab.wait_state("r1", "MASTER", after=kill.time, timeout=12)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(2.0)


# ---------------------------------------------------------------------------- split brain / stalls


@scenario(
    expected_findings=("split_brain",),
    tolerated_findings=("arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def split_brain_firewall(lab: Lab) -> None:
    """A firewall change drops VRRP between the routers for 9 s: both are master, then it heals.

    r1 (150) master. nftables rules in both routers drop VRRP received from the other; r2 (100)
    hears nothing, times out and becomes master while r1 stays master: two routers advertise
    VRID 51 and both GARP the VIP. After 9 s the rules are removed; r1 receives r2's lower-priority
    advert and answers at once, r2 receives r1's higher-priority advert and returns to BACKUP.
    """
    pair(lab, R1, R2)
    block = lab.block_vrrp("r1", "in", peers=("r2",))
    lab.block_vrrp("r2", "in", peers=("r1",))
    lab.wait_state("r2", "MASTER", after=block.time, timeout=8)
    lab.sleep(max(0.0, block.time + 9.0 - time.time()))
    heal = lab.unblock_vrrp("r1")
    lab.unblock_vrrp("r2")
    assert heal is not None
    lab.wait_state("r2", "BACKUP", after=heal.time - 0.1, timeout=5)
    lab.sleep(3.0)


@scenario(
    expected_findings=("split_brain",),
    tolerated_findings=("arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def split_brain_oneway(lab: Lab) -> None:
    """One-way loss: r2 cannot hear r1, r1 still hears r2 — r1 re-asserts itself every second.

    nftables in r2 drops incoming VRRP. r2 becomes master; r1 receives each of r2's lower-priority
    adverts, logs "forcing new election", answers with an immediate advert and a burst of GARPs
    (keepalived's garp_lower_prio settings). The VIP's MAC flips between r1 and r2. Healed after 9 s.
    """
    pair(lab, R1, R2)
    block = lab.block_vrrp("r2", "in")
    lab.wait_state("r2", "MASTER", after=block.time, timeout=8)
    lab.sleep(max(0.0, block.time + 9.0 - time.time()))
    heal = lab.unblock_vrrp("r2")
    assert heal is not None
    lab.wait_state("r2", "BACKUP", after=heal.time - 0.1, timeout=5)
    lab.sleep(2.0)


@scenario(
    takeovers=(("r1", "r2", "timeout"),),
    expected_findings=("slow_takeover",),
    tolerated_findings=("no_master",),
)
def slow_takeover(lab: Lab) -> None:
    """The backup is frozen (SIGSTOP) when the master crashes: the takeover comes ~10 s late.

    r1 (150) master, r2 (100) backup. r2's keepalived is stopped with SIGSTOP (a stalled process or
    VM), r1 crashes 1 s later, r2 is resumed with SIGCONT 6 s after the crash. keepalived logs "A
    thread timer expired … seconds ago" and only then runs its master-down timer: the VIP is
    unowned for far longer than Master_Down_Interval (3.609 s).
    """
    pair(lab, R1, R2)
    lab.stall("r2")
    lab.sleep(1.0)
    crash = lab.crash("r1")
    lab.sleep(6.0)
    lab.resume("r2")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=10)
    lab.sleep(2.5)


@scenario(
    takeovers=(("r1", "r2", "timeout"),),
    tolerated_findings=("split_brain", "arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def stalled_master(lab: Lab) -> None:
    """The master freezes for 6 s (SIGSTOP), the backup takes over, the master wakes up still MASTER.

    r1 (150) master is SIGSTOPped: r2 takes over after Master_Down_Interval. On SIGCONT r1 never
    logged leaving MASTER: it resumes advertising priority 150 and r2 returns to BACKUP — on the wire
    r1 simply re-appears (no MASTER log line on r1 for it).
    """
    pair(lab, R1, R2)
    stall = lab.stall("r1")
    lab.wait_state("r2", "MASTER", after=stall.time, timeout=8)
    lab.sleep(max(0.0, stall.time + 6.0 - time.time()))
    resume = lab.resume("r1")
    lab.wait_state("r2", "BACKUP", after=resume.time - 0.1, timeout=6)
    lab.sleep(2.0)


# ---------------------------------------------------------------------------- configuration mismatches


@scenario(
    expected_findings=("auth_mismatch",),
    tolerated_findings=("split_brain", "arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def auth_mismatch(lab: Lab) -> None:
    """Same VRID, different PASS passwords: each router discards the other's adverts; two masters.

    r1 (150) ``auth_pass secret-1``, r2 (100) ``auth_pass secret-2``. Both log "received an invalid
    passwd!" and both enter MASTER; on the wire one of them usually falls silent after a few adverts
    although its log keeps saying MASTER and it keeps the VIP (PROTOCOL.md item 7).
    """
    i1 = Instance(priority=150, state="MASTER", auth=Auth("PASS", "secret-1"))
    i2 = Instance(priority=100, auth=Auth("PASS", "secret-2"))
    lab.start("r1", conf("r1", i1))
    lab.start("r2", conf("r2", i2))
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.wait_state("r2", "MASTER", after=0, timeout=12)
    lab.sleep(7.0)


@scenario(
    expected_findings=("auth_mismatch",),
    tolerated_findings=("split_brain", "arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def auth_type_mismatch(lab: Lab) -> None:
    """One router uses IPsec AH authentication, the other PASS: different auth types, two masters.

    r1 (150) ``auth_type AH``, r2 (100) ``auth_type PASS`` with the same secret. keepalived logs
    "Received AH header but auth type not AH" / "No AH header but auth type is AH".
    """
    i1 = Instance(priority=150, state="MASTER", auth=Auth("AH", "secret-1"))
    i2 = Instance(priority=100, auth=Auth("PASS", "secret-1"))
    lab.start("r1", conf("r1", i1))
    lab.start("r2", conf("r2", i2))
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.wait_state("r2", "MASTER", after=0, timeout=12)
    lab.sleep(6.0)


@scenario(takeovers=(("r1", "r2", "resign"), ("r2", "r1", "preempt")), expected_findings=("priority_zero_resign",))
def ah_auth(lab: Lab) -> None:
    """VRRPv2 with IPsec AH authentication on both routers: a normal graceful failover.

    Adverts are IP protocol 51 (AH, HMAC-MD5-96) carrying VRRP (next header 112). r1 is stopped with
    SIGTERM (priority-0 advert inside AH), r2 takes over after skew time, r1 restarts and preempts.
    """
    i1 = Instance(priority=150, auth=Auth("AH", "lab-ah"))
    i2 = Instance(priority=100, auth=Auth("AH", "lab-ah"))
    pair(lab, i1, i2)
    stop = lab.terminate("r1")
    lab.wait_state("r2", "MASTER", after=stop.time, timeout=5)
    lab.sleep(3.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(
    expected_findings=("advert_interval_mismatch",),
    tolerated_findings=("split_brain", "arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def advert_int_mismatch(lab: Lab) -> None:
    """VRRPv2 with advert_int 1 s on r1 and 3 s on r2: both drop each other's adverts; two masters.

    keepalived (v2) logs "advertisement interval mismatch mine=3 sec rcv'd=1 sec" and discards the
    advert. r1 becomes master after 3.4 s, r2 after 3×3 s + 0.6 s.
    """
    i2 = Instance(priority=100, advert_int=3)
    lab.start("r1", conf("r1", R1))
    lab.start("r2", conf("r2", i2))
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.wait_state("r2", "MASTER", after=0, timeout=15)
    lab.sleep(4.0)


@scenario(
    expected_findings=("version_mismatch",),
    tolerated_findings=("split_brain", "arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def version_mismatch(lab: Lab) -> None:
    """r1 speaks VRRPv2, r2 VRRPv3 for the same VRID: "wrong version", two masters.

    A typical half-finished v2→v3 migration. Each router discards the other's adverts.
    """
    i1 = Instance(priority=150, state="MASTER", version=2)
    i2 = Instance(priority=100, version=3)
    lab.start("r1", conf("r1", i1))
    lab.start("r2", conf("r2", i2))
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.wait_state("r2", "MASTER", after=0, timeout=12)
    lab.sleep(6.0)


@scenario(
    routers=3,
    expected_findings=("vip_mismatch",),
    tolerated_findings=("split_brain", "arp_conflict", "arp_flipflop", "preemption_flap"),
    normal=False,
)
def vrid_collision(lab: Lab) -> None:
    """Two unrelated clusters on one segment both use VRID 51 with different VIPs.

    r1 (150) and r2 (100) protect 192.0.2.100; r3 (120), another team's router, protects
    192.0.2.200 with the same VRID 51. keepalived logs "ip address associated with VRID 51 not
    present in MASTER advert" and discards the other cluster's adverts: r1 and r3 are both master.
    """
    lab.start("r1", conf("r1", R1))
    lab.start("r2", conf("r2", R2))
    lab.start("r3", conf("r3", Instance(name="VI_OTHER", priority=120, vips=("192.0.2.200/24",))))
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.wait_state("r3", "MASTER", instance="VI_OTHER", after=0, timeout=12)
    lab.sleep(6.0)


# ---------------------------------------------------------------------------- versions, families, transports

V3_FAST = Instance(priority=150, state="MASTER", version=3, advert_int=0.5)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def v3_ipv4(lab: Lab) -> None:
    """VRRPv3 over IPv4 with a sub-second interval (0.5 s): crash and preempt back.

    Master_Down_Interval for r2 is 3×0.5 + (256−100)×0.5/256 = 1.805 s. Checksums include the IPv4
    pseudo-header (keepalived 2.2.7 has no ``v3_checksum_as_v2``).
    """
    i2 = Instance(priority=100, version=3, advert_int=0.5)
    pair(lab, V3_FAST, i2, settle=2.0)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=6)
    lab.sleep(2.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=8)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(GARP_SECOND_BURST + 0.7)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def v3_ipv6(lab: Lab) -> None:
    """VRRPv3 over IPv6: link-local VIP fe80::100 first, 2001:db8::100; crash and preempt back.

    Adverts go to ff02::12 from each router's own link-local address; VIPs are announced with
    unsolicited neighbour advertisements (source = the VIP itself, O=1, S=0) in two bursts.
    """
    i1 = Instance(priority=150, state="MASTER", version=3, vips=VIP6)
    i2 = Instance(priority=100, version=3, vips=VIP6)
    pair(lab, i1, i2)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(2.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(GARP_SECOND_BURST + 0.7)


@scenario(
    takeovers=(
        ("r1", "r2", "resign"),
        ("r1", "r2", "resign"),
        ("r2", "r1", "preempt"),
        ("r2", "r1", "preempt"),
    ),
    expected_findings=("priority_zero_resign",),
)
def dual_stack(lab: Lab) -> None:
    """VRID 51 for IPv4 (v3) and VRID 51 for IPv6 (v3) on the same routers: two separate groups.

    r1 runs VI_4 (192.0.2.100) and VI_6 (fe80::100, 2001:db8::100), both VRID 51. SIGTERM sends a
    priority-0 advert for each, r2 takes both over; r1 restarts and preempts both. A correct
    analysis shows two groups (family ipv4 and ipv6), never one.
    """
    a1 = Instance(name="VI_4", priority=150, version=3)
    b1 = Instance(name="VI_6", priority=150, version=3, vips=VIP6)
    a2 = Instance(name="VI_4", priority=100, version=3)
    b2 = Instance(name="VI_6", priority=100, version=3, vips=VIP6)
    lab.start("r1", conf("r1", a1, b1))
    lab.start("r2", conf("r2", a2, b2))
    lab.wait_state("r1", "MASTER", instance="VI_4", after=0, timeout=12)
    lab.wait_state("r1", "MASTER", instance="VI_6", after=0, timeout=12)
    lab.sleep(2.0)
    stop = lab.terminate("r1")
    lab.wait_state("r2", "MASTER", instance="VI_4", after=stop.time, timeout=5)
    lab.wait_state("r2", "MASTER", instance="VI_6", after=stop.time, timeout=5)
    lab.sleep(2.0)
    again = lab.restart("r1").started_at
    lab.wait_state("r1", "MASTER", instance="VI_4", after=again, timeout=10)
    lab.wait_state("r1", "MASTER", instance="VI_6", after=again, timeout=10)
    lab.sleep(2.0)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def unicast_peers(lab: Lab) -> None:
    """Unicast VRRP (``unicast_src_ip`` / ``unicast_peer``): adverts go to the peer, not 224.0.0.18.

    The hub-mode bridge floods them to the observer. While r1 is down, its kernel answers r2's
    unicast adverts with ICMP protocol-unreachable quoting the VRRP header (PROTOCOL.md item 9).
    """
    i1 = Instance(priority=150, state="MASTER", unicast_src="192.0.2.11", unicast_peers=("192.0.2.12",))
    i2 = Instance(priority=100, unicast_src="192.0.2.12", unicast_peers=("192.0.2.11",))
    pair(lab, i1, i2)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(3.0)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def use_vmac(lab: Lab) -> None:
    """``use_vmac``: adverts and GARPs come from the virtual MAC 00:00:5e:00:01:33 (RFC style).

    Both routers send from the same VMAC, so only the source IP tells them apart. After the crash
    r1's macvlan keeps the VMAC and the VIP and answers r2's GARP requests (PROTOCOL.md item 13).
    """
    i1 = Instance(priority=150, state="MASTER", use_vmac=True)
    i2 = Instance(priority=100, use_vmac=True)
    pair(lab, i1, i2)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", after=crash.time, timeout=8)
    lab.sleep(2.5)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


@scenario(takeovers=(("r1", "r2", "resign"),), expected_findings=("priority_zero_resign",))
def garp_refresh(lab: Lab) -> None:
    """Non-default GARP settings: delay 3, repeat 3, refresh every 4 s with 2 GARPs.

    r2 takes over after r1's SIGTERM and announces the VIP 3× at once, 3× after 3 s, and then
    2× every 4 s for as long as it is master.
    """
    garp = (
        ("garp_master_delay", "3"),
        ("garp_master_repeat", "3"),
        ("garp_master_refresh", "4"),
        ("garp_master_refresh_repeat", "2"),
    )
    i1 = Instance(priority=150, state="MASTER", garp=garp)
    i2 = Instance(priority=100, garp=garp)
    pair(lab, i1, i2, settle=1.0)
    stop = lab.terminate("r1")
    lab.wait_state("r2", "MASTER", after=stop.time, timeout=5)
    lab.sleep(9.5)


@scenario(needs=("frr",), takeovers=(("r1", "r2", "timeout"), ("r2", "r1", "preempt")))
def frr_interop(lab: Lab) -> None:
    """keepalived (r1) and FRR vrrpd (r2) share a VRRPv3 group: crash, FRR takes over, keepalived preempts.

    r1 runs keepalived (priority 150, physical MAC); r2 runs FRR 8.4 vrrpd (priority 100) with the
    macvlan FRR requires, so r2 advertises and GARPs from the virtual MAC 00:00:5e:00:01:33. After
    r1's crash FRR takes over on its own, centisecond-truncated timer (3.60 s rather than 3.609 s)
    and sends one gratuitous ARP; keepalived restarts and preempts.
    """
    lab.start("r1", conf("r1", Instance(priority=150, state="MASTER", version=3)))
    inst = frr_instance(51, 100, version=3)
    lab.start_frr("r2", [inst])
    lab.wait_state("r1", "MASTER", after=0, timeout=12)
    lab.wait_state("r2", "BACKUP", instance=inst.name, after=0, timeout=10)
    lab.sleep(2.0)
    crash = lab.crash("r1")
    lab.wait_state("r2", "MASTER", instance=inst.name, after=crash.time, timeout=8)
    lab.sleep(2.5)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", instance=inst.name, after=back.time - 0.5, timeout=4)
    lab.sleep(1.5)


# ---------------------------------------------------------------------------- capture formats


def _graceful_body(lab: Lab) -> None:
    pair(lab, R1, R2, settle=1.5)
    stop = lab.terminate("r1")
    lab.wait_state("r2", "MASTER", after=stop.time, timeout=5)
    lab.sleep(2.5)
    lab.restart("r1")
    back = lab.wait_state("r1", "MASTER", timeout=10)
    lab.wait_state("r2", "BACKUP", after=back.time - 0.5, timeout=4)
    lab.sleep(1.0)


@scenario(
    takeovers=(("r1", "r2", "resign"), ("r2", "r1", "preempt")),
    expected_findings=("priority_zero_resign",),
    captures=(
        CaptureSpec("capture.pcap", "tcpdump", "any", "LINUX_SLL"),
        CaptureSpec("capture-sll2.pcap", "tcpdump", "any", "LINUX_SLL2"),
        CaptureSpec("capture.pcapng", "dumpcap", "eth0"),
    ),
)
def cooked_capture(lab: Lab) -> None:
    """The graceful failover captured three ways at once: Linux cooked SLL, SLL2 and pcapng.

    ``tcpdump -i any`` (LINUX_SLL, capture.pcap), ``tcpdump -i any -y LINUX_SLL2``
    (capture-sll2.pcap) and ``dumpcap -i eth0`` (Ethernet, capture.pcapng) run side by side in the
    observer namespace. All three hold the same VRRP/ARP frames: analyses must agree except for the
    link layer.
    """
    _graceful_body(lab)


@scenario(
    vlan=(30,),
    takeovers=(("r1", "r2", "resign"), ("r2", "r1", "preempt")),
    expected_findings=("priority_zero_resign",),
)
def vlan_tagged(lab: Lab) -> None:
    """The graceful failover seen on a trunk port: every frame carries 802.1Q tag VLAN 30.

    The lab's user-space tagger copies each frame from an access port of the hub to the observer's
    trunk veth with the tag inserted (this kernel has no 802.1Q support).
    """
    _graceful_body(lab)


@scenario(
    vlan=(100, 30),
    takeovers=(("r1", "r2", "resign"), ("r2", "r1", "preempt")),
    expected_findings=("priority_zero_resign",),
)
def qinq_tagged(lab: Lab) -> None:
    """The graceful failover seen through QinQ: outer 802.1ad tag 100, inner 802.1Q tag 30."""
    _graceful_body(lab)


#: Committed samples: directory under samples/real -> scenario that produces it (the demo uses
#: samples/real/failover/capture.pcap).
SAMPLES: dict[str, str] = {
    "failover": "failover_crash_preempt",
    "split_brain": "split_brain_firewall",
    **{name: name for name in SCENARIOS if name not in ("failover_crash_preempt", "split_brain_firewall")},
}
