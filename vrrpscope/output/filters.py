"""Wireshark display filters that open the frames a finding cites.

Checked against tshark 4.0: set elements must be comma-separated (``{12, 13}``); the older
whitespace-only form is rejected.
"""

from __future__ import annotations

from collections.abc import Iterable


def frame_ranges(numbers: Iterable[int]) -> list[str]:
    """Sorted unique frame numbers with runs of three or more written ``a..b``."""
    nums = sorted(set(numbers))
    out: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{nums[i]}..{nums[j]}")
            i = j + 1
        else:
            out.append(str(nums[i]))
            i += 1
    return out


def display_filter(numbers: Iterable[int]) -> str:
    """A Wireshark display filter opening ``numbers``: ``frame.number in {12, 13, 20..25}``.

    Set elements are comma-separated: Wireshark 4.0 rejects the whitespace-only form.
    """
    parts = frame_ranges(numbers)
    if len(parts) == 1 and ".." not in parts[0]:
        return f"frame.number == {parts[0]}"
    return "frame.number in {" + ", ".join(parts) + "}"
