"""``vrrpscope lint``: one fixture pair per finding kind, the VRID 200 mistake, JSON/table/exit codes.

Oracles: for every problem a single keepalived can see, ``keepalived -t`` on the fixture must print
keepalived's own complaint (so the finding is real); for every problem that needs two nodes,
``keepalived -t`` must accept each file alone (so only the comparison across nodes finds it). The
clean pair passes both keepalived and the linter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_config_parser import keepalived_netns, keepalived_test, need_keepalived

from dissectors.records import secret_fingerprint
from vrrpscope.cli.lint import lint_command
from vrrpscope.config.lint import LINT_KINDS, LintFinding, lint_files, parse_iface_addr
from vrrpscope.findings import Severity

DATA = Path(__file__).parent / "data" / "keepalived"

#: case directory -> (expected finding kinds, severity, the text every cited line must contain,
#: keepalived -t message per file when keepalived itself notices, None when each file alone passes)
CASES: dict[str, tuple[set[str], Severity, str, str | None]] = {
    "vrid200": (
        {"duplicate_vrid"},
        Severity.CRITICAL,
        "virtual_router_id 200",
        "VE and VI both use VRID 200 with IPv4 on interface eth0",
    ),
    "duplicate_vrid_nodes": ({"duplicate_vrid"}, Severity.CRITICAL, "virtual_router_id 51", None),
    "auth_pass_truncated": (
        {"auth_pass_truncated"},
        Severity.WARNING,
        "auth_pass longpassword",
        "Truncating auth_pass to 8 characters",
    ),
    "auth_mismatch": ({"auth_mismatch"}, Severity.CRITICAL, "auth_pass secret0", None),
    "auth_ignored_v3": (
        {"auth_ignored_v3"},
        Severity.WARNING,
        "",
        "VRRP version 3 does not support authentication. Ignoring.",
    ),
    "priority_tie": ({"priority_tie"}, Severity.WARNING, "priority 100", None),
    "priority_order_owners": ({"priority_order"}, Severity.CRITICAL, "priority 255", None),
    "priority_order_master_low": ({"priority_order"}, Severity.WARNING, "", None),
    "priority_order_nopreempt": (
        {"priority_order"},
        Severity.WARNING,
        "",
        "nopreempt will not work with initial state MASTER",
    ),
    "advert_interval_mismatch": ({"advert_interval_mismatch"}, Severity.CRITICAL, "advert_int", None),
    "version_mismatch": ({"version_mismatch"}, Severity.CRITICAL, "version", None),
    "vip_mismatch": ({"vip_mismatch"}, Severity.CRITICAL, "virtual_ipaddress", None),
    "unicast_asymmetric": ({"unicast_asymmetric"}, Severity.CRITICAL, "unicast_", None),
    "vip_outside_subnet": ({"vip_outside_subnet"}, Severity.WARNING, "198.51.100.100/24 dev eth0", None),
    "strict_mode_violation": (
        {"strict_mode_violation"},
        Severity.WARNING,
        "",
        "Strict mode does not support authentication",
    ),
    "unknown_keyword": ({"unknown_keyword"}, Severity.INFO, "", "Unknown keyword 'nopreemt'"),
    "ipv6_vrrp_v2": ({"ipv6_vrrp_v2"}, Severity.WARNING, "version 2", None),
}


def case_files(case: str) -> list[Path]:
    return sorted((DATA / case).glob("*.conf"))


def cited_line(f: LintFinding, index: int = 0) -> str:
    loc = f.locations[index]
    return Path(loc.file).read_text().splitlines()[loc.line - 1]


def run_lint(args: list[str]) -> tuple[int, str, str]:
    """Run the click command like the console entry point does (usage errors -> 3)."""
    runner = CliRunner()
    result = runner.invoke(lint_command, args, standalone_mode=False)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import click

        if isinstance(result.exception, click.ClickException):
            return 3, result.stdout, result.stderr + result.exception.format_message()
        raise result.exception
    return int(result.return_value or 0), result.stdout, result.stderr


# --------------------------------------------------------------------------------------------------
# the clean pair and one fixture pair per kind


def test_clean_pair_triggers_nothing() -> None:
    result = lint_files(case_files("clean"))
    assert result.findings == []
    assert [c.node for c in result.configs] == ["lv1", "lv2"]
    assert len(result.instances) == 8


def test_every_lint_kind_has_a_fixture() -> None:
    covered = set().union(*(kinds for kinds, *_ in CASES.values()))
    assert covered | {"config_error"} == set(LINT_KINDS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixture_triggers_exactly_its_kind(case: str) -> None:
    kinds, severity, line_text, _ = CASES[case]
    result = lint_files(case_files(case))
    assert {f.kind for f in result.findings} == kinds, [f.message for f in result.findings]
    assert {f.severity for f in result.findings} == {severity}
    for f in result.findings:
        assert f.locations, f
        assert line_text in cited_line(f), (f.message, cited_line(f))
        if f.kind == "unknown_keyword":
            assert cited_line(f).split()[0] == f.details["keyword"]
        assert f.message


#: Cases whose problem exists only between the two node files.
CROSS_NODE = {
    "duplicate_vrid_nodes",
    "auth_mismatch",
    "priority_tie",
    "priority_order_owners",
    "priority_order_master_low",
    "advert_interval_mismatch",
    "version_mismatch",
    "vip_mismatch",
    "unicast_asymmetric",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_file_alone(case: str) -> None:
    """Cross-node kinds vanish when a node file is linted alone; single-node kinds stay."""
    kinds = CASES[case][0]
    alone = [{f.kind for f in lint_files([path]).findings} for path in case_files(case)]
    if case in CROSS_NODE:
        assert alone == [set(), set()]
    else:
        assert alone[0] == kinds  # lv1 always shows the problem by itself
        assert alone[1] <= kinds


@pytest.mark.lab
@pytest.mark.parametrize("case", sorted(CASES))
def test_keepalived_agrees_with_the_fixture(case: str) -> None:
    """Where the linter sees a problem in a file alone, keepalived -t complains with its own words;
    where it does not, keepalived -t accepts the file."""
    need_keepalived()
    message = CASES[case][3]
    with keepalived_netns() as ns:
        for path in case_files(case):
            rc, out = keepalived_test(ns, path)
            if message is not None and lint_files([path]).findings:
                assert rc != 0 and message in out, f"{path}: keepalived -t rc={rc}, expected {message!r}:\n{out}"
            else:
                assert rc == 0, f"{path}: keepalived -t rc={rc}\n{out}"


@pytest.mark.lab
def test_keepalived_allows_a_duplicate_vrid_with_disjoint_unicast_peers(tmp_path: Path) -> None:
    """keepalived's exception to the duplicate rule: the linter must not flag what keepalived accepts."""
    need_keepalived()
    conf = tmp_path / "uni.conf"
    conf.write_text(
        "vrrp_instance A {\n interface eth0\n virtual_router_id 70\n unicast_src_ip 203.0.113.1\n"
        " unicast_peer {\n  203.0.113.2\n }\n virtual_ipaddress {\n  203.0.113.70/24\n }\n}\n"
        "vrrp_instance B {\n interface eth0\n virtual_router_id 70\n unicast_src_ip 203.0.113.1\n"
        " unicast_peer {\n  203.0.113.3\n }\n virtual_ipaddress {\n  203.0.113.71/24\n }\n}\n"
    )
    assert lint_files([conf]).findings == []
    with keepalived_netns() as ns:
        rc, out = keepalived_test(ns, conf)
    assert rc == 0, out
    overlap = tmp_path / "overlap.conf"
    overlap.write_text(conf.read_text().replace("203.0.113.3\n", "203.0.113.2\n"))
    kinds = [f.kind for f in lint_files([overlap]).findings]
    assert kinds == ["duplicate_vrid"]
    with keepalived_netns() as ns:
        rc, out = keepalived_test(ns, overlap)
    assert rc != 0 and "(A) duplicate VRID conflict with B VRID 70" in out


# --------------------------------------------------------------------------------------------------
# the VRID 200 mistake in detail


def test_vrid200_findings_carry_names_numbers_and_locations() -> None:
    files = case_files("vrid200")
    result = lint_files(files)
    assert [f.kind for f in result.findings] == ["duplicate_vrid", "duplicate_vrid"]
    for f, path, node in zip(result.findings, files, ("lv1", "lv2"), strict=True):
        assert (f.segment, f.family, f.vrid) == ("eth0", "ipv4", 200)
        assert f.nodes == (node,)
        assert f.instances == (f"VE@{node}", f"VI@{node}")
        assert [(loc.file, loc.line) for loc in f.locations] == [(str(path), 11), (str(path), 22)]
        for text in (
            "VE",
            "VI",
            "VRID 200",
            "eth0",
            "198.51.100.200",
            "192.0.2.200",
            "lv1.conf:8" if node == "lv1" else "lv2.conf:8",
        ):
            assert text in f.message
        d = f.to_dict()
        assert d["start"] is None and d["end"] is None and d["routers"] == []
        assert d["file"] == str(path) and d["line"] == 11
        assert d["locations"] == [{"file": str(path), "line": 11}, {"file": str(path), "line": 22}]
        assert "frames" not in d


def test_vrid200_cli_table_json_and_exit_codes() -> None:
    files = [str(p) for p in case_files("vrid200")]
    rc, out, err = run_lint(files)
    assert rc == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{files[0]}:11  critical  duplicate_vrid  [eth0 ipv4 VRID 200] ")
    assert "2 file(s), 4 instance(s): 2 critical, 0 warning, 0 info" in err
    rc, out, _ = run_lint([*files, "--fail-on", "critical"])
    assert rc == 2
    rc, out, _ = run_lint([*files, "--format", "json", "--fail-on", "warning"])
    assert rc == 2
    data = json.loads(out)
    assert set(data) == {"files", "instances", "findings"}
    assert [f["node"] for f in data["files"]] == ["lv1", "lv2"]
    assert [(i["node"], i["name"], i["vrid"]) for i in data["instances"]] == [
        ("lv1", "VE", 200),
        ("lv1", "VI", 200),
        ("lv2", "VE", 200),
        ("lv2", "VI", 200),
    ]
    f0 = data["findings"][0]
    for key in (
        "kind",
        "severity",
        "segment",
        "family",
        "vrid",
        "start",
        "end",
        "routers",
        "locations",
        "file",
        "line",
        "message",
    ):
        assert key in f0
    assert (f0["kind"], f0["severity"], f0["segment"], f0["vrid"]) == ("duplicate_vrid", "critical", "eth0", 200)


# --------------------------------------------------------------------------------------------------
# other behaviour


def test_exit_codes_follow_the_design() -> None:
    clean = [str(p) for p in case_files("clean")]
    warn = [str(p) for p in case_files("priority_tie")]
    assert run_lint([*clean, "--fail-on", "warning"])[0] == 0
    assert run_lint([*warn])[0] == 0
    assert run_lint([*warn, "--fail-on", "warning"])[0] == 1
    assert run_lint([*warn, "--fail-on", "critical"])[0] == 0
    info_only = [str(p) for p in case_files("unknown_keyword")]
    assert run_lint([*info_only, "--fail-on", "warning"])[0] == 0


def test_unreadable_file_exits_3_with_one_clear_line(tmp_path: Path) -> None:
    clean = str(case_files("clean")[0])
    rc, _, err = run_lint([clean, str(tmp_path / "missing.conf")])
    assert rc == 3
    assert f"vrrpscope: cannot read {tmp_path / 'missing.conf'}: no such file" in err
    assert "Traceback" not in err
    rc, _, err = run_lint([str(tmp_path)])
    assert rc == 3 and "is a directory" in err


def test_secrets_never_printed_only_fingerprints() -> None:
    files = [str(p) for p in case_files("auth_mismatch")]
    _, table, _ = run_lint(files)
    _, js, _ = run_lint([*files, "--format", "json"])
    for out in (table, js):
        assert "secret01" not in out and "secret02" not in out
    fps = [i["auth"]["fingerprint"] for i in json.loads(js)["instances"]]
    assert fps == [secret_fingerprint(b"secret01"), secret_fingerprint(b"secret02")]
    assert all(fp in table for fp in fps)


def test_truncation_makes_passwords_equal_on_the_wire() -> None:
    """longpassword1 / longpassword2 share their first 8 bytes: truncated, but no auth_mismatch."""
    result = lint_files(case_files("auth_pass_truncated"))
    fps = {i.auth_fingerprint for i in result.instances}
    assert fps == {secret_fingerprint(b"longpass")}
    assert [f.details["length"] for f in result.findings] == [13, 13]


def test_vrid200_mistake_across_two_nodes_is_a_collision(tmp_path: Path) -> None:
    """Each node has one of the two instances: keepalived -t passes both files, the wire does not."""
    lv1 = tmp_path / "lv1.conf"
    lv2 = tmp_path / "lv2.conf"
    text = (DATA / "vrid200" / "lv1.conf").read_text()
    head, ve, vi = text.split("vrrp_instance ")
    lv1.write_text(head + "vrrp_instance " + ve)
    lv2.write_text(head.replace("router_id lv1", "router_id lv2") + "vrrp_instance " + vi)
    result = lint_files([lv1, lv2])
    assert [f.kind for f in result.findings] == ["duplicate_vrid"]
    f = result.findings[0]
    assert f.nodes == ("lv1", "lv2") and "Unrelated instances VE@lv1" in f.message and "VI@lv2" in f.message


def test_iface_addr_option_enables_the_subnet_check() -> None:
    files = [str(p) for p in case_files("priority_tie")]
    rc, out, _ = run_lint([*files, "--iface-addr", "eth0=198.51.100.1/24", "--format", "json"])
    kinds = [f["kind"] for f in json.loads(out)["findings"]]
    assert kinds.count("vip_outside_subnet") == 2
    rc, out, _ = run_lint([*files, "--iface-addr", "lv1:eth0=192.0.2.1/24", "--format", "json"])
    assert "vip_outside_subnet" not in [f["kind"] for f in json.loads(out)["findings"]]
    rc, out, err = run_lint([*files, "--iface-addr", "eth0=192.0.2.1"])
    assert rc == 3 and "/prefix" in err
    with pytest.raises(ValueError):
        parse_iface_addr("eth0")


def test_config_id_selects_conditional_lines(tmp_path: Path) -> None:
    shared = tmp_path / "shared.conf"
    shared.write_text(
        "global_defs {\n @lv1 router_id lv1\n @lv2 router_id lv2\n}\n"
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n @lv1 priority 150\n @lv2 priority 100\n"
        " virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n"
    )
    _, out, _ = run_lint([str(shared), "--config-id", "lv1", "--format", "json"])
    inst = json.loads(out)["instances"][0]
    assert (inst["node"], inst["priority"]) == ("lv1", 150)


def test_syntax_errors_become_config_error_findings_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_text((DATA / "clean" / "lv1.conf").read_text().replace("    garp_master_delay 2\n}\n", "", 1))
    result = lint_files([broken])
    errors = [f for f in result.findings if f.kind == "config_error"]
    assert errors and errors[0].severity == Severity.CRITICAL
    assert errors[0].details["code"] == "unclosed_block"
    assert errors[0].locations[0].line == 18 and f"{broken}:18" in errors[0].message
    rc, _, _ = run_lint([str(broken), "--fail-on", "critical"])
    assert rc == 2


def test_findings_are_sorted_by_severity_then_location() -> None:
    files = case_files("strict_mode_violation") + case_files("unknown_keyword")
    result = lint_files(files)
    order = [
        (f.severity, f.location.file if f.location else "", f.location.line if f.location else 0)
        for f in result.findings
    ]
    ranks = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert order == sorted(order, key=lambda t: (ranks[t[0]], t[1], t[2]))
    assert [f.details["reason"] for f in result.findings if f.kind == "strict_mode_violation"] == [
        "master_not_owner",
        "authentication",
        "preempt_delay",
        "authentication",
        "preempt_delay",
    ]
