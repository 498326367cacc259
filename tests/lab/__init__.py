"""vrrpscope's keepalived lab: real VRRP routers in Linux network namespaces, broken on purpose.

Library use (pytest, scripts)::

    from tests.lab import run_scenario, SCENARIOS
    result = run_scenario("failover_crash_preempt", Path("/tmp/out"))
    result.capture, result.truth["transitions"], result.truth["takeovers"]

or build your own experiment::

    from tests.lab import Lab, CaptureSpec, Config, Instance
    with Lab(routers=2) as lab:
        lab.start_capture(CaptureSpec(), out_dir)
        lab.start("r1", Config("r1", (Instance(priority=150),)))
        ...

Command line: ``python -m tests.lab SCENARIO --out DIR`` (``--list`` shows the scenarios).
Needs root, ``ip netns``, keepalived, tcpdump, nftables; tshark for the verification step.
"""

from __future__ import annotations

from .capture import Capture, CaptureSpec
from .frr import frr_available, frr_instance
from .keepalived import Auth, Config, Instance, LogLine
from .lab import Fault, Lab, Router
from .netns import LabAborted, LabError, LabUnavailable, sweep_stale
from .requirements import missing_requirements
from .run import RunResult, run_many, run_scenario
from .scenarios import SAMPLES, SCENARIOS, Scenario

__all__ = [
    "SAMPLES",
    "SCENARIOS",
    "Auth",
    "Capture",
    "CaptureSpec",
    "Config",
    "Fault",
    "Instance",
    "Lab",
    "LabAborted",
    "LabError",
    "LabUnavailable",
    "LogLine",
    "Router",
    "RunResult",
    "Scenario",
    "frr_available",
    "frr_instance",
    "missing_requirements",
    "run_many",
    "run_scenario",
    "sweep_stale",
]
