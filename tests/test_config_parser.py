"""keepalived.conf parser: reading rules, includes, values, derived facts — with keepalived as the oracle.

The reading rules (comments, quotes, braces, includes) and the derived facts (VRRP version, advert
interval rounding, password truncation) were established by running Debian's keepalived 2.2.7 and are
re-checked here against it: ``keepalived -t`` (config test) and ``keepalived -d`` (configuration
dump) run inside a network namespace this module creates (keepalived checks that the configured
interfaces exist, so the namespace gets its own ``eth0``/``eth1``). Those tests are marked ``lab``
and skip without root or keepalived, unless ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from dissectors.records import secret_fingerprint
from vrrpscope.config import keywords as kw
from vrrpscope.config.model import KeepalivedConfig, Location, VrrpInstance
from vrrpscope.config.parser import (
    advert_int_seconds,
    expand_braces,
    parse_file,
    parse_files,
    parse_text,
)

DATA = Path(__file__).parent / "data" / "keepalived"
CLEAN = [DATA / "clean" / "lv1.conf", DATA / "clean" / "lv2.conf"]
IN_CI = os.environ.get("CI") == "true"


# --------------------------------------------------------------------------------------------------
# keepalived in a throw-away network namespace (shared with test_lint.py)


def keepalived_missing_reason() -> str | None:
    """Why keepalived cannot be run here, or None."""
    if shutil.which("keepalived") is None:
        return "keepalived is not installed"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    if os.geteuid() != 0:
        return "keepalived -t needs the configured interfaces: a network namespace, hence root"
    return None


def need_keepalived() -> None:
    """Skip (or fail under CI=true) when keepalived cannot be run."""
    reason = keepalived_missing_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def keepalived_netns(interfaces: tuple[str, ...] = ("eth0", "eth1")) -> Iterator[str]:
    """A namespace with a veth pair named after ``interfaces`` (lab naming, so stale ones get swept)."""
    name = f"vs-{os.getpid()}-{secrets.token_hex(3)}-kcfg"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        a, b = interfaces
        subprocess.run(
            ["ip", "-n", name, "link", "add", a, "type", "veth", "peer", "name", b],
            check=True,
            capture_output=True,
        )
        for ifname in ("lo", a, b):
            subprocess.run(["ip", "-n", name, "link", "set", ifname, "up"], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def keepalived_test(ns: str, conf: Path) -> tuple[int, str]:
    """``keepalived -t -f CONF`` in ``ns``: (exit code, messages)."""
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, "keepalived", "-t", "-f", str(conf.resolve())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout + proc.stderr


def keepalived_dump(ns: str, conf: Path, workdir: Path) -> str:
    """Start keepalived (VRRP only, no fork, console log, ``-d`` dump) in ``ns``; return its output
    up to the end of the VRRP topology dump, then stop it by PID."""
    cmd = [
        "ip", "netns", "exec", ns, "keepalived", "-n", "-l", "-D", "-d", "-P",
        "-f", str(conf.resolve()), "-p", str(workdir / "k.pid"), "-r", str(workdir / "v.pid"),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline and b"------< Interfaces >------" not in buf:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buf += chunk
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
    lines = buf.decode("utf-8", "replace").splitlines()
    stamp = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}: ?")
    return "\n".join(stamp.sub("", line) for line in lines)


def dumped_instances(dump: str) -> dict[str, dict[str, object]]:
    """Per instance of a ``keepalived -d`` dump: version, state, interface, vrid, priority,
    advert interval (seconds), password, VIPs."""
    out: dict[str, dict[str, object]] = {}
    topo = dump.split("------< VRRP Topology >------", 1)[-1].split("------< Interfaces >------", 1)[0]
    for block in re.split(r"^ VRRP Instance = ", topo, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        info: dict[str, object] = {"vips": []}
        in_vips = False
        for line in body.splitlines():
            s = line.strip()
            if in_vips and line.startswith("     ") and not line.startswith("      "):
                vips = info["vips"]
                assert isinstance(vips, list)
                vips.append(s.split()[0])
                continue
            in_vips = False
            if s.startswith("VRRP Version = "):
                info["version"] = int(s.split("= ")[1])
            elif s.startswith("Wantstate = "):
                info["state"] = s.split("= ")[1]
            elif s.startswith("Interface = "):
                info["interface"] = s.split("= ")[1]
            elif s.startswith("Virtual Router ID = "):
                info["vrid"] = int(s.split("= ")[1])
            elif s.startswith("Priority = "):
                info["priority"] = int(s.split("= ")[1])
            elif s.startswith("Advert interval = "):
                value, unit = s.split("= ")[1].split(" ", 1)
                info["advert_int"] = int(value) / (1000 if unit.startswith("milli") else 1)
            elif s.startswith("Password = "):
                info["password"] = line.split("Password = ", 1)[1]
            elif s.startswith("Virtual IP ("):
                in_vips = True
        out[name.strip()] = info
    return out


def _inst(cfg: KeepalivedConfig, name: str) -> VrrpInstance:
    inst = cfg.instance(name)
    assert inst is not None, f"{name} not parsed; diagnostics: {[d.message for d in cfg.diagnostics]}"
    return inst


def _codes(cfg: KeepalivedConfig) -> list[str]:
    return [d.code for d in cfg.diagnostics]


BASE = """vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    {extra}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"""


# --------------------------------------------------------------------------------------------------
# comments, quotes, braces


def test_comments_start_anywhere_even_inside_a_word() -> None:
    cfg = parse_text(
        "# comment line\n! another\nvrrp_instance VI_1 { # trailing\n interface eth0 ! bang\n"
        " virtual_router_id 5#1\n priority 100!x\n virtual_ipaddress {\n  192.0.2.1/24 # vip\n }\n}\n"
    )
    inst = _inst(cfg, "VI_1")
    assert inst.vrid == 5 and inst.priority == 100 and inst.interface == "eth0"
    assert [str(v.address) for v in inst.vips] == ["192.0.2.1/24"]
    assert cfg.diagnostics == ()


@pytest.mark.parametrize(
    ("written", "password"),
    [
        ('"ab#c d"', "ab#c d"),  # quotes protect comment characters and spaces
        ('"a b"c', "a b"),  # a quoted word ends at its closing quote
        ('a"b c"', "a"),  # a quote starts a new word
        ("'x y'", "'x"),  # single quotes are ordinary characters in 2.2.7
        ('"a\\tb"', "a\\tb"),  # no escapes in 2.2.7
        ("ab!cd", "ab"),
    ],
)
def test_quoted_words_follow_keepalived_2_2_7(written: str, password: str) -> None:
    cfg = parse_text(BASE.format(extra=f"authentication {{\n auth_type PASS\n auth_pass {written}\n }}"))
    inst = _inst(cfg, "VI_1")
    assert inst.auth is not None and inst.auth.password == password


def test_unmatched_quote_is_reported_with_file_and_line() -> None:
    cfg = parse_text(BASE.format(extra='authentication {\n auth_type PASS\n auth_pass "abc\n }'), name="n1.conf")
    d = next(d for d in cfg.diagnostics if d.code == "unmatched_quote")
    assert d.location.file == "n1.conf" and d.location.line == 7
    assert d.message.startswith("n1.conf:7: ")


def test_blocks_on_one_line_glued_braces_and_brace_on_next_line() -> None:
    text = (
        "vrrp_instance VI_1\n{\n interface eth0\n virtual_router_id 51\n"
        " authentication { auth_type PASS\n   auth_pass secret }\n"
        " virtual_ipaddress {192.0.2.1/24 dev eth0}\n"
        " unicast_peer { 198.51.100.2 min_ttl 250 max_ttl 255 }\n}\n"
        "vrrp_script chk { script /bin/true }\n"
    )
    cfg = parse_text(text)
    assert cfg.diagnostics == ()
    inst = _inst(cfg, "VI_1")
    assert inst.auth is not None and inst.auth.password == "secret" and inst.auth.auth_type == "PASS"
    assert [(str(v.address), v.dev) for v in inst.vips] == [("192.0.2.1/24", "eth0")]
    peer = inst.unicast_peers[0]
    assert (str(peer.address), peer.min_ttl, peer.max_ttl) == ("198.51.100.2", 250, 255)
    assert cfg.scripts[0].name == "chk" and cfg.scripts[0].script == "/bin/true"


def test_a_closing_brace_glued_to_a_word_closes_the_block() -> None:
    # keepalived 2.2.7 reads "auth_pass abc}" as "auth_pass abc" then "}" (checked with keepalived -d):
    # the next "}" then closes the instance and what follows lands at the top level.
    text = (
        "vrrp_instance V {\n interface eth0\n virtual_router_id 20\n authentication {\n"
        "  auth_type PASS\n  auth_pass abc}\n }\n virtual_ipaddress {\n  192.0.2.20/24\n }\n}\n"
    )
    cfg = parse_text(text, name="glued.conf")
    inst = _inst(cfg, "V")
    assert inst.auth is not None and inst.auth.password == "abc"
    assert inst.vips == ()
    unknown = [d for d in cfg.diagnostics if d.code == "unknown_keyword"]
    assert [(d.keyword, d.location.line, d.context) for d in unknown] == [("virtual_ipaddress", 8, "the top level")]
    extra = [d for d in cfg.diagnostics if d.code == "unbalanced_brace"]
    assert [d.location.line for d in extra] == [11]


def test_unclosed_block_names_the_line_that_opened_it() -> None:
    text = BASE.format(extra="") + "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n"
    cfg = parse_text(text, name="lv9.conf")
    d = next(d for d in cfg.diagnostics if d.code == "unclosed_block")
    assert d.severity == "critical"
    assert d.location.line == 10
    assert "lv9.conf:10" in d.message and "vrrp_instance VI_2" in d.message


def test_extra_and_stray_braces_are_reported_not_raised() -> None:
    cfg = parse_text("}\n{\n}\nglobal_defs {\n router_id x\n}\n}\n", name="b.conf")
    lines = sorted(d.location.line for d in cfg.diagnostics if d.code == "unbalanced_brace")
    assert lines == [1, 2, 7]
    assert cfg.global_defs.router_id == "x"


def test_every_prefix_of_a_real_configuration_parses_without_raising() -> None:
    text = CLEAN[0].read_text()
    for cut in range(0, len(text), 7):
        cfg = parse_text(text[:cut], name="cut.conf", base_dir=CLEAN[0].parent)
        assert isinstance(cfg, KeepalivedConfig)


def test_binary_garbage_and_unreadable_files_never_raise(tmp_path: Path) -> None:
    junk = tmp_path / "junk.conf"
    junk.write_bytes(bytes(range(256)) * 4 + b"{{{ }}} \xff\xfe")
    assert parse_file(junk).readable
    missing = parse_file(tmp_path / "nope.conf")
    assert not missing.readable and _codes(missing) == ["unreadable"]
    assert "nope.conf" in missing.diagnostics[0].message and "no such file" in missing.diagnostics[0].message
    directory = parse_file(tmp_path)
    assert not directory.readable


# --------------------------------------------------------------------------------------------------
# unknown keywords, opaque blocks


def test_unknown_keywords_are_kept_and_reported_as_info() -> None:
    cfg = parse_text(
        "global_defs {\n router_id a\n bogus_global 1\n}\n"
        + BASE.format(extra="nopreemt\n    garp_master_dealy 1")
        + "frobnicate {\n x 1\n}\n",
        name="u.conf",
    )
    unknown = [(d.keyword, d.context, d.location.line, d.severity) for d in cfg.diagnostics]
    assert unknown == [
        ("bogus_global", "global_defs", 3, "info"),
        ("nopreemt", "vrrp_instance VI_1", 9, "info"),
        ("garp_master_dealy", "vrrp_instance VI_1", 10, "info"),
        ("frobnicate", "the top level", 15, "info"),
    ]
    inst = _inst(cfg, "VI_1")
    assert inst.nopreempt is False  # the typo does not set nopreempt, as in keepalived
    kept = [s.keyword for s in cfg.statements]
    assert "frobnicate" in kept


def test_virtual_server_blocks_are_kept_not_judged() -> None:
    cfg = parse_file(CLEAN[0])
    vs = cfg.virtual_servers
    assert len(vs) == 1
    assert vs[0].args == ("192.0.2.100", "80")
    assert vs[0].location.file.endswith("conf.d/virtual_servers.conf") and vs[0].location.line == 2
    children = vs[0].statement.children or ()
    assert [c.keyword for c in children if c.is_block] == ["real_server", "real_server"]
    # lb_algo, TCP_CHECK ... are not vrrp keywords, yet nothing inside virtual_server is reported
    assert cfg.diagnostics == ()


# --------------------------------------------------------------------------------------------------
# includes


def test_include_glob_relative_to_the_including_file_in_sorted_order() -> None:
    cfg = parse_file(CLEAN[0])
    base = str(CLEAN[0].parent)
    assert list(cfg.files) == [
        str(CLEAN[0]),
        os.path.join(base, "conf.d", "scripts.conf"),
        os.path.join(base, "conf.d", "virtual_servers.conf"),
    ]
    assert [s.name for s in cfg.scripts] == ["chk_haproxy"]
    assert cfg.scripts[0].location.file.endswith("conf.d/scripts.conf") and cfg.scripts[0].location.line == 2
    assert cfg.sync_groups[0].instances == ("VI_2", "VI_6")


def test_nested_includes_resolve_against_each_files_own_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inc" / "sub").mkdir(parents=True)
    (tmp_path / "main.conf").write_text("include inc/*.inc\n" + BASE.format(extra=""))
    (tmp_path / "inc" / "a.inc").write_text("include sub/b.inc\n")
    (tmp_path / "inc" / "sub" / "b.inc").write_text(
        "vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 53\n priority 90\n"
        " virtual_ipaddress { 192.0.2.103/24 }\n}\n"
    )
    monkeypatch.chdir("/")  # keepalived resolves against the including file, not the working directory
    cfg = parse_file(tmp_path / "main.conf")
    assert cfg.diagnostics == ()
    inst = _inst(cfg, "VI_3")
    assert inst.location.file == str(tmp_path / "inc" / "sub" / "b.inc") and inst.location.line == 1
    assert [i.name for i in cfg.instances] == ["VI_3", "VI_1"]


def test_include_braces_inside_a_block_cycles_and_misses(tmp_path: Path) -> None:
    (tmp_path / "vips-a.inc").write_text("192.0.2.1/24\n")
    (tmp_path / "vips-b.inc").write_text("192.0.2.2/24\n")
    (tmp_path / "loop.inc").write_text("include main.conf\n")
    main = tmp_path / "main.conf"
    main.write_text(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n"
        "  include vips-{a,b}.inc\n }\n}\ninclude loop.inc\ninclude nothing-*.conf\n"
    )
    cfg = parse_file(main)
    inst = _inst(cfg, "VI_1")
    assert [str(v.ip) for v in inst.vips] == ["192.0.2.1", "192.0.2.2"]
    assert [v.location.file for v in inst.vips] == [
        str(tmp_path / "vips-a.inc"),
        str(tmp_path / "vips-b.inc"),
    ]
    cycle = next(d for d in cfg.diagnostics if d.code == "include_cycle")
    assert cycle.location == Location(str(tmp_path / "loop.inc"), 1)
    miss = next(d for d in cfg.diagnostics if d.code == "include_no_match")
    assert miss.location.line == 9 and "nothing-*.conf" in miss.message


def test_brace_expansion_is_csh_like() -> None:
    assert expand_braces("a{b,c{d,e}}f") == ["abf", "acdf", "acef"]
    assert expand_braces("{foo/{,cat,dog},bar}") == ["foo/", "foo/cat", "foo/dog", "bar"]
    assert expand_braces("plain") == ["plain"]
    assert expand_braces("x{y") == ["x{y"]


def test_conditional_lines_and_parameter_substitution() -> None:
    text = (
        "@main $PRIO=150\n@^main $PRIO=100\n$IFACE=eth1\n"
        "vrrp_instance VI_1 {\n interface ${IFACE}\n virtual_router_id 51\n priority $PRIO\n"
        " @main state MASTER\n virtual_ipaddress { 192.0.2.1/24 }\n}\n~SEQ(i,1,3) x\n"
    )
    main = _inst(parse_text(text, config_id="main"), "VI_1")
    assert (main.priority, main.state, main.interface) == (150, "MASTER", "eth1")
    other_cfg = parse_text(text)
    other = _inst(other_cfg, "VI_1")
    assert (other.priority, other.state) == (100, None)
    assert "unsupported_syntax" in _codes(other_cfg)


# --------------------------------------------------------------------------------------------------
# values and derived facts


@pytest.mark.parametrize(
    ("written", "version", "seconds"),
    [
        ("1", 2, 1.0),
        ("1.5", 2, 2.0),
        ("2.5", 2, 3.0),
        ("0.4", 2, 1.0),
        ("1.4", 2, 1.0),
        (None, 2, 1.0),
        ("0.335", 3, 0.34),
        ("0.125", 3, 0.13),
        ("0.333", 3, 0.33),
        ("0.5", 3, 0.5),
        ("100", 3, 40.95),
        ("255", 2, 255.0),
    ],
)
def test_advert_int_is_rounded_like_keepalived(written: str | None, version: int, seconds: float) -> None:
    value = None if written is None else Decimal(written)
    assert advert_int_seconds(value, version) == pytest.approx(seconds)


def test_bad_numbers_name_file_and_line_and_keepalived_defaults_apply() -> None:
    text = (
        "vrrp_instance A {\n interface eth0\n virtual_router_id 256\n priority 0\n advert_int abc\n"
        " version 4\n preempt_delay 2000\n track_interface {\n  eth0 weight 300\n }\n"
        " virtual_ipaddress { 192.0.2.61/24 }\n}\n"
    )
    cfg = parse_text(text, name="e1.conf")
    by_line = {d.location.line: d for d in cfg.diagnostics}
    assert by_line[3].code == "out_of_range" and "256" in by_line[3].message
    assert by_line[4].code == "out_of_range" and "default 100" in by_line[4].message
    assert by_line[5].code == "bad_number" and "'abc'" in by_line[5].message
    assert by_line[6].code == "out_of_range"
    assert by_line[7].code == "out_of_range"
    assert by_line[9].code == "out_of_range" and "weight 300" in by_line[9].message
    assert all(d.message.startswith(f"e1.conf:{d.location.line}: ") for d in cfg.diagnostics)
    inst = _inst(cfg, "A")
    assert (inst.vrid, inst.priority, inst.advert_int, inst.version, inst.preempt_delay) == (
        None,
        100,
        1.0,
        2,
        None,
    )
    assert inst.track_interfaces[0].weight is None


def test_family_and_version_follow_keepalived() -> None:
    text = (
        "global_defs {\n vrrp_version 3\n}\n"
        "vrrp_instance V4 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1/24\n"
        " 2001:db8::1/64\n }\n}\n"
        "vrrp_instance V6 {\n interface eth0\n virtual_router_id 2\n version 2\n"
        " virtual_ipaddress { 2001:db8::2/64 }\n virtual_ipaddress_excluded { 192.0.2.2/24 }\n}\n"
        "vrrp_instance N6 {\n interface eth0\n virtual_router_id 3\n native_ipv6\n"
        " unicast_src_ip 2001:db8::10\n unicast_peer { 2001:db8::11 }\n"
        " virtual_ipaddress { 2001:db8::3 }\n}\n"
    )
    cfg = parse_text(text, name="fam.conf")
    v4, v6, n6 = (_inst(cfg, n) for n in ("V4", "V6", "N6"))
    assert (v4.family, v4.version, [str(v.ip) for v in v4.vips]) == ("ipv4", 3, ["192.0.2.1"])
    mismatch = next(d for d in cfg.diagnostics if d.code == "family_mismatch")
    assert mismatch.location.line == 9
    # explicit version 2 on IPv6 stays 2 outside strict mode (keepalived -d: "VRRP Version = 2")
    assert (v6.family, v6.version, [str(v.ip) for v in v6.excluded_vips]) == ("ipv6", 2, ["192.0.2.2"])
    assert (n6.family, n6.version, n6.unicast, str(n6.unicast_src_ip)) == ("ipv6", 3, True, "2001:db8::10")
    strict = parse_text("global_defs {\n vrrp_strict\n}\n" + text.split("}\n", 1)[1])
    assert _inst(strict, "V6").version == 3 and _inst(strict, "V6").strict


def test_auth_fingerprint_matches_what_the_dissector_computes_from_the_wire() -> None:
    from scapy.layers.inet import IP
    from scapy.layers.l2 import Ether
    from scapy.layers.vrrp import VRRP

    from dissectors.packet import dissect
    from vrrpscope.sources.base import LINKTYPE_ETHERNET

    cfg = parse_file(DATA / "auth_pass_truncated" / "lv1.conf")
    inst = _inst(cfg, "VI_1")
    assert inst.auth is not None and inst.auth.password == "longpassword1" and inst.auth.truncated
    frame = bytes(
        Ether(src="02:00:00:00:00:01", dst="01:00:5e:00:00:12")
        / IP(src="192.0.2.11", dst="224.0.0.18", ttl=255)
        / VRRP(
            vrid=51,
            priority=150,
            ipcount=1,
            addrlist=["192.0.2.100"],
            authtype=1,
            auth1=int.from_bytes(b"long", "big"),
            auth2=int.from_bytes(b"pass", "big"),
        )
    )
    decoded = dissect(LINKTYPE_ETHERNET, frame)
    assert decoded is not None
    wire_fp = decoded.message.auth_fingerprint
    assert inst.auth_fingerprint == wire_fp == secret_fingerprint(b"longpass")
    short = _inst(parse_text(BASE.format(extra="authentication {\n auth_type PASS\n auth_pass abc\n }")), "VI_1")
    assert short.auth_fingerprint == secret_fingerprint(b"abc\0\0\0\0\0")
    v3 = _inst(parse_file(DATA / "auth_ignored_v3" / "lv1.conf"), "VI_1")
    assert v3.auth is not None and v3.auth_fingerprint is None  # v3: not on the wire


def test_node_name_is_router_id_or_file_stem_and_made_unique(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "keepalived.conf").write_text(BASE.format(extra=""))
    named = tmp_path / "x.conf"
    named.write_text("global_defs {\n router_id edge-1\n}\n" + BASE.format(extra=""))
    cfgs = parse_files([tmp_path / "a" / "keepalived.conf", tmp_path / "b" / "keepalived.conf", named])
    assert [c.node for c in cfgs] == ["keepalived", "keepalived#2", "edge-1"]
    assert [c.instances[0].node for c in cfgs] == ["keepalived", "keepalived#2", "edge-1"]


def test_clean_fixture_facts() -> None:
    cfg = parse_file(CLEAN[0])
    assert cfg.node == "lv1" and cfg.diagnostics == ()
    gd = cfg.global_defs
    assert gd.vrrp_version == 2 and not gd.vrrp_strict and gd.garp["vrrp_garp_master_refresh"] == "60"
    vi1 = _inst(cfg, "VI_1")
    assert vi1.auth is not None and vi1.auth.password == "s3cr3t"  # "!x" is a comment
    assert vi1.where["priority"].line == 22 and vi1.at("advert_int").line == 23
    assert [(t.name, t.weight) for t in vi1.track_interfaces] == [("eth1", -20)]
    assert [(t.name, t.weight) for t in vi1.track_scripts] == [("chk_haproxy", 2)]
    assert vi1.garp == {"garp_master_delay": "2"}
    assert (vi1.vips[0].label, vi1.vips[0].dev) == ("eth0:1", "eth0")
    vu = _inst(cfg, "VI_U")
    assert vu.nopreempt and str(vu.unicast_src_ip) == "203.0.113.1"
    assert [(str(p.address), p.min_ttl, p.max_ttl) for p in vu.unicast_peers] == [("203.0.113.2", 250, 255)]


# --------------------------------------------------------------------------------------------------
# keepalived itself as the oracle


@pytest.mark.lab
def test_clean_fixtures_pass_keepalived_config_test() -> None:
    need_keepalived()
    with keepalived_netns() as ns:
        for conf in CLEAN:
            rc, out = keepalived_test(ns, conf)
            assert rc == 0, f"keepalived -t {conf}: rc={rc}\n{out}"


@pytest.mark.lab
def test_known_keyword_lists_match_keepalived(tmp_path: Path) -> None:
    """Every keyword vrrpscope treats as known is known to keepalived 2.2.7 (else the linter would be
    silent about a typo keepalived ignores), and a made-up one is unknown to both."""
    need_keepalived()

    def stmt(k: str, blocks: frozenset[str] = frozenset()) -> str:
        if k in blocks:
            return f"  {k} {{\n  }}"
        # values with file-system meaning point into tmp_path, so -t cannot touch anything else
        if "dir" in k:
            return f"  {k} {tmp_path}"
        if any(w in k for w in ("file", "fifo", "script", "socket")):
            return f"  {k} {tmp_path / 'x'}"
        return f"  {k} 1"

    instance_blocks = kw.INSTANCE_LIST_BLOCKS | {"authentication"}
    group_blocks = frozenset({"group", "track_interface", "track_script", "track_file", "track_process", "track_bfd"})
    lines = ["global_defs {"] + [stmt(k, kw.GLOBAL_BLOCKS) for k in sorted(kw.GLOBAL_DEFS)]
    lines += ["  bogus_global_kw 1", "}", "vrrp_instance X {"]
    lines += [stmt(k, instance_blocks) for k in sorted(kw.VRRP_INSTANCE)] + ["  bogus_inst_kw 1", "}"]
    lines += ["vrrp_script S {"] + [stmt(k) for k in sorted(kw.VRRP_SCRIPT)] + ["}"]
    lines += ["vrrp_sync_group G {"] + [stmt(k, group_blocks) for k in sorted(kw.VRRP_SYNC_GROUP)] + ["}"]
    lines += [f"{k} X {{\n}}" for k in sorted(kw.OPAQUE_BLOCKS - {"virtual_server"})]
    lines += [stmt(k).strip() for k in sorted(kw.TOP_STATEMENTS - {"net_namespace", "net_namespace_ipvs", "instance"})]
    conf = tmp_path / "keywords.conf"
    conf.write_text("\n".join(lines) + "\n")
    with keepalived_netns() as ns:
        _rc, out = keepalived_test(ns, conf)
    unknown = set(re.findall(r"Unknown keyword '([^']+)'", out))
    assert unknown == {"bogus_global_kw", "bogus_inst_kw"}, out
    mine = {d.keyword for d in parse_file(conf).diagnostics if d.code == "unknown_keyword"}
    assert mine == unknown


@pytest.mark.lab
def test_derived_facts_match_the_keepalived_dump(tmp_path: Path) -> None:
    """Version, interval rounding, password (quotes, comments, truncation), VIPs, priority, VRID and
    state as keepalived -d dumps them, for the clean fixture and a file of reading corner cases."""
    need_keepalived()
    corner = tmp_path / "corner.conf"
    cases = [
        ("C1", '"ab#c d"', "1.5", None),
        ("C2", 'x"y z"w', "0.4", None),
        ("C3", "'q\\tr'", "2.5", None),
        ("C4", "verylongpassword", "1", None),
        ("C5", "ab!cd", "0.335", 3),
        ("C6", "s3cr3t", "0.125", 3),
    ]
    text = ""
    for i, (name, pw, adv, version) in enumerate(cases, start=1):
        text += (
            f"vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {10 + i}\n"
            f"    priority {100 + i}\n" + (f"    version {version}\n" if version else "") + f"    advert_int {adv}\n"
            f"    authentication {{ auth_type PASS\n        auth_pass {pw}\n    }}\n"
            f"    virtual_ipaddress {{192.0.2.{10 + i}/24 dev eth0}}\n}}\n"
        )
    text += (
        "vrrp_instance C7 {\n interface eth0\n virtual_router_id 17\n virtual_ipaddress {\n 2001:db8::17/64\n }\n}\n"
    )
    corner.write_text(text)
    with keepalived_netns() as ns:
        for conf in [CLEAN[0], corner]:
            dump = dumped_instances(keepalived_dump(ns, conf, tmp_path))
            cfg = parse_file(conf)
            assert set(dump) == {i.name for i in cfg.instances}, dump
            for inst in cfg.instances:
                seen = dump[inst.name]
                mine: dict[str, object] = {
                    "version": inst.version,
                    "state": inst.state or "BACKUP",
                    "interface": inst.interface,
                    "vrid": inst.vrid,
                    "priority": inst.priority,
                    "advert_int": inst.advert_int,
                    "vips": [str(v.address) for v in inst.vips],
                }
                if inst.auth_effective and inst.auth is not None and inst.auth.wire_password is not None:
                    mine["password"] = inst.auth.wire_password.rstrip(b"\0").decode()
                theirs = {k: seen.get(k) for k in mine}
                assert mine == theirs, f"{conf.name} {inst.name}: {mine} != keepalived {theirs}"


def test_references_to_undefined_scripts_and_instances_are_reported() -> None:
    text = BASE.format(extra="track_script {\n  chk_missing weight 10\n }") + (
        "vrrp_sync_group G {\n group {\n  VI_1\n  VI_GONE\n }\n}\n"
    )
    cfg = parse_text(text, name="refs.conf")
    refs = [(d.location.line, d.message) for d in cfg.diagnostics if d.code == "undefined_reference"]
    assert [line for line, _ in refs] == [6, 12]
    assert "'chk_missing'" in refs[0][1] and "'VI_GONE'" in refs[1][1]


def test_track_script_whose_vrrp_script_comes_later_is_reported() -> None:
    """keepalived resolves track_script names while reading the instance (the lab's r2 logs 'track
    script chk_svc not found, ignoring...'): a vrrp_script block after the instance is a warning,
    one before it is not, and the warning points at the later definition."""
    script = 'vrrp_script chk_svc {\n script "/bin/true"\n weight -30\n}\n'
    track = "track_script {\n  chk_svc\n }"
    later = parse_text(BASE.format(extra=track) + script, name="later.conf")
    refs = [d for d in later.diagnostics if d.code == "undefined_reference"]
    assert [(d.severity, d.location.line) for d in refs] == [("warning", 6)]
    assert "'chk_svc'" in refs[0].message and "defined after this instance (at later.conf:12)" in refs[0].message
    first = parse_text(script + BASE.format(extra=track), name="first.conf")
    assert [d for d in first.diagnostics if d.code == "undefined_reference"] == []
