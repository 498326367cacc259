"""What the lab needs from the machine, as human-readable reasons (empty list = ready)."""

from __future__ import annotations

import os
import shutil
import subprocess


def missing_requirements(*, need_tshark: bool = True) -> list[str]:
    """Reasons the lab cannot run here: not root, no ``ip netns``, missing keepalived/tcpdump/nft/tshark."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append("not root (network namespaces need CAP_SYS_ADMIN/CAP_NET_ADMIN)")
    tools = ["ip", "keepalived", "tcpdump", "nft"] + (["tshark"] if need_tshark else [])
    for tool in tools:
        if shutil.which(tool) is None:
            reasons.append(f"{tool} not installed")
    if shutil.which("ip") is not None:
        proc = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            reasons.append(f"`ip netns` unavailable: {proc.stderr.strip()}")
    return reasons
