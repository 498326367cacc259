"""``ttl_violation``: VRRP adverts whose IPv4 TTL / IPv6 hop limit is not 255.

RFC 3768 §7.1 and RFC 9568 §5.1.1.3/§5.1.2.3/§7.1: the sender MUST set 255 and a receiver MUST
discard anything else — the advert came from off-link (routed) or was forged. One finding per
router and TTL value, from its first to its last such advert.

Severity: warning for multicast adverts (224.0.0.18 / ff02::12): receivers drop them. For unicast
adverts (keepalived ``unicast_peer``) info: the RFC rule still applies, but keepalived does not
check the TTL of unicast adverts unless ``min_ttl``/``max_ttl`` is configured and keeps accepting
them (``unicast_ttl 64`` works in practice; PROTOCOL.md "observed" 14).
"""

from __future__ import annotations

from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, close_episodes, group_text
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
)
from vrrpscope.reconstruct.state import GroupKey


@dataclass(frozen=True)
class TtlViolationConfig:
    """Options of the TTL detector."""

    #: The TTL / hop limit the RFCs require.
    required_ttl: int = 255
    #: Report unicast adverts with another TTL (as info, with keepalived's nuance).
    report_unicast: bool = True


class TtlViolation(Detector):
    """Flags adverts with TTL / hop limit other than 255."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen,)

    kind = "ttl_violation"
    severity = Severity.WARNING

    def __init__(self, config: TtlViolationConfig | None = None) -> None:
        super().__init__()
        self.config = config or TtlViolationConfig()
        self._episodes: dict[tuple[GroupKey, str, int, bool], Episode] = {}

    def on_event(self, event: Event) -> list[Finding]:
        if not isinstance(event, AdvertSeen):
            return []
        ip = event.packet.ip
        if ip is None or ip.ttl == self.config.required_ttl:
            return []
        if not ip.multicast and not self.config.report_unicast:
            return []
        key = (event.group, event.router, ip.ttl, ip.multicast)
        ep = self._episodes.get(key)
        new = ep is None
        if ep is None:
            ep = self._episodes[key] = Episode(event.time, event.time, routers=[event.router])
            ep.data["dst"] = ip.dst
        ep.add(event.time, event.frame)
        return [self._finding(key, ep)] if new else []

    def on_end(self, now: float) -> list[Finding]:
        # The final versions; until now the findings were ongoing (no end).
        return close_episodes(self._episodes, self._finding)

    def _finding(self, key: tuple[GroupKey, str, int, bool], ep: Episode) -> Finding:
        group, router, ttl, multicast = key
        what = "hop limit" if group.family == "ipv6" else "TTL"
        msg = (
            f"{router} sent {ep.frame_count} advert(s) in {group_text(group)} with {what} {ttl} "
            f"(to {ep.data['dst']}) between {clock(ep.start)} and {clock(ep.end)}; the RFCs require "
            f"{self.config.required_ttl} and receivers MUST discard anything else (RFC 9568 §7.1): "
        )
        if multicast:
            msg += "its peers will not hear these adverts. The sender is off-link (routed) or forged."
            severity = Severity.WARNING
        else:
            msg += (
                "for unicast adverts keepalived does not check the TTL unless min_ttl/max_ttl is configured, "
                "so keepalived peers still accept them (RFC-strict peers do not); off-link peer or "
                "forged advert?"
            )
            severity = Severity.INFO
        return self.finding(
            group=group,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=[router],
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            severity=severity,
            subject=f"{router}/{ttl}",
            details={"ttl": ttl, "multicast": multicast, "adverts": ep.frame_count},
        )
