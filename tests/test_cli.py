"""The command line: documented commands, exit codes per DESIGN.md, decode output contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import ARP, Ether
from scapy.layers.vrrp import VRRP
from scapy.utils import wrpcap

from vrrpscope.cli import cli, main

BASE = 1_700_000_000.0


@pytest.fixture()
def small_capture(tmp_path: Path) -> Path:
    """Three VRRPv2 adverts with a simple-text password, a GARP and TCP noise."""
    pkts = []
    for i in range(3):
        p = (
            Ether(src="02:00:00:00:00:01", dst="01:00:5e:00:00:12")
            / IP(src="192.0.2.11", dst="224.0.0.18", ttl=255)
            / VRRP(
                vrid=51,
                priority=150,
                ipcount=1,
                addrlist=["192.0.2.100"],
                authtype=1,
                auth1=int.from_bytes(b"s3cr", "big"),
                auth2=int.from_bytes(b"et!!", "big"),
            )
        )
        p.time = BASE + i
        pkts.append(p)
    noise = (
        Ether(src="02:00:00:00:00:09", dst="02:00:00:00:00:08")
        / IP(src="198.51.100.1", dst="198.51.100.2")
        / TCP()
    )
    noise.time = BASE + 0.5
    garp = Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc="02:00:00:00:00:01", psrc="192.0.2.100", hwdst="ff:ff:ff:ff:ff:ff", pdst="192.0.2.100"
    )
    garp.time = BASE + 0.6
    pkts[1:1] = [noise, garp]
    path = tmp_path / "small.pcap"
    wrpcap(str(path), pkts)
    return path


def run(args: list[str]) -> tuple[int, str, str]:
    """Run the real console entry point in a subprocess; return (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", "from vrrpscope.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_every_command_is_documented_with_an_example() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "Example" in command.help, f"{name} lacks an Example block"


def test_help_exits_zero() -> None:
    code, out, _ = run(["--help"])
    assert code == 0 and "decode" in out and "analyze" in out


def test_bad_option_is_exit_3() -> None:
    code, _, err = run(["decode", "--no-such-option"])
    assert code == 3
    assert "Traceback" not in err


def test_missing_file_is_exit_3_with_one_line(tmp_path: Path) -> None:
    code, _, err = run(["decode", "-r", str(tmp_path / "nope.pcap")])
    assert code == 3
    assert "nope.pcap" in err and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1


def test_directory_is_exit_3(tmp_path: Path) -> None:
    code, _, err = run(["analyze", "-r", str(tmp_path)])
    assert code == 3 and "directory" in err


def test_decode_json_contract(small_capture: Path) -> None:
    code, out, err = run(["decode", "-r", str(small_capture), "--format", "json"])
    assert code == 0, err
    recs = [json.loads(line) for line in out.splitlines()]
    assert [r["frame"] for r in recs] == [1, 3, 4, 5]  # frame 2 is TCP noise: counted, not printed
    v = recs[0]
    for key in ("frame", "time", "segment", "src_mac", "dst_mac", "vlan", "proto"):
        assert key in v
    assert v["proto"] == "vrrp" and v["vrid"] == 51 and v["priority"] == 150
    assert v["version"] == 2 and v["auth_type"] == 1 and v["advert_int"] == 1.0
    assert v["addresses"] == ["192.0.2.100"] and v["ttl"] == 255 and v["family"] == "ipv4"
    assert v["checksum_ok"] is True and v["checksum_variant"] == "v2"
    assert v["auth_fingerprint"].startswith("sha256:")
    assert v["time"] == pytest.approx(BASE)
    garp = recs[1]
    assert garp["proto"] == "arp" and garp["gratuitous"] is True and garp["op"] == 1
    assert "s3cret!!" not in out
    assert "5 packets read" in err and "VRRP 3" in err and "ARP 1" in err


def test_show_secrets_prints_the_password(small_capture: Path) -> None:
    _, out, _ = run(["decode", "-r", str(small_capture), "--format", "json", "--show-secrets"])
    assert json.loads(out.splitlines()[0])["auth_data"] == "s3cret!!"
    _, table, _ = run(["decode", "-r", str(small_capture)])
    assert "s3cret!!" not in table and "sha256:" in table


def test_decode_from_stdin(small_capture: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from vrrpscope.cli import main; main()",
            "decode",
            "-r",
            "-",
            "--format",
            "json",
        ],
        input=small_capture.read_bytes(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0
    assert len(proc.stdout.decode().splitlines()) == 4


def test_garbage_file_is_exit_3_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.pcap"
    bad.write_bytes(b"this is not a capture file at all" * 10)
    code, _, err = run(["decode", "-r", str(bad)])
    assert code == 3
    assert "garbage.pcap" in err and "Traceback" not in err


def test_main_is_the_console_entry_point() -> None:
    assert callable(main)
