"""Reconstructor behaviour: mastership, takeovers, split brain, GARP tracking, ownership, dedup.

Oracles: the RFC formulas (vrrpscope.timing, checked against PROTOCOL.md in test_timing.py) and the
keepalived 2.2.7 behaviour PROTOCOL.md describes; scenario streams are in recon_scenarios.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import recon_scenarios as S
from recon_builders import Lan, every, mac_of, merge, renumber

from vrrpscope.model import Packet
from vrrpscope.reconstruct import (
    AdvertSeen,
    Event,
    GarpSeen,
    GroupKey,
    GroupResumed,
    GroupSilent,
    MasterChanged,
    MasterEnded,
    MasterStarted,
    OwnerChanged,
    PriorityChanged,
    Reconstructor,
    ReconstructorConfig,
    Resigned,
    RouterSilent,
    SplitBrainEnded,
    SplitBrainStarted,
    Takeover,
    TransientAdverts,
)
from vrrpscope.reconstruct.state import Sampler, outranks
from vrrpscope.sources.base import SourceProblem
from vrrpscope.timing import master_down_interval, skew_time

KEY = GroupKey("eth0", "ipv4", 51)


def run(packets: list[Packet], end: float | None = None, **kw: Any) -> tuple[Reconstructor, list[Event]]:
    rc = Reconstructor(**kw)
    events: list[Event] = []
    for p in packets:
        events.extend(rc.feed(p))
    events.extend(rc.finish(end))
    return rc, events


def of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def timeline(rc: Reconstructor, key: GroupKey = KEY) -> list[tuple[str, float, float | None, str | None]]:
    return [(s.master, s.start, s.end, s.end_reason) for s in rc.groups[key].timeline]


# ------------------------------------------------------------------------------------------ mastership


def test_first_master_has_no_takeover() -> None:
    lan = Lan()
    rc, ev = run([lan.v2(t, S.R1, prio=150) for t in every(100, 110, 1)])
    assert timeline(rc) == [(S.R1, 100, 109, "capture_end")]
    assert of(ev, Takeover) == []
    started = of(ev, MasterStarted)
    assert [(e.router, e.time) for e in started] == [(S.R1, 100)]
    assert of(ev, MasterChanged)[0].after == (S.R1,)


def test_timeout_takeover_is_measured_against_master_down_interval() -> None:
    rc, ev = run(S.failover())
    assert timeline(rc) == [
        (S.R1, 0, 9, "timeout"),
        (S.R2, pytest.approx(12.610375), 29.610375, "capture_end"),
    ]
    (t,) = of(ev, Takeover)
    rec = t.record
    assert (rec.old, rec.new, rec.cause) == (S.R1, S.R2, "timeout")
    assert rec.gap == pytest.approx(3.610375)
    # the new master's priority (100) with the old master's interval (1 s), v2
    assert rec.allowed == pytest.approx(master_down_interval(2, 100, 1.0)) == pytest.approx(3.609375)
    assert rec.old_frame.frame < rec.frame.frame
    assert not rec.after_silence


def test_resign_takeover_is_measured_against_skew_time() -> None:
    rc, ev = run(S.graceful_resign())
    assert timeline(rc)[0] == (S.R1, 0.2, 10.2, "resign")
    (res,) = of(ev, Resigned)
    assert res.was_master and res.router == S.R1 and res.master_since == 0.2
    (t,) = of(ev, Takeover)
    assert t.record.cause == "resign"
    assert t.record.gap == pytest.approx(0.611)
    assert t.record.allowed == pytest.approx(skew_time(2, 100, 1.0))
    g = rc.groups[KEY]
    assert [(r.router, r.time, r.was_master) for r in g.resigns] == [(S.R1, 10.2, True)]
    assert g.routers[S.R1].priorities == [150]  # priority 0 is a resign, not a priority


def test_preemption_is_a_hand_over_not_a_split_brain() -> None:
    rc, ev = run(S.preemption())
    assert timeline(rc) == [(S.R2, 0.4, 20.401, "preempted"), (S.R1, 20.3, 39.3, "capture_end")]
    (t,) = of(ev, Takeover)
    assert (t.record.old, t.record.new, t.record.cause) == (S.R2, S.R1, "preempt")
    assert t.record.gap == pytest.approx(20.3 - 20.401)  # overlap: negative gap
    assert t.record.allowed == 1.0  # about one advert interval of overlap
    assert of(ev, SplitBrainStarted) == []
    assert of(ev, TransientAdverts) == []


def test_lower_priority_advert_answered_by_master_is_transient() -> None:
    rc, ev = run(S.lower_priority_startup())
    assert timeline(rc) == [(S.R1, 0, 19, "capture_end")]
    (tr,) = of(ev, TransientAdverts)
    assert (tr.router, tr.first, tr.last, tr.adverts, tr.masters) == (S.R2, 7.5, 7.5, 1, (S.R1,))
    assert set(tr.stint.garps) == {S.VIP}  # its GARP burst is kept for the detectors
    assert of(ev, SplitBrainStarted) == [] and of(ev, Takeover) == []
    roles = [(e.router, e.role) for e in of(ev, AdvertSeen) if e.time in (7.5, 7.502)]
    assert roles == [(S.R2, "contender"), (S.R1, "master")]


def test_master_paused_by_rejected_contender_is_not_a_takeover() -> None:
    rc, ev = run(S.suppressed_master())
    assert timeline(rc) == [(S.R1, 10, 29.86, "capture_end")]
    assert of(ev, Takeover) == [] and of(ev, SplitBrainStarted) == []
    (tr,) = of(ev, TransientAdverts)
    assert (tr.router, tr.adverts, tr.first, tr.last) == (S.R2, 2, 13.86, 14.86)


@pytest.mark.parametrize("rounds", [2, 3, 6, 30])
def test_suppressed_second_master_returning_one_interval_later_is_a_split_brain(rounds: int) -> None:
    """However many rounds the master wins after the other's blip (2: back within
    Master_Down_Interval of the blip; 3, as in samples/real/vrid_collision_suppressed, and more:
    later), a return exactly one interval after the master's last advert is the suppressed master's
    timer running out, not a takeover: keepalived logged it MASTER at its blip."""
    rc, ev = run(S.suppression_changes_sides(rounds, 1.0))
    last = 2.0 + rounds
    assert timeline(rc) == [(S.R1, 0, last, "split_brain"), (S.R3, 2.12, last + 12, "capture_end")]
    assert of(ev, Takeover) == []
    assert rc.groups[KEY].transients == []  # the blip was the start of its mastership
    (sb,) = of(ev, SplitBrainStarted)
    assert sb.episode.start == 2.12 and set(sb.routers) == {S.R1, S.R3}


@pytest.mark.parametrize("rounds", [6, 30])
def test_return_at_skew_time_after_a_blip_long_ago_stays_a_takeover(rounds: int) -> None:
    """A backup that blipped long ago (a restart) and takes over Skew_Time after the master's last
    advert (its priority-0 advert missing from the capture) is not a suppressed master."""
    gap = round(skew_time(2, 120, 1.0), 6)
    rc, ev = run(S.suppression_changes_sides(rounds, gap))
    last = 2.0 + rounds
    assert [(m, start) for m, start, _end, _reason in timeline(rc)] == [(S.R1, 0), (S.R3, last + gap)]
    (tk,) = of(ev, Takeover)
    assert (tk.record.old, tk.record.new) == (S.R1, S.R3)
    assert of(ev, SplitBrainStarted) == []


def test_split_brain_both_masters_in_timeline() -> None:
    rc, ev = run(S.split_brain_auth())
    assert timeline(rc) == [(S.R1, 0, 29, "capture_end"), (S.R2, 5.3, 24.3, "split_brain")]
    (sb,) = of(ev, SplitBrainStarted)
    assert set(sb.routers) == {S.R1, S.R2}
    assert sb.episode.start == 5.3
    # confirmed once both advertised beyond one interval + tolerance after 5.3 s, not before
    assert 6.55 < sb.time <= 7.3
    (end,) = of(ev, SplitBrainEnded)
    assert (end.start, end.end) == (5.3, 24.3)
    assert of(ev, Takeover) == []


def test_split_brain_still_open_at_capture_end() -> None:
    rc, ev = run(S.interval_mismatch())
    (end,) = of(ev, SplitBrainEnded)
    assert end.episode.end_reason == "capture_end"
    assert [s.end_reason for s in rc.groups[KEY].timeline] == ["capture_end", "capture_end"]


def test_capture_starting_mid_split_brain() -> None:
    lan = Lan()
    pk = [lan.v2(t, S.R1, prio=140) for t in every(0, 10, 1)]
    pk += [lan.v2(t, S.R2, prio=110) for t in every(0.3, 10, 1)]
    _rc, ev = run(renumber(merge(pk)))
    assert of(ev, SplitBrainStarted)[0].episode.start == 0.3
    assert of(ev, Takeover) == []


def test_capture_ending_mid_takeover() -> None:
    lan = Lan()
    pk = [lan.v2(t, S.R1, prio=150) for t in every(0, 10, 1)]
    rc, ev = run(pk, end=11.5)  # the master stopped; capture ends before any backup's timer
    assert timeline(rc) == [(S.R1, 0, 11.5, "capture_end")]
    assert of(ev, GroupSilent) == []


def test_capture_ending_mid_preemption() -> None:
    lan = Lan()
    pk = [lan.v2(t, S.R2, prio=100) for t in every(0, 10.5, 1)]
    pk += [lan.v2(10.2, S.R1, prio=200)]
    rc, ev = run(renumber(merge(pk)), end=10.3)
    assert timeline(rc) == [(S.R2, 0, 10, "preempted"), (S.R1, 10.2, 10.3, "capture_end")]
    (t,) = of(ev, Takeover)
    assert t.record.cause == "preempt"


def test_equal_priority_tie_goes_to_higher_ip() -> None:
    assert outranks(100, "192.0.2.12", 100, "192.0.2.11")
    assert not outranks(100, "192.0.2.11", 100, "192.0.2.12")
    assert outranks(101, "192.0.2.1", 100, "192.0.2.200")
    assert outranks(100, "2001:db8::2", 100, "2001:db8::1")


def test_group_silence_and_resume() -> None:
    _rc, ev = run(S.no_master())
    (sil,) = of(ev, GroupSilent)
    assert sil.since == 9 and sil.last_master == S.R1
    threshold = master_down_interval(2, 1, 1.0) + 0.5
    assert sil.threshold == pytest.approx(threshold)
    assert 9 + threshold < sil.time <= 9 + threshold + 5.1  # detected when the next packet shows time passed
    (res,) = of(ev, GroupResumed)
    assert (res.since, res.time, res.router) == (9, 29, S.R2)
    (t,) = of(ev, Takeover)
    assert t.record.after_silence and t.record.gap == pytest.approx(20.0)


def test_tick_detects_silence_in_live_mode() -> None:
    lan = Lan()
    rc = Reconstructor()
    for t in every(0, 5, 1):
        rc.feed(lan.v2(t, S.R1))
    assert rc.tick(5.0) == []
    assert rc.tick(8.4) == []
    # the master is gone, and the group silent, after Master_Down_Interval(priority 1) + tolerance
    ev = rc.tick(8.6)
    assert [type(e) for e in ev if not isinstance(e, MasterChanged)] == [MasterEnded, RouterSilent, GroupSilent]
    assert of(ev, MasterEnded)[0].end_reason == "timeout"
    assert of(ev, GroupSilent)[0].since == 4


def test_priority_change_recorded_once() -> None:
    lan = Lan()
    pk = [lan.v2(t, S.R1, prio=150) for t in every(0, 5, 1)]
    pk += [lan.v2(t, S.R1, prio=90) for t in every(5, 10, 1)]
    rc, ev = run(pk)
    (pc,) = of(ev, PriorityChanged)
    assert (pc.old, pc.priority, pc.time) == (150, 90, 5)
    g = rc.groups[KEY]
    assert [(c.router, c.old, c.priority) for c in g.priority_changes] == [(S.R1, 150, 90)]
    assert g.routers[S.R1].priorities == [150, 90]


def test_subsecond_v3_uses_v3_formula() -> None:
    _rc, ev = run(S.subsecond_v3())
    (t,) = of(ev, Takeover)
    assert t.record.version == 3
    assert t.record.allowed == pytest.approx(0.3609375)
    assert t.record.gap == pytest.approx(0.3619375, abs=1e-6)
    assert of(ev, SplitBrainStarted) == [] and of(ev, GroupSilent) == []


def test_same_vrid_on_two_vlans_are_two_groups() -> None:
    rc, _ev = run(S.same_vrid_two_vlans())
    keys = sorted(rc.groups)
    assert keys == [GroupKey("eth0/vlan10", "ipv4", 51), GroupKey("eth0/vlan20", "ipv4", 51)]
    assert [list(rc.groups[k].routers) for k in keys] == [[S.R1], [S.R2]]


# ------------------------------------------------------------------------------------------ router facts


def test_router_facts_and_secret_handling() -> None:
    lan = Lan()
    pk = [lan.v2(t, S.R1, prio=150, auth_type=1, password=b"s3cret", ttl=255) for t in every(0, 3, 1)]
    rc, _ = run(pk)
    r = rc.groups[KEY].routers[S.R1]
    assert r.adverts == 3 and (r.first_seen, r.last_seen) == (0, 2)
    assert r.mac == mac_of(S.R1) and r.advert_int == 1.0 and r.version == 2
    assert r.vips == (S.VIP,) and r.ttls == {255: 3} and r.destinations == {"224.0.0.18": 3}
    (kind, fp), n = next(iter(r.auth.items()))
    assert kind == "simple" and fp is not None and fp.startswith("sha256:") and n == 3
    assert r.auth_texts == {}  # never kept unless asked
    assert r.checksum_variants == {"v2": 3} and r.vantage == {0}
    rc2, _ = run(pk, show_secrets=True)
    assert rc2.groups[KEY].routers[S.R1].auth_texts == {"s3cret": 3}


def test_ah_and_hmac_auth_labels() -> None:
    lan = Lan()
    p = lan.v3(0, S.R1)
    from dataclasses import replace

    from dissectors.records import AhInfo

    v2 = lan.v2(1, S.R2, auth_type=2)
    ah = replace(v2, ip=replace(v2.ip, ah=AhInfo(112, 1, 1, b"x" * 12)))  # type: ignore[type-var]
    hmac = replace(p, message=replace(p.message, trailer=28))  # type: ignore[arg-type]
    rc, _ = run([hmac, ah])
    routers = rc.groups[KEY].routers
    assert routers[S.R1].last_auth == ("hmac", None)
    assert routers[S.R2].last_auth == ("ah", None)


def test_advert_times_are_capped_and_evenly_spread() -> None:
    s = Sampler(100)
    for i in range(10000):
        s.add(float(i))
    assert s.count == 10000 and len(s.values) < 100
    gaps = {b - a for a, b in zip(s.values, s.values[1:], strict=False)}
    assert len(gaps) == 1  # evenly spread
    lan = Lan()
    rc, _ = run([lan.v2(t, S.R1) for t in every(0, 500, 0.1)], config=ReconstructorConfig(advert_times_cap=64))
    r = rc.groups[KEY].routers[S.R1]
    assert r.advert_times.count == 5000 and len(r.advert_times.values) <= 64


# ------------------------------------------------------------------------------------------ GARP / NA


def test_garp_after_takeover_delay_count_and_second_burst() -> None:
    rc, ev = run(S.failover())
    rec = rc.groups[KEY].takeovers[0]
    gs = rec.stint.garps[S.VIP]
    assert rec.garp_delay == pytest.approx(0.002)
    assert gs.count == 10
    assert [round(b - rec.at, 3) for b in gs.bursts] == [0.002, 5.002]
    garps = of(ev, GarpSeen)
    assert {(g.mac, g.kind) for g in garps} == {(mac_of(S.R1), "garp"), (mac_of(S.R2), "garp")}
    assert all(g.groups == (KEY,) for g in garps)
    kept = rc.groups[KEY].garps
    assert len(kept) == 15 and {g.router for g in kept} == {S.R1, S.R2}


def test_garp_just_before_first_advert_counts() -> None:
    lan = Lan()
    pk = [lan.v2(t, S.R1, prio=150) for t in every(0, 5, 1)]
    t2 = 4 + master_down_interval(2, 100, 1.0)
    pk += S.burst(lan, t2 - 0.2, S.VIP, mac_of(S.R2))
    pk += [lan.v2(t, S.R2) for t in every(t2, 12, 1)]
    rc, _ = run(renumber(merge(pk)))
    rec = rc.groups[KEY].takeovers[0]
    assert rec.garp_delay == pytest.approx(-0.2)


def test_ipv6_unsolicited_na_tracked_per_vip() -> None:
    rc, ev = run(S.ipv6_failover())
    key = GroupKey("eth0", "ipv6", 51)
    rec = rc.groups[key].takeovers[0]
    assert rec.allowed == pytest.approx(3.53125)
    assert set(rec.stint.garps) == set(S.VIP6)
    assert {g.kind for g in of(ev, GarpSeen)} == {"na"}


def test_vmac_garps_count_for_the_new_master() -> None:
    rc, _ev = run(S.vmac_failover())
    rec = rc.groups[KEY].takeovers[0]
    assert rec.garp_delay == pytest.approx(0.002)
    # the replies from the same VMAC do not change the VIP's owner
    assert [o.mac for o in rc.owners.changes_of("eth0", S.VIP)] == ["00:00:5e:00:01:33"]


# ------------------------------------------------------------------------------------------ ownership


def test_ownership_intervals_and_via() -> None:
    lan = Lan()
    pk = [
        lan.garp(1.0, S.VIP, "02:00:00:00:00:01"),
        lan.arp_reply(2.0, S.VIP, "02:00:00:00:00:01"),
        lan.arp_reply(3.0, S.VIP, "02:00:00:00:00:02"),
        lan.arp_request(4.0, "192.0.2.50", "02:00:00:00:00:50", S.VIP),
        lan.arp_request(5.0, "0.0.0.0", "02:00:00:00:00:51", "192.0.2.51"),  # probe: binds nothing
        lan.na(6.0, "2001:db8::100", "02:00:00:00:00:03"),
    ]
    rc, ev = run(pk)
    owners = [(o.ip, o.mac, o.start, o.end, o.via, o.claims) for o in rc.owners.intervals()]
    assert owners == [
        (S.VIP, "02:00:00:00:00:01", 1.0, 3.0, "garp", 2),
        (S.VIP, "02:00:00:00:00:02", 3.0, None, "reply", 1),
        ("192.0.2.50", "02:00:00:00:00:50", 4.0, None, "request", 1),
        ("2001:db8::100", "02:00:00:00:00:03", 6.0, None, "na", 1),
    ]
    changes = of(ev, OwnerChanged)
    assert [(c.ip, c.old_mac, c.mac) for c in changes][:2] == [
        (S.VIP, None, "02:00:00:00:00:01"),
        (S.VIP, "02:00:00:00:00:01", "02:00:00:00:00:02"),
    ]
    assert rc.l2_seen == {("eth0", "ipv4"): 5, ("eth0", "ipv6"): 1}


# ------------------------------------------------------------------------------------------ vantage points


def two_vantage_failover() -> list[Packet]:
    a = Lan(file="r1.pcap", file_index=0)
    b = Lan(file="r2.pcap", file_index=1)
    pa = S.failover(a)
    pb = []
    for p in S.failover(b):
        # the other capture host's clock is 0.7 ms ahead
        pb.append(Packet(1, "r2.pcap", p.frame, round(p.time + 0.0007, 7), p.segment, p.link, p.ip, p.message))
    return merge(pa, pb)


def test_same_advert_in_two_files_counts_once() -> None:
    single, _ = run(S.failover())
    rc, ev = run(two_vantage_failover())
    g = rc.groups[KEY]
    assert g.routers[S.R1].adverts == single.groups[KEY].routers[S.R1].adverts == 10
    assert g.routers[S.R1].vantage == {0, 1} and g.vantage == {0, 1}
    assert rc.duplicates == len(S.failover())
    assert len(of(ev, Takeover)) == 1
    assert rc.groups[KEY].takeovers[0].stint.garps[S.VIP].count == 10


def test_identical_adverts_in_one_file_are_not_duplicates() -> None:
    # a master's immediate answer repeats its advert byte for byte a few ms later
    lan = Lan()
    pk = [lan.v2(0.0, S.R1), lan.v2(0.004, S.R1)]
    rc, _ = run(pk)
    assert rc.groups[KEY].routers[S.R1].adverts == 2 and rc.duplicates == 0


def test_source_problem_becomes_event() -> None:
    rc = Reconstructor(files=["a.pcap"])
    prob = SourceProblem("a.pcap", 7, 1234, "truncated_record", "record needs 60 bytes, 12 left", True)
    (ev,) = rc.feed(prob)
    assert ev.problem is prob  # type: ignore[union-attr]
