"""Reconstruction of VRRP group state from decoded packets (the "base" layer; detectors are policy).

:class:`Reconstructor` is fed :class:`~vrrpscope.model.Packet` records one at a time and keeps, per
group (segment, family, VRID), the routers, the master timeline, takeovers, split-brain episodes
and GARP/NA, plus IP -> MAC ownership from ARP/ND. It emits the events of
:mod:`vrrpscope.reconstruct.events`.
"""

from __future__ import annotations

from vrrpscope.reconstruct.events import (
    AdvertSeen,
    Event,
    GarpSeen,
    GroupResumed,
    GroupSilent,
    MalformedSeen,
    MasterChanged,
    MasterEnded,
    MasterStarted,
    OwnerChanged,
    PriorityChanged,
    ProblemSeen,
    Resigned,
    RouterSilent,
    SplitBrainEnded,
    SplitBrainStarted,
    Takeover,
    TransientAdverts,
)
from vrrpscope.reconstruct.ownership import OwnershipTable
from vrrpscope.reconstruct.reconstructor import Reconstructor, ReconstructorConfig
from vrrpscope.reconstruct.state import (
    Claim,
    GarpRecord,
    GarpStats,
    GroupKey,
    GroupState,
    MasterInterval,
    OwnerInterval,
    PriorityChange,
    ResignRecord,
    RouterState,
    SplitBrainEpisode,
    TakeoverRecord,
    TransientRecord,
    outranks,
    virtual_mac,
)

__all__ = [
    "AdvertSeen",
    "Claim",
    "Event",
    "GarpRecord",
    "GarpSeen",
    "GarpStats",
    "GroupKey",
    "GroupResumed",
    "GroupSilent",
    "GroupState",
    "MalformedSeen",
    "MasterChanged",
    "MasterEnded",
    "MasterInterval",
    "MasterStarted",
    "OwnerChanged",
    "OwnerInterval",
    "OwnershipTable",
    "PriorityChange",
    "PriorityChanged",
    "ProblemSeen",
    "Reconstructor",
    "ReconstructorConfig",
    "ResignRecord",
    "Resigned",
    "RouterSilent",
    "RouterState",
    "SplitBrainEnded",
    "SplitBrainEpisode",
    "SplitBrainStarted",
    "Takeover",
    "TakeoverRecord",
    "TransientAdverts",
    "TransientRecord",
    "outranks",
    "virtual_mac",
]
