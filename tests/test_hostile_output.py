"""Output safety against a hostile capture (samples/hostile/hostile.pcapng) with a hostile file name.

The capture's ``if_name`` (the segment name in every output) and its VRRPv2 passwords carry ANSI
escape sequences (ESC[2J, ESC]0;title BEL), a C1 CSI, other control characters, ``<script>``,
quotes and ``&``; the file is read under the name ``x<script>\\x1b[31m.pcap``. Every output of the
real command line is checked (decode table/json, analyze table/json/csv, report HTML):

- nothing a terminal would act on (C0 other than newline, DEL, C1) reaches stdout or stderr;
- the HTML report escapes everything: its only ``<script`` is the report's own inline script;
- JSON stays valid and carries the hostile strings faithfully (escaped by JSON itself);
- no password appears anywhere without ``--show-secrets``, and it does appear with it.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hostile" / "hostile.pcapng"
SCRIPT = ROOT / "samples" / "hostile" / "hostile.pcapng.py"
HOSTILE_NAME = "x<script>\x1b[31m\u202egnp.pcap"  # U+202E: "pcap.png" shown reversed
IF_NAME = "eth0\x1b[2J\x1b]0;pwned\x07\u009b31m<script>alert(1)</script>\"'&amp;\x01\x08\x7f"
PASSWORDS = ("\x1b[2J<&'\"", "\x1b]0;t\x07\x9b>", "S3cr3tPw")
#: Substrings of the passwords that occur in no other string of the capture, in every encoding an
#: output might use (raw, \\xNN-escaped, JSON, HTML): finding any of them means a password leaked.
SECRET_NEEDLES = ("S3cr3tPw", "[2J<&", "[2J&lt;&amp;", "]0;t")
#: What a terminal acts on: C0 controls except newline (and tab), DEL, C1 controls; and the
#: bidirectional and zero-width format characters that reorder or hide what is read.
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


@dataclass
class Outputs:
    """Everything the CLI produced for the hostile capture, keyed by a short output name."""

    text: dict[str, str]  #: stdout/stderr of each run and the files it wrote, decoded as UTF-8
    codes: dict[str, int]  #: exit code of each run


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from vrrpscope.cli import main; main()", *args],
        capture_output=True,
        cwd=cwd,
        timeout=120,
    )


def _collect(tmp: Path, secrets: bool) -> Outputs:
    flag = ["--show-secrets"] if secrets else []
    runs = {
        "decode_table": ["decode", "-r", HOSTILE_NAME, *flag],
        "decode_json": ["decode", "-r", HOSTILE_NAME, "--format", "json", *flag],
        "analyze_table": ["analyze", "-r", HOSTILE_NAME, "--report", "analyze.html", *flag],
        "analyze_json": ["analyze", "-r", HOSTILE_NAME, "--format", "json", *flag],
        "analyze_csv": ["analyze", "-r", HOSTILE_NAME, "--format", "csv", "--out", "csv", *flag],
        "report": ["report", "-r", HOSTILE_NAME, "-o", "report.html", *flag],
        # --segment: the captured name shown as renamed (table, report) and in the note listing
        # the segments seen when a rename matched nothing
        "analyze_renamed": [
            "analyze", "-r", HOSTILE_NAME, "--segment", f"{IF_NAME}=lan", "--segment", "no\x1b[2Jne=x",
            "--report", "renamed.html", *flag,
        ],
    }  # fmt: skip
    text: dict[str, str] = {}
    codes: dict[str, int] = {}
    for name, args in runs.items():
        proc = _run(args, tmp)
        codes[name] = proc.returncode
        text[f"{name}.stdout"] = proc.stdout.decode("utf-8")
        text[f"{name}.stderr"] = proc.stderr.decode("utf-8")
    for path in [
        tmp / "analyze.html", tmp / "report.html", tmp / "renamed.html", *sorted((tmp / "csv").glob("*.csv"))
    ]:  # fmt: skip
        text[f"file:{path.relative_to(tmp)}"] = path.read_text(encoding="utf-8")
    return Outputs(text, codes)


@pytest.fixture(scope="module", params=[False, True], ids=["default", "show-secrets"])
def outputs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[bool, Outputs]:
    """Run every command once on the hostile capture (copied under the hostile name)."""
    tmp = tmp_path_factory.mktemp("hostile")
    shutil.copyfile(SAMPLE, tmp / HOSTILE_NAME)
    return request.param, _collect(tmp, request.param)


def test_sample_is_reproducible_from_its_script(tmp_path: Path) -> None:
    out = tmp_path / "h.pcapng"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, timeout=120)
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_every_command_succeeds(outputs: tuple[bool, Outputs]) -> None:
    _, out = outputs
    assert out.codes == dict.fromkeys(out.codes, 0), {k: out.text[f"{k}.stderr"] for k in out.codes}


def test_the_hostile_strings_really_reach_the_pipeline(outputs: tuple[bool, Outputs]) -> None:
    """Guard against a test that passes because the attack never arrived: JSON carries it faithfully."""
    _, out = outputs
    first = json.loads(out.text["decode_json.stdout"].splitlines()[0])
    assert first["segment"] == IF_NAME
    data = json.loads(out.text["analyze_json.stdout"])
    assert data["input"]["files"] == [HOSTILE_NAME]
    assert {g["segment"] for g in data["groups"]} == {IF_NAME}


def test_no_terminal_control_character_in_any_terminal_or_text_output(outputs: tuple[bool, Outputs]) -> None:
    _, out = outputs
    for name, text in out.text.items():
        bad = TERMINAL_CONTROL.findall(text)
        assert not bad, f"{name}: raw control characters {sorted(set(bad))!r}"
    # the terminal outputs show the escapes visibly instead
    assert "eth0\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m" in out.text["decode_table.stdout"]
    assert "x<script>\\x1b[31m\\u202egnp.pcap" in out.text["analyze_table.stdout"]
    renamed, note = out.text["analyze_renamed.stdout"], out.text["analyze_renamed.stderr"]
    assert "segments renamed (--segment): eth0\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m" in renamed
    assert "--segment no\\x1b[2Jne=... renamed nothing" in note and "(segments seen: eth0\\x1b[2J" in note


def test_json_outputs_are_valid(outputs: tuple[bool, Outputs]) -> None:
    _, out = outputs
    lines = out.text["decode_json.stdout"].splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["frame"] for r in records] == list(range(1, 12))
    assert records[-1]["proto"] == "malformed"
    data = json.loads(out.text["analyze_json.stdout"])
    assert data["input"]["packets"] == 11 and data["input"]["malformed"] == 1


@pytest.mark.parametrize("page", ["file:report.html", "file:analyze.html", "file:renamed.html"])
def test_html_escapes_everything(outputs: tuple[bool, Outputs], page: str) -> None:
    _, out = outputs
    doc = out.text[page]
    # the report's own inline script is the only script element; no data-made tag of any kind
    assert len(re.findall(r"<script", doc, flags=re.IGNORECASE)) == 1
    assert "<script>alert" not in doc and "x<script>" not in doc
    assert html.escape("<script>alert(1)</script>", quote=True) in doc
    assert html.escape(HOSTILE_NAME.replace("\x1b", "\\x1b").replace("\u202e", "\\u202e"), quote=True) in doc
    # no attribute broken out of: every data quote is an entity
    assert "\"'&amp;amp;" not in doc and "&#34;&#39;&amp;amp;" in doc


def test_csv_is_parseable_and_defused(outputs: tuple[bool, Outputs]) -> None:
    _, out = outputs
    rows = list(csv.DictReader(out.text["file:csv/routers.csv"].splitlines()))
    visible = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", IF_NAME)
    assert {r["segment"] for r in rows} == {visible}


def test_passwords_appear_only_with_show_secrets(outputs: tuple[bool, Outputs]) -> None:
    secrets, out = outputs
    if not secrets:
        for name, text in out.text.items():
            leaked = [n for n in SECRET_NEEDLES if n in text]
            assert not leaked, f"{name} leaks {leaked!r} without --show-secrets"
        return
    # decode table and JSON Lines
    assert "simple('S3cr3tPw')" in out.text["decode_table.stdout"]
    assert "simple('\\x1b]0;t\\x07\\x9b>')" in out.text["decode_table.stdout"]  # escaped once, not twice
    decoded = [json.loads(line) for line in out.text["decode_json.stdout"].splitlines()]
    assert {r.get("auth_data") for r in decoded if r["proto"] == "vrrp"} == set(PASSWORDS)
    # analyze JSON: per router
    data = json.loads(out.text["analyze_json.stdout"])
    passwords = {r["ip"]: r["auth"]["password"] for g in data["groups"] for r in g["routers"]}
    assert passwords == {"192.0.2.1": PASSWORDS[0], "192.0.2.2": PASSWORDS[1], "192.0.2.3": PASSWORDS[2]}
    # terminal table, CSV and both HTML reports show it too (escaped)
    assert "password 'S3cr3tPw'" in out.text["analyze_table.stdout"]
    rows = list(csv.DictReader(out.text["file:csv/routers.csv"].splitlines()))
    assert {r["ip"]: r["auth_password"] for r in rows}["192.0.2.3"] == "S3cr3tPw"
    for page in ("file:report.html", "file:analyze.html"):
        assert "password S3cr3tPw" in out.text[page]
        assert "password \\x1b[2J&lt;&amp;&#39;&#34;" in out.text[page]
