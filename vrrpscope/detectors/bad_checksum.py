"""``bad_checksum`` (warning): VRRP checksums that receivers will reject.

Two conditions (PROTOCOL.md §9.3):

1. **Invalid**: an advert whose checksum validates under no variant (v2; for v3/IPv4 with the IPv4
   pseudo-header, message-only per RFC 9568 §5.2.8, or the old keepalived unicast form with
   224.0.0.18; v3/IPv6 with the IPv6 pseudo-header). One finding per router, frames of the first
   ones cited, counted in total. Receivers drop these ("Invalid VRRPv3 checksum").
2. **Mixed variants**: the v3 routers of one group validate with different variants — e.g. one
   with the IPv4 pseudo-header (keepalived/FRR default), the other message-only (RFC 9568, Cisco,
   keepalived >= 2.2.8 ``v3_checksum_as_v2``). Each side rejects the other's adverts, so this is
   one group finding that names the variant each router's adverts validate with — not per-packet
   noise. The pseudo-header pair "with the real destination" / "with 224.0.0.18" is reported as info:
   keepalived auto-detects the old unicast form.

A group whose routers all use the same non-default variant interoperates and is not flagged
(Wireshark with default preferences calls message-only checksums bad; that is an oracle setting).
"""

from __future__ import annotations

from dataclasses import dataclass

from vrrpscope.detectors.base import Detector, Episode, clock, group_text
from vrrpscope.detectors.compare import COMPATIBLE_VARIANTS, VARIANT_TEXT
from vrrpscope.findings import Finding, Severity
from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
)
from vrrpscope.reconstruct.state import GroupKey


@dataclass(frozen=True)
class BadChecksumConfig:
    """Options of the checksum detector."""

    #: Report v3 routers of one group whose adverts validate with different variants.
    report_mixed_variants: bool = True


class BadChecksum(Detector):
    """Flags invalid checksums per router and mixed checksum variants per group."""

    #: Event types this detector subscribes to.
    events = (AdvertSeen,)

    kind = "bad_checksum"
    severity = Severity.WARNING

    def __init__(self, config: BadChecksumConfig | None = None) -> None:
        super().__init__()
        self.config = config or BadChecksumConfig()
        self._invalid: dict[tuple[GroupKey, str], Episode] = {}
        self._variants: dict[GroupKey, dict[str, str]] = {}
        self._mixed: dict[GroupKey, Episode] = {}
        self._mixed_shown: dict[GroupKey, frozenset[tuple[str, str]]] = {}

    def on_event(self, event: Event) -> list[Finding]:
        if not isinstance(event, AdvertSeen):
            return []
        adv = event.advert
        variant = adv.checksum_variant
        if variant is None:
            key = (event.group, event.router)
            ep = self._invalid.get(key)
            new = ep is None
            if ep is None:
                ep = self._invalid[key] = Episode(event.time, event.time, routers=[event.router])
                ep.data["checksum"] = adv.checksum
                ep.data["version"] = adv.version
            ep.add(event.time, event.frame)
            return [self._invalid_finding(key, ep)] if new else []
        if adv.version != 3 or event.group.family != "ipv4" or not self.config.report_mixed_variants:
            return []
        variants = self._variants.setdefault(event.group, {})
        variants[event.router] = variant
        distinct = set(variants.values())
        ep = self._mixed.get(event.group)
        if len(distinct) < 2:
            return []
        if ep is None:
            ep = self._mixed[event.group] = Episode(event.time, event.time)
            g = self.group(event.group)
            if g is not None:
                for r in variants:
                    if r in g.routers:
                        ep.add(event.time, g.routers[r].first_frame)
        ep.add(event.time, event.frame)
        for r in variants:
            if r not in ep.routers:
                ep.routers.append(r)
        snap = frozenset(variants.items())
        if self._mixed_shown.get(event.group) == snap:
            return []
        self._mixed_shown[event.group] = snap
        ep.data["variants"] = dict(variants)
        return [self._mixed_finding(event.group, ep)]

    def on_end(self, now: float) -> list[Finding]:
        # The final versions; until now these findings were ongoing (no end).
        for ep in [*self._invalid.values(), *self._mixed.values()]:
            ep.closed = True
        out = [self._invalid_finding(k, ep) for k, ep in self._invalid.items()]
        for key, ep in self._mixed.items():
            ep.data["variants"] = dict(self._variants.get(key, {}))
            out.append(self._mixed_finding(key, ep))
        return out

    def _invalid_finding(self, key: tuple[GroupKey, str], ep: Episode) -> Finding:
        group, router = key
        version = ep.data["version"]
        if version == 2:
            tried = "the VRRPv2 checksum (RFC 3768)"
        elif group.family == "ipv6":
            tried = "the IPv6 pseudo-header"
        else:
            tried = "any VRRPv3 variant (IPv4 pseudo-header, message-only per RFC 9568, pseudo-header with 224.0.0.18)"
        msg = (
            f"{ep.frame_count} advert(s) from {router} in {group_text(group)} between {clock(ep.start)} and "
            f"{clock(ep.end)} carry a checksum (first 0x{ep.data['checksum']:04x}) that is valid "
            "under none of "
            f"{tried}: receivers discard them ('Invalid VRRPv{version} checksum'). Corrupted on the way, a "
            "broken sender (keepalived built with GCC LTO before 2.2.8 sent wrong v3 checksums), or a "
            "trailer the checksum does not cover."
        )
        return self.finding(
            group=group,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=[router],
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            subject=router,
            details={"invalid": ep.frame_count, "checksum": ep.data["checksum"]},
        )

    def _mixed_finding(self, group: GroupKey, ep: Episode) -> Finding:
        variants: dict[str, str] = ep.data["variants"]
        parts = [f"{r}'s adverts validate with {VARIANT_TEXT.get(v, v)}" for r, v in variants.items()]
        distinct = set(variants.values())
        compatible = distinct <= COMPATIBLE_VARIANTS
        msg = f"VRRPv3 checksum variants differ in {group_text(group)}: {'; '.join(parts)}. "
        if compatible:
            msg += (
                "keepalived auto-detects the old unicast form ('Setting unicast VRRPv3 checksum to old "
                "version'), other implementations reject it."
            )
        else:
            msg += (
                "Each side rejects the other's adverts as 'Invalid VRRPv3 checksum' (keepalived before 2.2.8 "
                "cannot send the RFC 9568 message-only form; FRR before 8.5 neither): expect a split brain."
            )
        return self.finding(
            group=group,
            start=ep.start,
            end=ep.end if ep.closed else None,
            routers=ep.routers,
            frames=ep.frames,
            frame_count=ep.frame_count,
            message=msg,
            severity=Severity.INFO if compatible else Severity.WARNING,
            subject="variants",
            details={"variants": dict(variants)},
        )
