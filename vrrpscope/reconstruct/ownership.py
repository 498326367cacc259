"""IP -> MAC ownership as ARP and IPv6 neighbour discovery show it (the hosts' view of a VIP).

Every ARP/ND packet that binds an IP to a MAC is a *claim*: a gratuitous ARP (sender IP = target
IP, request or reply), an ARP reply (sender binding), an ARP request (the sender's own binding; ARP
probes from 0.0.0.0 bind nothing), a neighbour advertisement (target -> target link-layer address,
else the Ethernet source), a neighbour solicitation (source -> source link-layer address; DAD from
``::`` binds nothing). The claim of the binding that the hosts will cache is the ARP *payload*
sender MAC, not the Ethernet source (RFC 9568 §8.1.2: a VIP's ARP reply carries the virtual MAC
while the frame comes from the physical one).

Ownership is kept per (segment, IP): an :class:`OwnerInterval` runs from a MAC's first claim to the
next claim by another MAC. History per IP is capped (oldest dropped, counted).
"""

from __future__ import annotations

from collections.abc import Iterator

from vrrpscope.model import FrameRef
from vrrpscope.reconstruct.state import OwnerInterval


class OwnershipTable:
    """Current owner and capped history of every IP seen in ARP/ND, per segment."""

    def __init__(self, history_cap: int = 1000) -> None:
        self.history_cap = history_cap
        self.current: dict[tuple[str, str], OwnerInterval] = {}
        #: Kept owner intervals per (segment, IP), oldest first. Lists, not deques: an IP flood
        #: creates one per IP and a deque costs ~600 bytes even when it holds one item.
        self.history: dict[tuple[str, str], list[OwnerInterval]] = {}
        #: Owner intervals dropped from the history because of the cap.
        self.dropped = 0

    def claim(
        self, segment: str, family: str, ip: str, mac: str, time: float, via: str, frame: FrameRef
    ) -> tuple[OwnerInterval | None, OwnerInterval] | None:
        """Record a claim. Return ``(previous, new)`` when the owner changed (``previous`` ``None`` for
        the first claim of this IP), ``None`` when ``mac`` already owned it."""
        key = (segment, ip)
        cur = self.current.get(key)
        if cur is not None and cur.mac == mac:
            cur.claims += 1
            cur.last_claim = time
            return None
        if cur is not None:
            cur.end = time
        new = OwnerInterval(segment, family, ip, mac, time, via, frame, time)
        self.current[key] = new
        hist = self.history.get(key)
        if hist is None:
            hist = self.history[key] = []
        hist.append(new)
        if len(hist) > self.history_cap:
            del hist[0]
            self.dropped += 1
        return cur, new

    def owner(self, segment: str, ip: str) -> OwnerInterval | None:
        """The current owner of ``ip`` on ``segment`` (None if never claimed)."""
        return self.current.get((segment, ip))

    def changes_of(self, segment: str, ip: str) -> list[OwnerInterval]:
        """The kept owner intervals of one IP, oldest first."""
        return list(self.history.get((segment, ip), ()))

    def intervals(self) -> Iterator[OwnerInterval]:
        """Every kept owner interval."""
        for hist in self.history.values():
            yield from hist
