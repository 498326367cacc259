"""Throughput of vrrpscope against tcpdump, tshark and scapy, measured in one run on the same files.

    python bench/run.py                       # 1M-packet pcap and pcapng, generated if missing
    python bench/run.py --packets 200000      # quicker
    python bench/run.py --slow-packets 100000 # tshark and scapy read only the first N packets
    python bench/run.py --jobs 2              # add parallel analyze rows (-j 2)
    python bench/run.py --scale               # scale-out curve: analyze with 1..N workers

Prints packets/s, MB/s, peak RSS and the ratio against tcpdump for every tool, and appends the
results to bench/results/history.jsonl so regressions are visible over time. Numbers are measured,
never asserted: there is no timed test in the suite.

What is compared (each tool asked the same question: which frames are VRRP/ARP/ND?):
  tcpdump   tcpdump -r FILE -w /dev/null with the equivalent BPF filter (C, libpcap)
  tshark    tshark -r FILE -Y 'vrrp || arp || icmpv6.type == 135 || icmpv6.type == 136'
  scapy     RawPcapReader / RawPcapNgReader walk (records only, no dissection)
  dpkt      dpkt.pcap.Reader / dpkt.pcapng.Reader walk (records only; when dpkt is installed)
  vrrpscope decode --format json > /dev/null, and analyze --format json --jobs 1 > /dev/null
  analyze -j N  the same command with N worker processes (the capture is split into N parts)
Slow tools read a prefix file of --slow-packets packets; packets/s is computed on what they read.
Then start-up on a tiny real capture: vrrpscope analyze --format json against tshark -Y vrrp.

The big comparison the issue asks for (10 million packets, ~7.3 GB per format):
    python bench/run.py --packets 10000000 --slow-packets 100000 --scale
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
PY = sys.executable

BPF = (
    "ip proto 112 or ip proto 51 or arp or ip6 proto 112 or icmp6 or "
    "(vlan and (ip proto 112 or ip proto 51 or arp or ip6 proto 112 or icmp6))"
)
TSHARK_FILTER = "vrrp || arp || icmpv6.type == 135 || icmpv6.type == 136"


def measure(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB, exit status)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def ensure_capture(packets: int, fmt: str) -> Path:
    """Generate the deterministic capture of ``packets`` packets in ``fmt`` unless it exists."""
    path = DATA / f"mixed-{packets}.{fmt}"
    if not path.exists():
        subprocess.run(
            [PY, str(HERE / "make_capture.py"), "--packets", str(packets), "--format", fmt, "--out", str(path)],
            check=True,
        )
    return path


SCAPY_WALK = """
import sys
from scapy.utils import RawPcapReader, RawPcapNgReader
path = sys.argv[1]
reader = RawPcapNgReader(path) if path.endswith('ng') else RawPcapReader(path)
n = 0
for data, meta in reader:
    n += 1
print(n)
"""


DPKT_WALK = """
import sys
import dpkt
path = sys.argv[1]
with open(path, 'rb') as fh:
    reader = dpkt.pcapng.Reader(fh) if path.endswith('ng') else dpkt.pcap.Reader(fh)
    n = 0
    for ts, buf in reader:
        n += 1
print(n)
"""

#: A small real capture for the start-up comparison (what an on-call engineer runs first).
TINY = ROOT / "samples" / "real" / "failover" / "capture.pcap"


def _have(module: str) -> bool:
    """True when ``module`` imports in this interpreter."""
    return subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    """Run every comparison and return the result rows."""
    rows: list[dict[str, object]] = []
    vrrpscope = str(Path(PY).parent / "vrrpscope")
    for fmt in args.formats:
        big = ensure_capture(args.packets, fmt)
        small = ensure_capture(min(args.slow_packets, args.packets), fmt)
        size_mb = big.stat().st_size / 1e6
        small_mb = small.stat().st_size / 1e6
        tools: list[tuple[str, list[str], Path, int, float]] = []
        if shutil.which("tcpdump"):
            tools.append(("tcpdump", ["tcpdump", "-r", str(big), "-w", "/dev/null", BPF], big, args.packets, size_mb))
        decode_cmd = [vrrpscope, "decode", "-r", str(big), "--format", "json"]
        tools.append(("vrrpscope decode", decode_cmd, big, args.packets, size_mb))
        # The one-core figure: one process, no workers.
        analyze_cmd = [vrrpscope, "analyze", "-r", str(big), "--format", "json", "--jobs", "1"]
        tools.append(("vrrpscope analyze", analyze_cmd, big, args.packets, size_mb))
        workers = sorted(set(range(2, (os.cpu_count() or 1) + 1) if args.scale else []) | set(args.jobs))
        for n in workers:
            # The command line with N workers (a classic pcap or a pcapng is split at verified
            # record or block boundaries).
            cmd = [vrrpscope, "analyze", "-r", str(big), "--format", "json", "--jobs", str(n)]
            tools.append((f"vrrpscope analyze -j {n}", cmd, big, args.packets, size_mb))
        n_small = min(args.slow_packets, args.packets)
        if shutil.which("tshark"):
            tools.append(("tshark", ["tshark", "-r", str(small), "-Y", TSHARK_FILTER], small, n_small, small_mb))
        tools.append(("scapy RawPcapReader", [PY, "-c", SCAPY_WALK, str(small)], small, n_small, small_mb))
        if _have("dpkt"):
            tools.append(("dpkt Reader", [PY, "-c", DPKT_WALK, str(small)], small, n_small, small_mb))
        base_pps: float | None = None
        for name, cmd, _path, n, mb in tools:
            best: tuple[float, float, int] | None = None
            for _ in range(args.repeat):
                res = measure(cmd)
                if best is None or res[0] < best[0]:
                    best = res
            assert best is not None
            wall, rss, status = best
            pps = n / wall
            if name == "tcpdump":
                base_pps = pps
            rows.append(
                {
                    "format": fmt,
                    "file_mb": round(mb, 1),
                    "tool": name,
                    "packets": n,
                    "seconds": round(wall, 3),
                    "pps": round(pps),
                    "mb_s": round(mb / wall, 1),
                    "peak_rss_mb": round(rss, 1),
                    "ratio_vs_tcpdump": round(pps / base_pps, 4) if base_pps else None,
                    "status": status,
                }
            )
    rows.extend(startup_rows(args.repeat, vrrpscope))
    return rows


def startup_rows(repeat: int, vrrpscope: str) -> list[dict[str, object]]:
    """Start-up on a tiny capture: ``analyze --format json`` against ``tshark -Y vrrp``."""
    size_mb = TINY.stat().st_size / 1e6
    tools = [("tshark -Y vrrp", ["tshark", "-r", str(TINY), "-Y", "vrrp"])] if shutil.which("tshark") else []
    tools.append(("vrrpscope analyze", [vrrpscope, "analyze", "-r", str(TINY), "--format", "json"]))
    rows: list[dict[str, object]] = []
    base: float | None = None
    for name, cmd in tools:
        wall, rss, status = min((measure(cmd) for _ in range(max(repeat, 3))), key=lambda r: r[0])
        if name.startswith("tshark"):
            base = wall
        rows.append(
            {
                "format": "tiny",
                "file_mb": round(size_mb, 3),
                "tool": name,
                "packets": 0,
                "seconds": round(wall, 3),
                "pps": 0,
                "mb_s": 0,
                "peak_rss_mb": round(rss, 1),
                "ratio_vs_tcpdump": None,
                "ratio_vs_tshark": round(base / wall, 3) if base else None,
                "status": status,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: run, print the table, append to the history file."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--slow-packets", type=int, default=100_000)
    ap.add_argument("--formats", nargs="+", default=["pcap", "pcapng"], choices=["pcap", "pcapng"])
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is kept")
    ap.add_argument("--jobs", type=int, nargs="*", default=[], help="add parallel analyze rows with N workers")
    ap.add_argument("--scale", action="store_true", help="parallel analyze rows for 1..cores workers")
    args = ap.parse_args(argv)
    # Byte-compile the package first, as an installed package is: with PYTHONDONTWRITEBYTECODE set
    # (some CI images) every start would otherwise recompile every module.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "vrrpscope"), str(ROOT / "dissectors")], check=False)
    rows = run(args)
    header = (
        f"{'format':7} {'tool':22} {'packets':>9} {'seconds':>8} {'pkts/s':>11} {'MB/s':>8} {'RSS MB':>7} "
        f"{'x tcpdump':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if r["format"] == "tiny":
            continue
        ratio = r["ratio_vs_tcpdump"]
        ratio_txt = f"{ratio:.3f}" if isinstance(ratio, float) else "-"
        flag = "" if r["status"] == 0 else f"  (exit {r['status']})"
        print(
            f"{r['format']:7} {r['tool']:22} {r['packets']:>9} {r['seconds']:>8} {r['pps']:>11,} "
            f"{r['mb_s']:>8} {r['peak_rss_mb']:>7} {ratio_txt:>9}{flag}"
        )
    tiny = [r for r in rows if r["format"] == "tiny"]
    if tiny:
        print(f"\nstart-up on a tiny capture ({TINY.relative_to(ROOT)}), best of {max(args.repeat, 3)}:")
        for r in tiny:
            vs = r["ratio_vs_tshark"]
            vs_txt = f"  {vs:.2f}x tshark's speed" if isinstance(vs, float) else ""
            print(f"  {r['tool']:22} {r['seconds']:>6} s  RSS {r['peak_rss_mb']} MB{vs_txt}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "history.jsonl").open("a") as fh:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for r in rows:
            fh.write(json.dumps({"when": stamp, "host": platform.node(), **r}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
