"""VRRP timer formulas, stated once (PROTOCOL.md §9.4, §9.7).

- Skew_Time — v2 (RFC 3768 §6.1): ``(256 - Priority) / 256`` seconds, independent of the interval;
  v3 (RFC 5798 §6.1 = RFC 9568 §6.1): ``((256 - Priority) * Master_Adver_Interval) / 256`` centiseconds.
- Master_Down_Interval — v2: ``3 * Advertisement_Interval + Skew_Time``;
  v3: ``3 * Master_Adver_Interval + Skew_Time`` (RFC 9568: Active_Down_Interval).
- After a priority-0 advert — Master_Down_Timer (v3: Active_Down_Timer) = Skew_Time.

``Priority`` is the priority of the *Backup that takes over* (its own priority), ``interval`` the
advertisement interval it learnt from the Master (v3) or has configured (v2: it must equal the
Master's, keepalived and FRR drop adverts with another interval). keepalived makes the ``3`` a knob
(``down_timer_adverts``, 1–100); this module takes it as a parameter. FRR truncates to whole
centiseconds (priority 100 gives 0.60 s instead of 0.609375 s), i.e. it takes over up to 10 ms
*earlier* than these formulas, which never makes a takeover look slow.

Everything here is in seconds (float). The v3 formula is written on centiseconds, as in the RFC,
and converted; the result equals ``(256 - p) * interval_s / 256``.
"""

from __future__ import annotations

#: Number of missed adverts before a Backup declares the Master down (RFC: 3; keepalived knob).
DEFAULT_DOWN_TIMER_ADVERTS = 3


def _check(version: int, priority: int, interval_s: float) -> None:
    if version not in (2, 3):
        raise ValueError(f"VRRP version must be 2 or 3, not {version}")
    if not 0 <= priority <= 255:
        raise ValueError(f"priority must be 0..255, not {priority}")
    if interval_s < 0:
        raise ValueError(f"advertisement interval must not be negative, not {interval_s}")


def skew_time(version: int, priority: int, interval_s: float) -> float:
    """Skew_Time in seconds for a Backup of ``priority`` (RFC 3768 §6.1, RFC 9568 §6.1).

    v2: ``(256 - priority) / 256`` s. v3: ``((256 - priority) * interval_cs) / 256`` cs, where
    ``interval_cs`` is the Master's advertisement interval in centiseconds.
    """
    _check(version, priority, interval_s)
    if version == 2:
        return (256 - priority) / 256.0
    interval_cs = interval_s * 100.0
    return ((256 - priority) * interval_cs / 256.0) / 100.0


def master_down_interval(
    version: int, priority: int, interval_s: float, down_timer_adverts: int = DEFAULT_DOWN_TIMER_ADVERTS
) -> float:
    """Master_Down_Interval in seconds: ``down_timer_adverts * interval + Skew_Time`` (RFC: 3 adverts).

    ``priority`` is the priority of the Backup whose timer this is (the router that takes over),
    ``interval_s`` the Master's advertisement interval.
    """
    if down_timer_adverts < 1:
        raise ValueError(f"down_timer_adverts must be at least 1, not {down_timer_adverts}")
    return down_timer_adverts * interval_s + skew_time(version, priority, interval_s)


def takeover_allowance(
    cause: str,
    version: int,
    new_priority: int,
    old_interval_s: float,
    down_timer_adverts: int = DEFAULT_DOWN_TIMER_ADVERTS,
) -> float:
    """What the protocol allows between the old Master's last advert and the new Master's first.

    ``resign``: Skew_Time of the new Master (a Backup that hears priority 0 waits Skew_Time only).
    ``timeout``: Master_Down_Interval of the new Master with the old Master's interval.
    ``preempt``: one advertisement interval of the old Master — the old Master stops on the first
    higher-priority advert it accepts, so the two overlap by at most about one interval
    (PROTOCOL.md §9.7).
    """
    if cause == "resign":
        return skew_time(version, new_priority, old_interval_s)
    if cause == "timeout":
        return master_down_interval(version, new_priority, old_interval_s, down_timer_adverts)
    if cause == "preempt":
        _check(version, new_priority, old_interval_s)
        return old_interval_s
    raise ValueError(f"unknown takeover cause {cause!r}")
