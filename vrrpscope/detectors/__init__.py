"""Detectors: small independent policies that turn reconstructor events into findings.

One module per DESIGN.md finding kind, each with a module docstring (what it flags, thresholds, the
RFC formula), a frozen ``*Config`` and a :class:`~vrrpscope.detectors.base.Detector` subclass.
:func:`default_detectors` builds one of each with default thresholds, which do not fire on normal
keepalived behaviour (failover, priority-0 hand-over, preemption, sub-second v3, several VRIDs,
the same VRID on several VLANs, hand-over GARPs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vrrpscope.detectors.advert_interval_mismatch import AdvertIntervalMismatch, AdvertIntervalMismatchConfig
from vrrpscope.detectors.arp_conflict import ArpConflict, ArpConflictConfig
from vrrpscope.detectors.arp_flipflop import ArpFlipflop, ArpFlipflopConfig
from vrrpscope.detectors.auth_mismatch import AuthMismatch, AuthMismatchConfig
from vrrpscope.detectors.bad_checksum import BadChecksum, BadChecksumConfig
from vrrpscope.detectors.base import Detector
from vrrpscope.detectors.malformed import MalformedConfig, MalformedDetector
from vrrpscope.detectors.missing_garp import MissingGarp, MissingGarpConfig
from vrrpscope.detectors.no_master import NoMaster, NoMasterConfig
from vrrpscope.detectors.preemption_flap import PreemptionFlap, PreemptionFlapConfig
from vrrpscope.detectors.priority_zero_resign import PriorityZeroResign, PriorityZeroResignConfig
from vrrpscope.detectors.slow_takeover import SlowTakeover, SlowTakeoverConfig
from vrrpscope.detectors.split_brain import SplitBrain, SplitBrainConfig
from vrrpscope.detectors.ttl_violation import TtlViolation, TtlViolationConfig
from vrrpscope.detectors.version_mismatch import VersionMismatch, VersionMismatchConfig
from vrrpscope.detectors.vip_mismatch import VipMismatch, VipMismatchConfig

#: Detector class per finding kind, in DESIGN.md order.
DETECTORS: dict[str, type[Detector]] = {
    "split_brain": SplitBrain,
    "auth_mismatch": AuthMismatch,
    "slow_takeover": SlowTakeover,
    "no_master": NoMaster,
    "advert_interval_mismatch": AdvertIntervalMismatch,
    "vip_mismatch": VipMismatch,
    "version_mismatch": VersionMismatch,
    "ttl_violation": TtlViolation,
    "bad_checksum": BadChecksum,
    "priority_zero_resign": PriorityZeroResign,
    "missing_garp": MissingGarp,
    "arp_conflict": ArpConflict,
    "arp_flipflop": ArpFlipflop,
    "preemption_flap": PreemptionFlap,
    "malformed": MalformedDetector,
}


def default_detectors(configs: Mapping[str, Any] | None = None, *, exclude: tuple[str, ...] = ()) -> list[Detector]:
    """One detector of each kind; ``configs`` maps a kind to its ``*Config`` instance to override."""
    configs = configs or {}
    out: list[Detector] = []
    for kind, cls in DETECTORS.items():
        if kind in exclude:
            continue
        cfg = configs.get(kind)
        out.append(cls(cfg) if cfg is not None else cls())  # type: ignore[call-arg]
    return out


__all__ = [
    "DETECTORS",
    "AdvertIntervalMismatch",
    "AdvertIntervalMismatchConfig",
    "ArpConflict",
    "ArpConflictConfig",
    "ArpFlipflop",
    "ArpFlipflopConfig",
    "AuthMismatch",
    "AuthMismatchConfig",
    "BadChecksum",
    "BadChecksumConfig",
    "Detector",
    "MalformedConfig",
    "MalformedDetector",
    "MissingGarp",
    "MissingGarpConfig",
    "NoMaster",
    "NoMasterConfig",
    "PreemptionFlap",
    "PreemptionFlapConfig",
    "PriorityZeroResign",
    "PriorityZeroResignConfig",
    "SlowTakeover",
    "SlowTakeoverConfig",
    "SplitBrain",
    "SplitBrainConfig",
    "TtlViolation",
    "TtlViolationConfig",
    "VersionMismatch",
    "VersionMismatchConfig",
    "VipMismatch",
    "VipMismatchConfig",
    "default_detectors",
]
