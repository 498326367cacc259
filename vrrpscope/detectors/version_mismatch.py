"""``version_mismatch``: VRRPv2 and VRRPv3 adverts in one group.

Warning when different routers speak different versions: keepalived and FRR drop adverts of the
other version ("wrong version. Received 2 and expect 3"), so each side becomes master. Info when
one router sends both versions: the migration mode of RFC 5798 §8.4 / RFC 9568 §8.4 (a Backup
SHOULD ignore the v2 adverts of an Active that also sends v3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vrrpscope.detectors.base import group_text
from vrrpscope.detectors.mismatch import GroupMismatchDetector
from vrrpscope.findings import Severity
from vrrpscope.reconstruct.events import AdvertSeen
from vrrpscope.reconstruct.state import GroupState


@dataclass(frozen=True)
class VersionMismatchConfig:
    """Options of the version-mismatch detector."""

    #: Report one router sending both versions (RFC 5798 §8.4 migration) as info.
    report_dual_stack_router: bool = True


class VersionMismatch(GroupMismatchDetector):
    """Flags a group with both VRRPv2 and VRRPv3 adverts."""

    kind = "version_mismatch"
    severity = Severity.WARNING

    def __init__(self, config: VersionMismatchConfig | None = None) -> None:
        super().__init__()
        self.config = config or VersionMismatchConfig()

    def value(self, event: AdvertSeen, group: GroupState) -> Any:
        r = group.routers.get(event.router)
        if r is None:
            return None
        return frozenset(r.versions)

    def is_mismatch(self, values: dict[str, Any]) -> bool:
        versions: set[int] = set()
        for v in values.values():
            versions |= v
        if len(versions) < 2:
            return False
        if not self.config.report_dual_stack_router:
            return len({v for v in values.values() if len(v) == 1}) > 1
        return True

    def describe(self, group: GroupState, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        parts = []
        dual = []
        for ip, v in values.items():
            vs = sorted(v)
            parts.append(f"{ip} sends " + " and ".join(f"VRRPv{x}" for x in vs))
            if len(vs) > 1:
                dual.append(ip)
        single = {frozenset(v) for v in values.values() if len(v) == 1}
        msg = f"{group_text(group.key)} carries both VRRPv2 and VRRPv3 adverts: {'; '.join(parts)}."
        details: dict[str, Any] = {"versions": {ip: sorted(v) for ip, v in values.items()}}
        if len(single) > 1:
            msg += (
                " Routers of different versions drop each other's adverts (keepalived: 'wrong version. "
                "Received 2 and expect 3'), so each side becomes master."
            )
        else:
            msg += (
                f" {', '.join(dual)} sends both versions: the v2/v3 migration mode of RFC 5798 §8.4, "
                "where backups should ignore its v2 adverts."
            )
            details["severity"] = Severity.INFO
        return msg, details
