"""Where ``watch`` spends its time under an ARP storm: the live session fed from memory, profiled.

    .venv/bin/python bench/profile_live.py                     # 5 s of the 50k pkt/s storm, cProfile top 30
    .venv/bin/python bench/profile_live.py --sample            # statistical profile instead (no call overhead)
    .venv/bin/python bench/profile_live.py --no-profile --breakdown --what-if --capture-side
    .venv/bin/python bench/profile_live.py --pps 50000 --seconds 10 --top 40 --out /tmp/watch.prof

The frames are the storm of ``bench/live_storm.py`` (:func:`live_storm.storm_cycle`), stamped
``1/pps`` apart and handed to :class:`vrrpscope.live.session.WatchSession` by an in-memory
:class:`~vrrpscope.live.source.FrameSource` in batches of up to ``READ_BUDGET`` frames, with a
virtual clock, exactly as the capture loop would hand them over (ticks every 0.25 s and stats every
5 s of that clock included). Prints the session's cost per frame (µs, best of ``--repeat``), the
rate one core sustains, and the cyclic GC's share (``gc.callbacks``), then:

* ``--breakdown``: the cost of each per-frame stage (record, dissect, Packet, reconstructor,
  detectors), each timed on its own;
* ``--what-if``: the proposed speed-ups patched in at run time (GC tuning, no vantage dedup),
  frozen against plain dataclass records, and a ``PACKET_RX_RING`` block walk;
* ``--capture-side``: ``recvmsg`` over a socketpair carrying the same frames,
  :func:`vrrpscope.live.capture.parse_ancillary` on the ancillary data a packet socket delivers,
  and the :class:`CapturedFrame` record: what runs per frame in user space besides the session;
* the profile: cProfile listings by own and cumulative time, or with ``--sample`` a ``SIGPROF``
  sampler's (:class:`Sampler`), which has no per-call overhead.

``--wrap OUT -- ARGS`` runs ``vrrpscope ARGS`` in-process under the sampler (only the watch loop is
counted) and writes the report to OUT; ``live_storm.py --profile DIR`` uses it on the real socket.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TextIO

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from live_storm import storm_cycle  # noqa: E402

from dissectors.packet import clear_cache, dissect  # noqa: E402
from vrrpscope.analysis import AnalysisEngine  # noqa: E402
from vrrpscope.detectors import default_detectors  # noqa: E402
from vrrpscope.live.capture import (  # noqa: E402
    PACKET_AUXDATA,
    READ_BUDGET,
    SO_TIMESTAMPNS,
    SOL_PACKET,
    parse_ancillary,
)
from vrrpscope.live.session import WatchSession  # noqa: E402
from vrrpscope.live.source import CapturedFrame, InterfaceInfo, InterfaceStats  # noqa: E402
from vrrpscope.model import Packet  # noqa: E402
from vrrpscope.pipeline import InputCounts, segment_name  # noqa: E402
from vrrpscope.reconstruct.reconstructor import Reconstructor  # noqa: E402
from vrrpscope.sources.base import LINKTYPE_ETHERNET  # noqa: E402


class MemorySource:
    """A :class:`~vrrpscope.live.source.FrameSource` over frames in memory on a virtual clock.

    ``poll(timeout)`` returns the frames due within ``timeout`` (at most ``READ_BUDGET``), moving
    the clock to the last one returned, or by ``timeout`` when none is due.
    """

    def __init__(self, frames: list[bytes], pps: int, seconds: float, start: float = 1_700_000_000.0) -> None:
        self.frames = frames
        self.pps = pps
        self.total = int(pps * seconds)
        self.start = start
        self.pos = 0
        self.clock = start
        self.exhausted = False
        self._stats = InterfaceStats("storm0")
        self._info = InterfaceInfo(name="storm0", linktype=LINKTYPE_ETHERNET, index=0)

    @property
    def interfaces(self) -> list[InterfaceInfo]:
        """The one interface."""
        return [self._info]

    def open(self) -> None:
        """Nothing to open."""

    def now(self) -> float:
        """The virtual clock."""
        return self.clock

    def _time_ns(self, i: int) -> int:
        return int(self.start * 1e9) + i * 1_000_000_000 // self.pps

    def poll(self, timeout: float) -> list[CapturedFrame]:
        """Frames due within ``timeout`` of the virtual clock (at most ``READ_BUDGET``)."""
        if self.pos >= self.total:
            self.clock += max(timeout, 0.0)
            self.exhausted = True
            return []
        horizon_ns = int((self.clock + max(timeout, 0.0)) * 1e9)
        out: list[CapturedFrame] = []
        n = len(self.frames)
        while self.pos < self.total and len(out) < READ_BUDGET:
            t = self._time_ns(self.pos)
            if t > horizon_ns and out:
                break
            data = self.frames[self.pos % n]
            out.append(CapturedFrame(0, t, data, len(data), False))
            self.pos += 1
        self.clock = max(self.clock, out[-1].time)
        self._stats.packets += len(out)
        self._stats.last_packet = self.clock
        return out

    def stats(self) -> list[InterfaceStats]:
        """The interface's counters (no kernel, no drops)."""
        return [self._stats]

    def close(self) -> None:
        """Nothing to close."""
        self.exhausted = True


class GcTimer:
    """Times the cyclic garbage collector (``gc.callbacks``): CPU seconds and collections per generation."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._t0 = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.process_time()
        else:
            self.seconds += time.process_time() - self._t0
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def session_cost(frames: list[bytes], pps: int, seconds: float, profile: cProfile.Profile | None) -> float:
    """CPU seconds of one session run over the storm."""
    source = MemorySource(frames, pps, seconds)
    session = WatchSession(source, [], label="storm")
    t0 = time.process_time()
    if profile is not None:
        profile.enable()
    session.run()
    if profile is not None:
        profile.disable()
    return time.process_time() - t0


def _stage(frames: list[bytes], pps: int, total: int, stage: str) -> float:
    """CPU seconds of the per-frame work up to ``stage`` over ``total`` storm frames."""
    clear_cache()
    n = len(frames)
    step = 1.0 / pps
    counts = InputCounts(files=["storm"])
    recon = Reconstructor(files=["storm"])
    engine = AnalysisEngine(files=["storm"], detectors=default_detectors())
    t0 = time.process_time()
    for i in range(total):
        data = frames[i % n]
        t = 1_700_000_000.0 + i * step
        if stage == "frame":
            CapturedFrame(0, int(t * 1e9), data, len(data), False)
            continue
        d = dissect(1, data)
        if d is None or stage == "dissect":
            continue
        counts.count(d)
        packet = Packet(0, "storm", i + 1, t, segment_name(0, "storm0", d.link), d.link, d.ip, d.message, len(data))
        if stage == "packet":
            continue
        if stage == "reconstruct":
            recon.feed(packet)
        else:
            engine.feed(packet)
    return time.process_time() - t0


STAGES = (
    ("frame", "CapturedFrame record"),
    ("dissect", "dissect (cache cleared first)"),
    ("packet", "+ counts.count, segment_name, Packet"),
    ("reconstruct", "+ Reconstructor.feed (no detectors)"),
    ("engine", "+ detectors (AnalysisEngine.feed)"),
)


def breakdown(frames: list[bytes], pps: int, total: int, repeat: int) -> None:
    """Print the cumulative cost per frame of each stage (best of ``repeat``), and the increments."""
    prev = 0.0
    print(f"per-frame cost by stage, {total} frames, best of {repeat} (us/frame, cumulative / increment):")
    for stage, text in STAGES:
        best = min(_stage(frames, pps, total, stage) for _ in range(repeat)) / total * 1e6
        inc = best if stage in ("frame", "dissect") else best - prev
        print(f"  {text:<42} {best:7.2f}  {inc:+7.2f}")
        if stage != "frame":
            prev = best


def _best(frames: list[bytes], pps: int, seconds: float, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        clear_cache()
        gc.collect()
        runs.append(session_cost(frames, pps, seconds, None))
    return min(runs)


def what_if(frames: list[bytes], pps: int, seconds: float, repeat: int) -> None:
    """Measure proposed changes without editing the package: the session's cost per frame with the
    cyclic GC tuned and/or the vantage-point dedup bypassed (what a single-vantage fast path would
    save; live capture has one vantage point, so the dedup never finds anything), and the price of a
    frozen dataclass record against a plain slotted one (``CapturedFrame``, ``Packet``, ``FrameRef``)."""
    from vrrpscope.reconstruct.dedup import VantageDedup

    total = int(pps * seconds)
    original_seen = VantageDedup.seen
    old_threshold = gc.get_threshold()

    def skip_seen(self: VantageDedup, packet: Packet) -> None:
        return None

    cases: list[tuple[str, tuple[int, int, int] | None, bool]] = [
        ("as is", None, False),
        ("gc.freeze() + gc.set_threshold(50_000, 20, 100)", (50_000, 20, 100), False),
        ("dedup bypassed (single vantage point)", None, True),
        ("both", (50_000, 20, 100), True),
    ]
    print(f"what-if, session only, {total} frames, best of {repeat} (us/frame, frames/s on one core):")
    base = 0.0
    try:
        for text, threshold, bypass in cases:
            VantageDedup.seen = skip_seen if bypass else original_seen  # type: ignore[method-assign]
            if threshold is not None:
                gc.freeze()
                gc.set_threshold(*threshold)
            cost = _best(frames, pps, seconds, repeat) / total * 1e6
            gc.unfreeze()
            gc.set_threshold(*old_threshold)
            base = base or cost
            print(f"  {text:<50} {cost:7.2f}  {1e6 / cost:9,.0f}  ({100 * (cost - base) / base:+.0f} %)")
    finally:
        VantageDedup.seen = original_seen  # type: ignore[method-assign]
        gc.unfreeze()
        gc.set_threshold(*old_threshold)

    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class Frozen:
        interface: int
        time_ns: int
        data: bytes
        wirelen: int
        outgoing: bool

    @dataclass(slots=True)
    class Plain:
        interface: int
        time_ns: int
        data: bytes
        wirelen: int
        outgoing: bool

    n = 200_000
    data = frames[0]
    for cls in (Frozen, Plain, CapturedFrame):
        t0 = time.process_time()
        for i in range(n):
            cls(0, i, data, 60, False)
        label = {Frozen: "frozen slotted dataclass (5 fields)", Plain: "plain slotted dataclass (5 fields)"}.get(
            cls, "CapturedFrame (frozen, + __post_init__)"
        )
        print(f"  {label:<50} {(time.process_time() - t0) / n * 1e6:7.2f} us per record")
    print(
        f"  {'TPACKET_V3 ring walk (header unpack + copy + record)':<50} {ring_walk_cost(frames) * 1e6:7.2f} us/frame"
    )


#: ``struct tpacket3_hdr`` (linux/if_packet.h) up to ``tp_vlan_tpid``: next offset, sec, nsec,
#: snaplen, len, status, mac, net, rxhash, vlan_tci, vlan_tpid.
TPACKET3_HDR = struct.Struct("=IIIIIIHHIIH")


def ring_walk_cost(frames: list[bytes], per_block: int = 512, blocks: int = 100) -> float:
    """CPU seconds per frame of reading frames out of a ``PACKET_RX_RING`` (TPACKET_V3) block in
    Python: unpack each ``tpacket3_hdr``, copy the frame out, make the :class:`CapturedFrame`.

    The block is built in memory in the kernel's layout (48-byte headers, frames 16-byte aligned),
    so this is the user-space price of a ring, which needs no system call per frame.
    """
    block = bytearray()
    offsets = []
    for i in range(per_block):
        data = frames[i % len(frames)]
        mac = 48 + 2  # the kernel aligns the network header (TPACKET_ALIGN(hdrlen) + NET_IP_ALIGN)
        size = (mac + len(data) + 15) & ~15
        offsets.append(len(block))
        hdr = TPACKET3_HDR.pack(
            size if i < per_block - 1 else 0, 1_700_000_000, i, len(data), len(data), 1, mac, mac + 14, 0, 0, 0
        )
        block += hdr + bytes(mac - len(hdr)) + data + bytes(size - mac - len(data))
    view = memoryview(bytes(block))
    unpack = TPACKET3_HDR.unpack_from
    t0 = time.process_time()
    for _ in range(blocks):
        off = 0
        out = []
        for _ in range(per_block):
            nxt, sec, nsec, snap, length, status, mac, _net, _hash, tci, tpid = unpack(view, off)
            data = view[off + mac : off + mac + snap].tobytes()
            if tci or status & 0x10:  # TP_STATUS_VLAN_VALID: a stripped tag to put back (none here)
                data = data[:12] + struct.pack("!HH", tpid or 0x8100, tci) + data[12:]
            out.append(CapturedFrame(0, sec * 1_000_000_000 + nsec, data, length, False))
            off += nxt
    return (time.process_time() - t0) / (blocks * per_block)


def capture_side_cost(frames: list[bytes], count: int) -> float:
    """CPU seconds per frame of the capture's user-space part: ``recvmsg`` with the ancillary data
    watch asks for, :func:`parse_ancillary`, and the :class:`CapturedFrame`, over a socketpair
    carrying the storm frames (the ancillary data is the layout a packet socket delivers)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    b.setblocking(False)
    # the same cmsg layout a packet socket produces: SO_TIMESTAMPNS and PACKET_AUXDATA
    anc = [
        (socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("=qq", 1_700_000_000, 5)),
        (SOL_PACKET, PACKET_AUXDATA, struct.pack("=IIIHHHH", 1, 60, 60, 0, 14, 0, 0)),
    ]
    total = 0.0
    done = 0
    while done < count:
        batch = frames[: min(8, count - done)]  # an AF_UNIX datagram queue holds 10 (max_dgram_qlen)
        for f in batch:
            a.send(f)
        t0 = time.process_time()
        for _ in range(len(batch)):
            data, _ancdata, _flags, _addr = b.recvmsg(65536, 256)
            stamp, aux = parse_ancillary(anc)
            wirelen = max(aux[1], len(data)) if aux is not None else len(data)
            CapturedFrame(0, stamp or 0, data, wirelen, False)
        total += time.process_time() - t0
        done += len(batch)
    a.close()
    b.close()
    return total / count


class Sampler:
    """A statistical profiler: ``SIGPROF`` every ``interval`` s of CPU time records the Python stack.

    Unlike cProfile it adds no per-call overhead, so the shares of cheap, frequently called
    functions are not inflated. ``self`` counts samples whose innermost frame is the function,
    ``total`` samples with the function anywhere on the stack.
    """

    def __init__(self, interval: float = 0.0005, within: str | None = None) -> None:
        self.interval = interval
        #: Count only samples with this function (``file.py:name``) on the stack (``None``: all).
        self.within = within
        #: Samples counted (with ``within`` on the stack) and taken in all.
        self.samples = 0
        self.taken = 0
        self.cpu = 0.0
        self.own: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def _handler(self, _signum: int, frame: FrameType | None) -> None:
        self.taken += 1
        if self.within is not None:
            f = frame
            while f is not None and f"{Path(f.f_code.co_filename).name}:{f.f_code.co_name}" != self.within:
                f = f.f_back
            if f is None:
                return
        self.samples += 1
        seen: set[str] = set()
        inner = True
        while frame is not None:
            code = frame.f_code
            name = f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})"
            if code.co_filename == "<string>":  # a dataclass-generated method: name its class
                obj = frame.f_locals.get("self")
                name = f"{type(obj).__name__}.{code.co_name} (generated)"
            if inner:
                self.own[name] = self.own.get(name, 0) + 1
                inner = False
            if name not in seen:
                seen.add(name)
                self.total[name] = self.total.get(name, 0) + 1
            frame = frame.f_back

    def __enter__(self) -> Sampler:
        self.cpu = time.process_time()
        signal.signal(signal.SIGPROF, self._handler)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)
        self.cpu = time.process_time() - self.cpu

    def report(self, top: int, out: TextIO = sys.stdout) -> None:
        """Print the top functions by own and by inclusive share of the samples.

        A sample lands on the Python frame running when the handler gets to run; a collection of the
        cyclic GC runs inside an allocation, and Python runs signal handlers
        between bytecodes, so GC time shows up as the own time of whatever allocated (often a
        dataclass ``__init__``); :class:`GcTimer` measures it separately.
        """
        where = f" within {self.within}" if self.within else ""
        # the kernel fires ITIMER_PROF from its scheduler tick, so the real interval is 1/HZ at best
        every = self.cpu / max(1, self.taken) * 1e3
        for title, table in (("own time", self.own), ("inclusive time", self.total)):
            print(f"sampled {title}{where} ({self.samples} samples, one per {every:.1f} ms of CPU):", file=out)
            for name, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
                print(f"  {100.0 * n / max(1, self.samples):5.1f} %  {name}", file=out)


def wrap(out_path: str, argv: list[str], top: int) -> int:
    """Run ``vrrpscope ARGV`` in this process under :class:`Sampler` (only the watch loop counted)
    and :class:`GcTimer`; write the report to ``out_path`` when it exits (``live_storm --profile``)."""
    from vrrpscope.cli import main as cli_main

    status = 0
    t0 = time.process_time()
    with GcTimer() as gct, Sampler(within="session.py:_run") as sampler:
        try:
            cli_main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 0
    cpu = time.process_time() - t0
    with open(out_path, "w") as fh:
        print(
            f"process CPU {cpu:.3f} s; cyclic GC {gct.seconds:.3f} s ({100 * gct.seconds / max(cpu, 1e-9):.0f} %), "
            f"collections per generation {gct.collections}",
            file=fh,
        )
        sampler.report(top, fh)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run the session over the storm, print the cost and the profile."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pps", type=int, default=50_000, help="storm rate (frame spacing and advert interval)")
    ap.add_argument("--seconds", type=float, default=5.0, help="seconds of storm fed through the session")
    ap.add_argument("--top", type=int, default=30, help="profile lines shown per listing")
    ap.add_argument("--out", help="also write the raw profile to this file (for snakeviz, pstats)")
    ap.add_argument("--no-profile", action="store_true", help="time only")
    ap.add_argument("--sample", action="store_true", help="statistical profile (SIGPROF) instead of cProfile")
    ap.add_argument("--capture-side", action="store_true", help="also time recvmsg + parse_ancillary per frame")
    ap.add_argument("--breakdown", action="store_true", help="also time the per-frame stages one by one")
    ap.add_argument("--what-if", action="store_true", help="also measure the proposed speed-ups (see what_if)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (the best is kept)")
    ap.add_argument("--wrap", metavar="OUT", help="run `vrrpscope ARGS...` (after --) sampled; report to OUT")
    ap.add_argument("cli_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.wrap:
        cli_args = args.cli_args[1:] if args.cli_args[:1] == ["--"] else args.cli_args
        return wrap(args.wrap, cli_args, args.top)

    frames = storm_cycle(args.pps)
    total = int(args.pps * args.seconds)
    runs = []
    for _ in range(args.repeat):
        clear_cache()
        with GcTimer() as gct:
            cost = session_cost(frames, args.pps, args.seconds, None)
        runs.append((cost, gct))
    bare, gct = min(runs, key=lambda r: r[0])
    print(
        f"session without profiler: {total} frames in {bare:.3f} s CPU = {bare / total * 1e6:.2f} us/frame, "
        f"{total / bare:,.0f} frames/s on one core (best of {args.repeat})"
    )
    print(
        f"  of which cyclic GC: {gct.seconds:.3f} s = {gct.seconds / total * 1e6:.2f} us/frame "
        f"({100 * gct.seconds / bare:.0f} %), collections per generation {gct.collections}"
    )
    if args.breakdown:
        breakdown(frames, args.pps, total, args.repeat)
    if args.what_if:
        what_if(frames, args.pps, args.seconds, args.repeat)
    if args.capture_side:
        per = capture_side_cost(frames, min(total, 200_000))
        print(f"capture side (recvmsg + parse_ancillary + CapturedFrame): {per * 1e6:.2f} us/frame")
    if args.no_profile:
        return 0
    if args.sample:
        clear_cache()
        with Sampler() as sampler:
            session_cost(frames, args.pps, args.seconds, None)
        sampler.report(args.top)
        return 0
    clear_cache()
    prof = cProfile.Profile()
    cost = session_cost(frames, args.pps, args.seconds, prof)
    print(f"session under cProfile: {cost:.3f} s CPU")
    if args.out:
        prof.dump_stats(args.out)
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
