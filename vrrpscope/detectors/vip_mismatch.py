"""``vip_mismatch`` (warning): routers of one VRID advertise different virtual address sets.

Compared per router: the set of addresses in its latest advert (order ignored; keepalived lists the
IPv6 link-local VIP first). Often two unrelated clusters share a VRID on one segment (keepalived
issue #2444, kubeasz #126, baremetal-runtimecfg #22); otherwise a configuration drift. keepalived
discards adverts whose address list differs ("ip address associated with VRID %d not present in
MASTER advert", "expected %u VIPs but received %u"), so a split brain follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vrrpscope.detectors.base import group_text
from vrrpscope.detectors.mismatch import GroupMismatchDetector
from vrrpscope.findings import Severity
from vrrpscope.reconstruct.events import AdvertSeen
from vrrpscope.reconstruct.state import GroupState, ip_sort_key


@dataclass(frozen=True)
class VipMismatchConfig:
    """Options of the VIP-mismatch detector."""

    #: Ignore priority-0 adverts (keepalived sends its configured VIPs in them too).
    ignore_resigns: bool = False


class VipMismatch(GroupMismatchDetector):
    """Flags a group whose routers advertise different VIP sets."""

    kind = "vip_mismatch"
    severity = Severity.WARNING

    def __init__(self, config: VipMismatchConfig | None = None) -> None:
        super().__init__()
        self.config = config or VipMismatchConfig()

    def value(self, event: AdvertSeen, group: GroupState) -> Any:
        if self.config.ignore_resigns and event.priority == 0:
            return None
        return frozenset(event.advert.addresses)

    def describe(self, group: GroupState, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        sets = {ip: sorted(v, key=ip_sort_key) for ip, v in values.items()}
        common = set.intersection(*(set(v) for v in sets.values())) if sets else set()
        parts = []
        for ip, vips in sets.items():
            only = [v for v in vips if v not in common]
            parts.append(
                f"{ip} advertises {', '.join(vips) or 'no address'}"
                + (f" (only it: {', '.join(only)})" if only else "")
            )
        msg = (
            f"Routers of {group_text(group.key)} advertise different virtual addresses: {'; '.join(parts)}. "
            "keepalived discards adverts whose address list differs, so each may become master; "
            + (
                "if these are two unrelated clusters, they collide on this VRID."
                if not common
                else "check the virtual_ipaddress blocks."
            )
        )
        return msg, {"vips": sets}
