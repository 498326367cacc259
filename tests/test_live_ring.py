"""The ``PACKET_RX_RING`` (TPACKET_V3) capture of ``watch``, on real veth pairs.

Each test creates a network namespace of its own (``vsq-<pid>-<random>``, deleted afterwards), puts
both ends of a veth pair in it and runs a probe script there that sends frames from one end and
captures them on the other with :class:`~vrrpscope.live.capture.LiveCapture`. The oracle is what
was sent: the ring must deliver exactly the frames the filter accepts, byte for byte (VLAN tags the
kernel stripped put back), stamped between just before and shortly after their send, and exactly
what the ``recvmsg`` path delivers from the same traffic; a burst larger than the ring must show up
as counted kernel drops, never as silent loss.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Raw
from support import require, require_tool

from vrrpscope.live.capture import RING_RETIRE_MS, ring_geometry
from vrrpscope.live.source import CapturedFrame

ROOT = Path(__file__).resolve().parents[1]
PREFIX = f"vsq-{os.getpid()}-"

MAC_A = "02:00:00:00:53:01"
MAC_B = "02:00:00:00:53:02"


def _frames() -> list[tuple[str, bytes, bool]]:
    """``(name, frame, passes the filter)``: VRRP, ARP and ND frames, tagged in every way the kernel
    strips (802.1Q, priority-only VLAN 0, 802.1ad outer tag of a QinQ frame), a jumbo VRRP frame,
    and frames the kernel filter must reject."""
    arp = ARP(op=1, hwsrc=MAC_A, psrc="192.0.2.1", hwdst="00:00:00:00:00:00", pdst="192.0.2.1")
    vrrp = IP(src="192.0.2.11", dst="224.0.0.18", ttl=255) / VRRP(vrid=51, priority=100, addrlist=["192.0.2.100"])
    vrrp6 = IPv6(src="fe80::11", dst="ff02::12", hlim=255) / VRRPv3(vrid=52, priority=100, addrlist=["2001:db8::100"])
    na = (
        IPv6(src="fe80::11", dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(tgt="2001:db8::100", R=0, S=0, O=1)
        / ICMPv6NDOptDstLLAddr(lladdr=MAC_A)
    )
    bcast = Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff")
    mcast = Ether(src=MAC_A, dst="01:00:5e:00:00:12")
    mcast6 = Ether(src=MAC_A, dst="33:33:00:00:00:12")
    udp = IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5000, dport=5001) / Raw(b"x" * 20)
    tcp = IP(src="192.0.2.1", dst="192.0.2.2") / TCP(sport=5000, dport=80, flags="S")
    out = [
        ("arp", bcast / arp, True),
        ("vrrp_v2", mcast / vrrp, True),
        ("udp", Ether(src=MAC_A, dst=MAC_B) / udp, False),
        ("vrrp_v3_ipv6", mcast6 / vrrp6, True),
        ("dot1q_arp", bcast / Dot1Q(vlan=30, prio=5) / arp, True),
        ("tcp", Ether(src=MAC_A, dst=MAC_B) / tcp, False),
        ("vlan0_prio0_arp", bcast / Dot1Q(vlan=0, prio=0) / arp, True),
        ("dot1q_udp", Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=30) / udp, False),
        ("qinq_vrrp", mcast / Dot1AD(vlan=100) / Dot1Q(vlan=30) / vrrp, True),
        ("nd_na", Ether(src=MAC_A, dst="33:33:00:00:00:01") / na, True),
        ("jumbo_vrrp", mcast / vrrp / Raw(b"\x00" * 6000), True),
    ]
    return [(name, bytes(pkt), ok) for name, pkt, ok in out]


FRAMES = _frames()

# ----------------------------------------------------------------------------- the namespace

PRELUDE = r"""
import json, os, socket, subprocess, sys, time
from vrrpscope.live import capture as capture_module
from vrrpscope.live.capture import LiveCapture
from vrrpscope.live.source import CaptureError

def sh(*argv):
    subprocess.run(list(argv), check=True, capture_output=True, timeout=20)

def veth(tx, rx, mtu=1500):
    sh("ip", "link", "add", tx, "mtu", str(mtu), "type", "veth", "peer", "name", rx, "mtu", str(mtu))
    for dev in (tx, rx):
        sh("ip", "link", "set", dev, "up")

def sender(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((name, 0))
    return s

def as_json(f):
    return {"data": f.data.hex(), "wirelen": f.wirelen, "time_ns": f.time_ns, "outgoing": f.outgoing,
            "interface": f.interface}

def collect(caps, seconds, want=None):
    # poll every capture until each has `want` frames (or for `seconds` when want is None)
    got = {k: [] for k in caps}
    deadline = time.time() + seconds
    while time.time() < deadline:
        for k, cap in caps.items():
            got[k].extend(cap.poll(0.02))
        if want is not None and all(len(v) >= want for v in got.values()):
            break
    return got

def drain(cap, quiet=0.3):
    # every frame still in the ring: poll until nothing came for `quiet` seconds
    out, last = [], time.time()
    while time.time() - last < quiet:
        batch = cap.poll(0.05)
        if batch:
            out.extend(batch)
            last = time.time()
    return out

veth("vq-tx", "vq-rx", 9000)
time.sleep(0.3)  # a fresh veth's first delivery is slow
"""

DELIVER = r"""
frames = [bytes.fromhex(h) for h in json.loads(sys.argv[1])]
rx = LiveCapture(["vq-rx"], compiler="builtin", method="ring")
rx.open()
tx = LiveCapture(["vq-tx"], compiler="builtin", method="ring")
tx.open()
out = sender("vq-tx")
sends = []
for f in frames:
    before = time.time_ns()
    out.send(f)
    sends.append([before, time.time_ns()])
    time.sleep(0.01)
got = collect({"rx": rx, "tx": tx}, 3.0, want=int(sys.argv[2]))
result = {"sends": sends, "methods": [rx.methods, tx.methods], "warnings": rx.warnings + tx.warnings}
result["got"] = {k: [as_json(f) for f in v] for k, v in got.items()}
result["stats"] = {k: [[s.packets, s.kernel_drops, s.errors] for s in c.stats()] for k, c in (("rx", rx), ("tx", tx))}
rx.close()
tx.close()
json.dump(result, sys.stdout)
"""

COMPARE = r"""
frames = [bytes.fromhex(h) for h in json.loads(sys.argv[1])]
caps = {}
for method in ("ring", "recvmsg"):  # both open at once on the same interfaces
    caps[method] = LiveCapture(["vq-rx", "vq-tx"], compiler="builtin", method=method)
    caps[method].open()
out = sender("vq-tx")
for _ in range(3):
    for f in frames:
        out.send(f)
got = collect(caps, 3.0, want=int(sys.argv[2]))
result = {"methods": {k: c.methods for k, c in caps.items()}}
result["got"] = {k: [as_json(f) for f in v] for k, v in got.items()}
result["stats"] = {k: [[s.packets, s.kernel_drops] for s in c.stats()] for k, c in caps.items()}
for c in caps.values():
    c.close()
json.dump(result, sys.stdout)
"""

BURST = r"""
base = bytes.fromhex(sys.argv[1])
burst, queue = int(sys.argv[2]), int(sys.argv[3])

def numbered(i):  # the frame number in the source MAC (and the ARP sender MAC)
    tag = i.to_bytes(4, "big")
    return base[:8] + tag + base[12:24] + tag + base[28:]

out = sender("vq-tx")
result = {}
for name, size in (("small", queue), ("default", None)):
    kwargs = {} if size is None else {"rcvbuf": size}
    cap = LiveCapture(["vq-rx"], compiler="builtin", method="ring", **kwargs)
    cap.open()
    for i in range(burst):  # nobody reads meanwhile
        out.send(numbered(i))
    time.sleep(0.2)
    first = drain(cap)
    st = cap.stats()[0]
    one = [[int.from_bytes(f.data[8:12], "big") for f in first], st.packets, st.kernel_drops]
    for i in range(burst, burst + 100):  # read, the ring takes frames again (two blocks' worth)
        out.send(numbered(i))
    again = drain(cap)
    st = cap.stats()[0]
    one += [[int.from_bytes(f.data[8:12], "big") for f in again], st.packets, st.kernel_drops]
    result[name] = one
    cap.close()
json.dump(result, sys.stdout)
"""

LINK = r"""
frame = bytes.fromhex(sys.argv[1])
cap = LiveCapture(["vq-rx"], compiler="builtin", method="ring")
cap.open()
result = {"ifindex": [cap.interfaces[0].ifindex]}
# idle: poll waits in the kernel, it does not spin
c0 = time.process_time()
t0 = time.time()
collect({"c": cap}, 1.0)
result["idle_cpu"] = time.process_time() - c0
# one frame at a low rate: handed over when its block retires
out = sender("vq-tx")
t0 = time.time()
out.send(frame)
got = []
while not got and time.time() - t0 < 2.0:
    got = cap.poll(0.5)
result["latency"] = time.time() - t0
result["first"] = [f.data.hex() for f in got]
# the link goes down (the socket reports ENETDOWN): no spinning either, and a gap
sh("ip", "link", "set", "vq-rx", "down")
c0 = time.process_time()
collect({"c": cap}, 1.0)
result["down_cpu"] = time.process_time() - c0
result["down_stats"] = [[s.state, s.errors] for s in cap.stats()]
sh("ip", "link", "set", "vq-rx", "up")
time.sleep(0.3)
collect({"c": cap}, 0.3)
out.send(frame)
result["after_up"] = [f.data.hex() for f in drain(cap)]
# deleted and re-created: a new socket with a new ring
sh("ip", "link", "del", "vq-tx")
collect({"c": cap}, 0.5)
result["deleted"] = [[s.state] for s in cap.stats()] + [cap.methods]
veth("vq-tx", "vq-rx")
time.sleep(0.3)
collect({"c": cap}, 0.5)
out = sender("vq-tx")
for _ in range(5):
    out.send(frame)
result["recreated"] = [f.data.hex() for f in drain(cap)]
result["ifindex"].append(cap.interfaces[0].ifindex)
result["methods"] = cap.methods
result["gaps"] = [[g.reason, g.recreated, g.resumed] for g in cap.capture_gaps()]
result["stats"] = [[s.state, s.packets, s.kernel_drops] for s in cap.stats()]
cap.close()
json.dump(result, sys.stdout)
"""

EDGES = r"""
frame = bytes.fromhex(sys.argv[1])
if len(sys.argv) > 2:  # (to see the test fail) no waiting for the frames still in the ring
    capture_module.RING_FLUSH_S = 0.0
cap = LiveCapture(["vq-rx"], compiler="builtin", method="ring")
cap.open()
out = sender("vq-tx")
collect({"c": cap}, 0.3)
stamps = {}
for step in ("carrier", "down", "deleted"):
    # a frame, then at once the link goes (the far end down: carrier lost; this end down; both ends
    # deleted); the frame is still in the ring's open block when the link change is seen
    out.send(frame)
    if step == "carrier":
        sh("ip", "link", "set", "vq-tx", "down")
    elif step == "down":
        sh("ip", "link", "set", "vq-rx", "down")
    else:
        sh("ip", "link", "del", "vq-tx")
    got = collect({"c": cap}, 0.5)["c"]
    if step == "carrier":
        sh("ip", "link", "set", "vq-tx", "up")
    elif step == "down":
        sh("ip", "link", "set", "vq-rx", "up")
    else:
        veth("vq-tx", "vq-rx")
        out = sender("vq-tx")
        got += collect({"c": cap}, 0.3)["c"]  # a new interface: captured once the socket is re-opened
    # the link is back: frames at once, the first still in the ring when the link change is seen
    # (sent every 2 ms for 40 ms: the sending end drops or refuses the first ones while it activates)
    for _ in range(20):
        try:
            out.send(frame)
        except OSError:
            pass
        time.sleep(0.002)
    got += collect({"c": cap}, 0.5)["c"]
    stamps[step] = [f.time for f in got]
gaps = cap.capture_gaps()
cap.close()
json.dump({"stamps": stamps, "gaps": [[g.reason, g.start, g.end] for g in gaps]}, sys.stdout)
"""

FALLBACK = r"""
frame = bytes.fromhex(sys.argv[1])
result = {}
def rejected(queue_bytes):  # a block size the kernel refuses (not a whole number of pages): EINVAL
    return 1000, 1
real = capture_module.ring_geometry
capture_module.ring_geometry = rejected
try:
    LiveCapture(["vq-rx"], compiler="builtin", method="ring").open()
    result["ring"] = "opened"
except CaptureError as exc:
    result["ring"] = str(exc)
cap = LiveCapture(["vq-rx"], compiler="builtin")  # auto
cap.open()
result["auto"] = [cap.method, cap.methods, cap.warnings]
sender("vq-tx").send(frame)
result["auto_frames"] = [f.data.hex() for f in drain(cap)]
cap.close()
capture_module.ring_geometry = real
for env in ("recvmsg", "ring", "", "mmap"):
    os.environ["VRRPSCOPE_CAPTURE"] = env
    cap = LiveCapture(["vq-rx"], compiler="builtin")
    try:
        cap.open()
        result["env " + env] = [cap.method, cap.methods]
        cap.close()
    except CaptureError as exc:
        result["env " + env] = str(exc)
json.dump(result, sys.stdout)
"""


@contextmanager
def namespace() -> Iterator[str]:
    """A fresh network namespace (IPv6 off: no DAD/MLD frames of its own), always deleted."""
    require(os.geteuid() == 0, "needs root for network namespaces and CAP_NET_RAW")
    require_tool("ip")
    ns = PREFIX + secrets.token_hex(3)
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=20)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, capture_output=True, timeout=20)
        for key in ("all", "default"):
            subprocess.run(
                ["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1"],
                check=True,
                capture_output=True,
                timeout=20,
            )
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=20)


def probe(script: str, *args: str) -> dict[str, Any]:
    """Run ``PRELUDE + script`` in a fresh namespace; its JSON output. The probes choose the capture
    method themselves: ``VRRPSCOPE_CAPTURE`` of the test run is not passed on."""
    env = {k: v for k, v in os.environ.items() if k != "VRRPSCOPE_CAPTURE"}
    with namespace() as ns:
        proc = subprocess.run(
            ["ip", "netns", "exec", ns, sys.executable, "-c", PRELUDE + script, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
            env=env,
        )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def frame(name: str) -> bytes:
    """The frame called ``name`` in :data:`FRAMES`."""
    return next(f for n, f, _ok in FRAMES if n == name)


# ----------------------------------------------------------------------------- the record


def test_captured_frame_is_a_cheap_value_record() -> None:
    stamp = 1_700_000_000_123_456_789
    a = CapturedFrame(1, stamp, b"\x01\x02", 60)
    assert (a.interface, a.time_ns, a.data, a.wirelen, a.outgoing) == (1, stamp, b"\x01\x02", 60, False)
    assert a.time == 1_700_000_000_123_456_789 / 1e9
    b = CapturedFrame(1, 1_700_000_000_123_456_789, b"\x01\x02", 60, False, a.time)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != CapturedFrame(1, 1_700_000_000_123_456_789, b"\x01\x02", 60, True)
    assert a != (1, 1_700_000_000_123_456_789, b"\x01\x02", 60, False, a.time)  # not a tuple
    assert CapturedFrame(0, 5, b"", 0, time=2.5).time == 2.5  # replayed frames keep the file's float
    assert dataclasses.replace(a, outgoing=True).outgoing
    assert repr(a).startswith("CapturedFrame(interface=1, time_ns=1700000000123456789, data=b'\\x01\\x02'")


def test_ring_geometry_is_bounded_and_whole_pages() -> None:
    import mmap

    assert ring_geometry(4 << 20) == (32 << 10, 128)  # the default: 4 MiB per interface
    for queue in (1, 4096, 16384, 32768, 200_000, 1 << 19, 4 << 20, 64 << 20):
        block, count = ring_geometry(queue)
        assert block % mmap.PAGESIZE == 0 and block & (block - 1) == 0 and block <= 32 << 10
        assert count >= 1 and block * count >= queue and (block * (count - 1) < queue or count == 1)
        assert count >= 4 or block == mmap.PAGESIZE


# ----------------------------------------------------------------------------- in the kernel


def test_ring_delivers_exactly_the_filtered_frames_restored_and_stamped() -> None:
    sent = [f for _n, f, _ok in FRAMES]
    expected = [f for _n, f, ok in FRAMES if ok]
    r = probe(DELIVER, json.dumps([f.hex() for f in sent]), str(len(expected)))
    assert r["methods"] == [["ring"], ["ring"]] and r["warnings"] == []
    for side, outgoing in (("rx", False), ("tx", True)):
        got = r["got"][side]
        # every VRRP/ARP/ND frame, byte for byte (the stripped 802.1Q/802.1ad tags put back, also
        # VLAN 0 with priority 0), in order; the UDP/TCP frames never reach user space
        assert [bytes.fromhex(g["data"]) for g in got] == expected, side
        sends = [s for s, (_n, _f, ok) in zip(r["sends"], FRAMES, strict=True) if ok]
        for g, f, (before, after) in zip(got, expected, sends, strict=True):
            assert g["wirelen"] == len(f)
            assert g["outgoing"] is outgoing  # frames the capturing host sent, seen on its own end
            assert g["interface"] == 0
            # the kernel's receive stamp, CLOCK_REALTIME in nanoseconds: between just before the
            # send and shortly after it (not when the block was handed over)
            assert before <= g["time_ns"] <= after + 100_000_000, (before, g["time_ns"], after)
        assert [g["time_ns"] for g in got] == sorted(g["time_ns"] for g in got)
        assert r["stats"][side] == [[len(expected), 0, 0]]


def test_ring_and_recvmsg_capture_the_same_frames_at_once() -> None:
    sent = [f for _n, f, _ok in FRAMES]
    passed = [f for _n, f, ok in FRAMES if ok]
    want = 2 * 3 * len(passed)  # seen leaving vq-tx and arriving on vq-rx, three rounds
    r = probe(COMPARE, json.dumps([f.hex() for f in sent]), str(want))
    assert r["methods"] == {"ring": ["ring", "ring"], "recvmsg": ["recvmsg", "recvmsg"]}
    ring, recvmsg = r["got"]["ring"], r["got"]["recvmsg"]
    assert len(ring) == want
    # identical records: bytes (tags restored), lengths, direction, interface, and the same kernel
    # timestamp (both read the receive stamp of the same packet). Each poll's frames are sorted, but
    # across polls the two interfaces interleave as their queues (ring blocks) are handed over.
    key = lambda g: (g["time_ns"], g["interface"])  # noqa: E731
    assert sorted(ring, key=key) == sorted(recvmsg, key=key)
    for interface, outgoing in ((0, False), (1, True)):
        mine = [bytes.fromhex(g["data"]) for g in ring if g["interface"] == interface]
        assert mine == passed * 3
        assert all(g["outgoing"] is outgoing for g in ring if g["interface"] == interface)
    assert r["stats"]["ring"] == r["stats"]["recvmsg"] == [[3 * len(passed), 0]] * 2


def test_a_burst_larger_than_the_ring_is_counted_as_kernel_drops() -> None:
    queue = 32768  # four blocks of 8 KiB: 252 frames of this size (42 bytes, 128 in the ring)
    burst = 3000
    r = probe(BURST, frame("arp").hex(), str(burst), str(queue))
    seqs, packets, drops, seqs2, packets2, drops2 = r["small"]
    # the ring kept the first frames, in order and without a hole, until it was full; every other
    # frame of the burst is a counted kernel drop: nothing is lost silently
    assert 0 < len(seqs) < 300 and seqs == list(range(len(seqs)))
    assert packets == len(seqs) and drops == burst - len(seqs)
    # once read, the blocks are the kernel's again: the next frames all arrive, no new drops
    assert seqs2 == list(range(burst, burst + 100))
    assert packets2 == len(seqs) + 100 and drops2 == drops
    # the default ring (4 MiB) absorbs the whole burst
    seqs, packets, drops, seqs2, packets2, drops2 = r["default"]
    assert seqs == list(range(burst)) and packets == burst and drops == 0
    assert seqs2 == list(range(burst, burst + 100)) and drops2 == 0


def test_ring_waits_without_spinning_and_follows_link_down_and_recreation() -> None:
    r = probe(LINK, frame("vrrp_v2").hex())
    assert r["idle_cpu"] < 0.2  # one second of polling an idle ring
    assert r["first"] == [frame("vrrp_v2").hex()]
    assert r["latency"] < RING_RETIRE_MS / 1000 + 0.2  # a lone frame waits for its block to retire
    assert r["down_cpu"] < 0.2  # the ENETDOWN error is read once, not reported forever
    assert r["down_stats"] == [["down", 1]]
    assert r["after_up"] == [frame("vrrp_v2").hex()]
    assert r["deleted"] == [["deleted"], ["none"]]
    # re-created under the same name: a new socket, filter and ring on the new interface
    assert r["recreated"] == [frame("vrrp_v2").hex()] * 5
    assert r["methods"] == ["ring"] and r["ifindex"][0] != r["ifindex"][1]
    assert r["gaps"] == [["down", False, True], ["deleted", True, True]]
    assert r["stats"] == [["up", 7, 0]]


def test_frames_still_in_the_ring_at_a_link_change_stay_outside_the_gap() -> None:
    r = probe(EDGES, frame("vrrp_v2").hex())
    gaps = r["gaps"]
    assert [g[0] for g in gaps] == ["no_carrier", "down", "deleted"]
    for (_reason, start, end), step in zip(gaps, ("carrier", "down", "deleted"), strict=True):
        # both captured, also the one received just before the interface was deleted (its ring is
        # read until the kernel has handed over its last block)
        stamps = r["stamps"][step]
        assert len(stamps) >= 2, (step, stamps)
        before, after = stamps[:2]
        # the frame received just before the link went is before the gap, the one just after it
        # came back after it: a gap is fixed only once the ring has handed over what it held
        assert before <= start < end <= after, (step, before, start, end, after)


def test_fallback_to_recvmsg_when_the_kernel_refuses_the_ring() -> None:
    r = probe(FALLBACK, frame("arp").hex())
    assert r["ring"].startswith("vq-rx: no packet ring: PACKET_RX_RING (TPACKET_V3): Invalid argument")
    method, methods, warnings = r["auto"]
    assert method == "auto" and methods == ["recvmsg"]
    assert len(warnings) == 1 and "no packet ring" in warnings[0] and "recvmsg" in warnings[0]
    assert r["auto_frames"] == [frame("arp").hex()]  # captured all the same
    assert r["env recvmsg"] == ["recvmsg", ["recvmsg"]]
    assert r["env ring"] == ["ring", ["ring"]]
    assert r["env "] == ["auto", ["ring"]]
    assert r["env mmap"] == "VRRPSCOPE_CAPTURE='mmap': unknown capture method (use auto, ring or recvmsg)"


@pytest.mark.parametrize("method", ["ring", "recvmsg"])
def test_unknown_method_argument_is_a_programming_error(method: str) -> None:
    from vrrpscope.live.capture import LiveCapture

    assert LiveCapture(["lo"], method=method).method == method  # nothing opened yet
    with pytest.raises(ValueError, match="unknown capture method"):
        LiveCapture(["lo"], method=method.upper())
