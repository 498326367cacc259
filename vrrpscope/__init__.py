"""vrrpscope: what happened to my virtual IPs? VRRP/GARP/NA capture analysis."""

from __future__ import annotations

__version__ = "0.1.0"
