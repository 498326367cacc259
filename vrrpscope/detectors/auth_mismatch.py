"""``auth_mismatch`` (warning): routers of one group use different authentication type or data.

Compared per router: the authentication of its latest advert — VRRPv2 auth type (none, simple
text password, IPsec AH, RFC 2338) with the password's fingerprint (``sha256:…``; the clear text
only with ``--show-secrets``), and the keepalived ``auth_hmac`` trailer (any version). VRRPv3 has no
authentication field, so v3 routers are compared only on the trailer. Routers of different VRRP
versions are not compared here (that is ``version_mismatch``).

Why it matters: RFC 3768 §7.1 makes a v2 receiver drop adverts with another auth type, keepalived
also drops a wrong password ("received an invalid passwd!") — each side then believes the master is
gone and a split brain follows (keepalived issues #2433, #143).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vrrpscope.detectors.base import group_text
from vrrpscope.detectors.compare import auth_text
from vrrpscope.detectors.mismatch import GroupMismatchDetector
from vrrpscope.findings import Severity
from vrrpscope.reconstruct.events import AdvertSeen
from vrrpscope.reconstruct.state import GroupState


@dataclass(frozen=True)
class AuthMismatchConfig:
    """Options of the authentication-mismatch detector."""

    #: Ignore priority-0 adverts (they carry the same authentication anyway).
    ignore_resigns: bool = False


class AuthMismatch(GroupMismatchDetector):
    """Flags a group whose routers authenticate differently."""

    kind = "auth_mismatch"
    severity = Severity.WARNING

    def __init__(self, config: AuthMismatchConfig | None = None) -> None:
        super().__init__()
        self.config = config or AuthMismatchConfig()

    def value(self, event: AdvertSeen, group: GroupState) -> Any:
        if self.config.ignore_resigns and event.priority == 0:
            return None
        r = group.routers.get(event.router)
        if r is None:
            return None
        return (r.version, r.last_auth)

    def is_mismatch(self, values: dict[str, Any]) -> bool:
        by_version: dict[Any, set[Any]] = {}
        for v in values.values():
            version, auth = v
            by_version.setdefault(version, set()).add(auth)
        return any(len(s) > 1 for s in by_version.values())

    def describe(self, group: GroupState, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        parts = []
        for ip, v in values.items():
            r = group.routers[ip]
            _version, auth = v
            parts.append(f"{ip} uses {auth_text(r, self.recon.show_secrets, auth)}")
        msg = (
            f"Routers of {group_text(group.key)} authenticate differently: {'; '.join(parts)}. "
            "Each discards the other's adverts (keepalived: 'received an invalid passwd!' or "
            "'received a N auth, expecting M!'), so each may believe the master is gone: expect a "
            "split brain."
        )
        details = {"auth": {ip: {"type": v[1][0], "fingerprint": v[1][1]} for ip, v in values.items()}}
        return msg, details
