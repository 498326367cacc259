"""Soak test (compressed): two hours of simulated traffic through the ``watch`` loop, memory flat.

:mod:`bench.soak` generates the traffic (:mod:`bench.soak_traffic`: 20 VRRP groups on 4 VLANs —
VRRPv2 and v3, IPv4 and IPv6, 1 s and 0.5 s intervals — with crashes, resigns, tracked-script
preemptions and flaps, split brains (some followed by GARP refreshes), auth mismatches, outages,
GARP/NA bursts, and 400 hosts resolving each other and the VIPs, with duplicate addresses and NIC
swaps) and feeds it frame by frame through :class:`vrrpscope.live.session.WatchSession` on a
virtual clock, exactly as ``watch`` after capture (JSON-lines sink included). 320,220 frames
(172,511 adverts, 107,066 ARP, 40,643 ND), 399 master changes, 164 findings in 2 hours of capture
time; about 25 s of CPU for the run (35 s for the module with the tshark check).

Oracles: the schedule (every master change the episodes cause, with the RFC 3768/9568 timers:
Master_Down_Interval, Skew_Time, the hand-over allowance), the findings each episode must cause
(and no other), tshark for the generated frames, and RSS/census/deep-size measurements between the
warm-up checkpoint (5 % of the capture time) and the end of the traffic. The full-length run is
``bench/soak.py --hours 8`` (3.2 million frames).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from support import require_tool

from bench.soak import SoakResult, run_soak
from bench.soak_traffic import FLAVOURS, SoakConfig, Traffic, write_pcap
from dissectors.packet import CACHE_SIZE
from vrrpscope.reconstruct import ReconstructorConfig

#: The compressed soak: 2 hours of capture, 20 groups, episodes every 10 minutes per group.
CONFIG = SoakConfig(hours=2.0, groups=20, hosts_per_vlan=100, episode_every_s=600.0, seed=3)
#: RSS growth allowed between warm-up and the end (see test_memory_is_flat).
RSS_BOUND_MB = 8.0
#: RSS may exceed the measured growth of the state by this much (pymalloc arenas, list
#: over-allocation, the frame cache's churn).
ALLOCATOR_SLACK_MB = 4.0


def _vips() -> int:
    """VIPs in the simulation (IPv6 groups: a link-local and a global one)."""
    flavours = [FLAVOURS[gid % CONFIG.groups_per_vlan % len(FLAVOURS)] for gid in range(CONFIG.groups)]
    return sum(2 if family == "ipv6" else nvips for _v, family, _iv, _vrid, nvips in flavours)


@pytest.fixture(scope="module")
def soak() -> SoakResult:
    """One compressed soak run shared by the tests of this module."""
    return run_soak(CONFIG, metrics=False, sizes=True)


def test_traffic_is_a_soak(soak: SoakResult) -> None:
    """Hundreds of thousands of frames of every kind, every episode kind played."""
    end = soak.last
    assert soak.frames > 250_000
    assert end.adverts > 120_000 and end.arp > 80_000 and end.nd > 25_000
    assert end.capture_hours == pytest.approx(2.0, abs=0.01)
    assert set(soak.episodes) == set(CONFIG.mix)
    assert soak.host_events.get("dup_ip", 0) >= 1 and soak.host_events.get("nic_swap", 0) >= 1


def test_master_changes_follow_the_schedule(soak: SoakResult) -> None:
    """Every scheduled master change is reported once, in order, with its cause, the routers, the
    time (the new master's first advert; for changes decided on silence, within one tick of the
    RFC threshold) and the takeover gap; nothing else is reported."""
    assert soak.mismatches == [] and soak.mismatch_count == 0
    assert soak.missed_changes == []
    assert soak.matched_changes == soak.expected_changes > 200
    assert set(soak.causes) == {"initial", "timeout", "resign", "preempt", "split_brain", "split_brain_end", "resumed"}


def test_reconstruction_matches_the_schedule(soak: SoakResult) -> None:
    """One timeline entry per master stint and one takeover record per takeover the schedule made;
    the final analysis (what watch renders at the end) shows the same."""
    final = soak.checkpoints[-1].census
    assert final["timeline"] == soak.expected_stints == soak.timeline_entries
    assert final["takeovers"] == soak.expected_takeovers
    assert final["groups"] == CONFIG.groups and final["routers"] == 2 * CONFIG.groups
    assert final["history_dropped"] == 0


def test_findings_follow_the_schedule(soak: SoakResult) -> None:
    """Each episode that must produce a finding produced exactly one (split brain, auth mismatch,
    slow takeover, missing GARP, no master, priority-0 resign, preemption flap, duplicate IP: an
    ARP conflict and a flip-flop), and every finding
    that opened is explained by a scheduled episode (VIP ARP conflicts and flip-flops only around
    split brains)."""
    for kind, n in soak.expected_findings.items():
        assert soak.findings.get(kind, 0) == n, kind
    assert set(soak.expected_findings) == {
        "split_brain",
        "auth_mismatch",
        "slow_takeover",
        "missing_garp",
        "no_master",
        "priority_zero_resign",
        "preemption_flap",
        "arp_conflict(duplicate ip)",
        "arp_flipflop(duplicate ip)",
    }
    assert set(soak.findings) <= set(soak.expected_findings) | {"arp_conflict", "arp_flipflop"}
    assert soak.unexplained == [] and soak.unexplained_count == 0
    assert soak.finding_events["open"] == soak.finding_events["closed"]


def test_memory_is_flat(soak: SoakResult) -> None:
    """Between the warm-up checkpoint (5 % of the capture time) and the end of the traffic:

    * RSS grows by less than RSS_BOUND_MB. The 8-hour bench (50 groups) measures the state's deep
      size growing about 2 MB per capture hour, all of it history that follows the episodes
      (timeline, takeovers, GARP records, owner intervals, findings) plus caches filling up to
      their caps; this run (20 groups, 1.9 hours) measures +2.6 MB of state and +4.7 MB of RSS.
      A leak of 30 bytes per frame (~300,000 frames) would add 9 MB.
    * RSS growth is accounted for by the structures the census measures (deep sizes, computed in a
      forked child so the walk does not disturb the heap) plus allocator slack (ALLOCATOR_SLACK_MB).
    * What is fed per frame stays within its cap: advert time samples, the dissector's frame
      cache, the multi-vantage dedup window, the ARP/ND owners (one per IP in the simulation).
    """
    warm, end = soak.warm, soak.last
    assert end.frames > 15 * warm.frames
    assert soak.rss_growth_mb < RSS_BOUND_MB, soak.rss_growth_mb
    state_growth = (sum(end.sizes.values()) - sum(warm.sizes.values())) / 1e6
    assert 0 < state_growth < RSS_BOUND_MB
    assert soak.rss_growth_mb < state_growth + ALLOCATOR_SLACK_MB, (soak.rss_growth_mb, state_growth)
    c = end.census
    assert c["advert_time_samples"] <= ReconstructorConfig().advert_times_cap * c["routers"]
    assert c["dissect_cache"] <= CACHE_SIZE
    assert c["dedup_recent"] < 100
    assert c["owners_current"] <= CONFIG.vlans * 2 * CONFIG.hosts_per_vlan + _vips()
    assert c["group_garps"] <= ReconstructorConfig().group_garps_cap * CONFIG.groups


def test_history_grows_per_event_not_per_frame(soak: SoakResult) -> None:
    """What the state keeps about the past costs a fixed amount per event (stint, takeover, GARP,
    owner change, finding), however many adverts each saw: stints last minutes to an hour (hundreds
    to thousands of adverts each), so keeping even 8 bytes per advert in them would show here. The
    bounds are about twice what the 8-hour bench measures (timeline ~1.0 KB per stint with its
    GARP stats, takeover ~0.35 KB, GARP record ~0.2 KB, owner interval ~0.4 KB, finding ~1.3 KB)."""
    end = soak.last
    sizes, c = end.sizes, end.census
    assert sizes["timeline (stints, their GARP stats)"] / c["timeline"] < 2_000
    assert sizes["takeovers"] / c["takeovers"] < 800
    assert sizes["group GARP/NA records"] / c["group_garps"] < 400
    assert sizes["ARP/ND ownership"] / c["owner_intervals"] < 1_000
    assert sizes["finding store"] / c["findings_store"] < 4_000
    mean_stint_adverts = end.adverts / c["timeline"]
    assert mean_stint_adverts > 300


@pytest.mark.tshark
def test_simulated_frames_are_valid_for_tshark(tmp_path: Path) -> None:
    """The generator's frames, dumped as pcap, are what they claim for tshark (an independent
    decoder): VRRPv2/v3 over IPv4 and IPv6 with valid checksums (VRRP, IPv4 header, ICMPv6), the
    priorities and intervals of the schedule, ARP and NS/NA; nothing malformed. Wireshark's only
    complaint is "duplicate IP address", expected: the VLANs reuse the same addresses (vrrpscope
    keeps segments apart) and the duplicate-address episodes."""
    tshark = require_tool("tshark")
    cfg = SoakConfig(hours=0.25, groups=10, episode_every_s=150.0, seed=3)
    pcap = tmp_path / "soak.pcap"
    n = write_pcap(Traffic(cfg), str(pcap))
    fields = ("frame.protocols", "vrrp.version", "vrrp.prio", "vrrp.adver_int", "vrrp.short_adver_int",
              "vrrp.checksum.status", "ip.checksum.status", "icmpv6.type", "icmpv6.checksum.status",
              "arp.opcode", "_ws.malformed", "_ws.expert.message")
    cmd = [tshark, "-n", "-r", str(pcap), "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300).stdout.splitlines()
    rows = [dict(zip(fields, line.split("\t"), strict=True)) for line in out]
    assert len(rows) == n > 20_000
    kinds: Counter[str] = Counter()
    for r in rows:
        proto = r["frame.protocols"]
        assert r["_ws.malformed"] == "", r
        assert r["_ws.expert.message"] in ("",) or r["_ws.expert.message"].startswith("Duplicate IP address"), r
        if proto.endswith(":vrrp"):
            kinds[f"vrrpv{r['vrrp.version']}/{'ipv6' if ':ipv6:' in proto else 'ipv4'}"] += 1
            assert r["vrrp.checksum.status"] == "1", r
            assert int(r["vrrp.prio"]) in (0, 90, 100, 150)
            if r["vrrp.version"] == "2":
                assert r["vrrp.adver_int"] == "1"
            else:
                assert r["vrrp.short_adver_int"] in ("50", "100")
        elif proto.endswith(":icmpv6"):
            kinds[f"icmpv6/{r['icmpv6.type']}"] += 1
            assert r["icmpv6.checksum.status"] == "1", r
        else:
            assert proto.endswith(":arp"), proto
            kinds[f"arp/{r['arp.opcode']}"] += 1
        if ":ip:" in proto:
            assert r["ip.checksum.status"] == "1", r
    assert set(kinds) == {"vrrpv2/ipv4", "vrrpv3/ipv4", "vrrpv3/ipv6", "icmpv6/135", "icmpv6/136", "arp/1", "arp/2"}


def test_finding_store_prune_keeps_open_and_recent_findings() -> None:
    """watch's retention: findings that ended before the cut are forgotten and counted, open ones stay."""
    from vrrpscope.findings import Finding, FindingStore, Severity

    def finding(kind: str, start: float, end: float | None) -> Finding:
        return Finding(
            kind=kind,
            severity=Severity.WARNING,
            segment="if0",
            family="ipv4",
            vrid=1,
            start=start,
            end=end,
            routers=("192.0.2.1",),
            frames=(),
            message=kind,
        )

    store = FindingStore()
    store.extend([finding("a", 0.0, 10.0), finding("b", 5.0, None), finding("c", 50.0, 60.0)])
    assert store.prune(20.0) == 1
    assert [f.kind for f in store.all()] == ["b", "c"] and store.pruned == 1
    assert store.prune(20.0) == 0 and len(store) == 2


def test_watch_uses_the_live_limits() -> None:
    """A watch session's reconstructor keeps bounded history (the caps that make memory flat)."""
    from vrrpscope.live.session import FINDING_RETENTION_S, LIVE_LIMITS, WatchSession

    session = WatchSession(object(), [])  # type: ignore[arg-type]  # never polled here
    assert session.engine.recon.config == LIVE_LIMITS
    assert LIVE_LIMITS.history_cap <= 500 and LIVE_LIMITS.group_garps_cap <= 200
    assert LIVE_LIMITS.owner_history_cap <= 50 and FINDING_RETENTION_S <= 24 * 3600


def test_pruned_findings_are_not_announced_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a short retention, findings that ended long ago are pruned from watch's store; none of
    them comes back as a new 'open' event (flip-flop and flap episodes close on the tick once their
    window has passed, not at the end of the run)."""
    import vrrpscope.live.session as session

    monkeypatch.setattr(session, "FINDING_RETENTION_S", 1800.0)
    res = run_soak(SoakConfig(hours=3.0, groups=20, hosts_per_vlan=100, episode_every_s=600.0, seed=5), metrics=False)
    assert res.findings_pruned > 50
    assert res.unexplained_count == 0, res.unexplained
    assert res.finding_events["open"] == sum(res.findings.values())  # each finding opened once
    assert res.finding_events["open"] == res.finding_events["closed"]
    assert res.findings.get("arp_flipflop(duplicate ip)", 0) > 0 and res.findings.get("preemption_flap", 0) > 0
