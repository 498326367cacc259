"""CSV (and Parquet, when pyarrow is installed) tables of an analysis, built with pandas at the end.

One file per table in ``--out DIR``: ``routers``, ``timeline``, ``takeovers``, ``adverts`` (the
per-router advert times the analysis kept), ``arp_owners`` and ``findings``. The frames are built
in memory from the JSON-contract dict (``DataFrame.from_records``), never via a temporary file.
pandas is imported here only, so commands that do not export never pay for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vrrpscope.output.safe import terminal_safe

TABLES = ("routers", "timeline", "takeovers", "adverts", "arp_owners", "findings")


#: First characters that make a spreadsheet read a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")


def csv_safe(value: Any) -> Any:
    """Make a string cell safe to open or ``cat``: control characters shown as ``\\xNN``, formulas defused.

    Strings can come from packets or file names (a pcapng ``if_name``); a leading ``= + - @`` gets a
    ``'`` prefix (OWASP's CSV-injection advice). Non-strings are returned unchanged.
    """
    if not isinstance(value, str):
        return value
    value = terminal_safe(value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _group_keys(g: dict[str, Any]) -> dict[str, Any]:
    return {"segment": g.get("segment"), "family": g.get("family"), "vrid": g.get("vrid")}


def table_records(analysis: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Flatten the analysis dict into one list of flat records per table."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for g in analysis.get("groups", []):
        keys = _group_keys(g)
        for r in g.get("routers", []):
            auth = r.get("auth") or {}
            out["routers"].append(
                {
                    **keys,
                    "ip": r.get("ip"),
                    "mac": r.get("mac"),
                    "priorities": " ".join(str(p) for p in r.get("priorities", [])),
                    "advert_int": r.get("advert_int"),
                    "auth_type": auth.get("type"),
                    "auth_fingerprint": auth.get("fingerprint"),
                    "vips": " ".join(r.get("vips", [])),
                    "adverts": r.get("adverts"),
                    "first_seen": r.get("first_seen"),
                    "last_seen": r.get("last_seen"),
                    "checksum_variants": " ".join(str(c) for c in r.get("checksum_variants", []) or []),
                }
            )
            if auth.get("password") is not None:  # only there with --show-secrets
                out["routers"][-1]["auth_password"] = auth["password"]
        for iv in g.get("timeline", []):
            out["timeline"].append({**keys, **iv})
        for t in g.get("takeovers", []):
            out["takeovers"].append({**keys, **t})
        for router, times in (g.get("advert_times") or {}).items():
            for t in times:
                out["adverts"].append({**keys, "router": router, "time": t})
    for o in analysis.get("arp_owners", []):
        out["arp_owners"].append(dict(o))
    for f in analysis.get("findings", []):
        rec = {k: v for k, v in f.items() if k not in ("routers", "frames")}
        rec["routers"] = " ".join(f.get("routers", []) or [])
        rec["frames"] = json.dumps(f.get("frames", []), separators=(",", ":"))
        for k, v in list(rec.items()):
            if isinstance(v, (dict, list)):
                rec[k] = json.dumps(v, separators=(",", ":"), sort_keys=True)
        out["findings"].append(rec)
    return {name: [{k: csv_safe(v) for k, v in rec.items()} for rec in recs] for name, recs in out.items()}


def write_tables(analysis: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write every table as CSV (and Parquet if pyarrow is importable) into ``out_dir``."""
    import pandas as pd

    try:
        import pyarrow  # noqa: F401

        parquet = True
    except ImportError:
        parquet = False
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, records in table_records(analysis).items():
        frame = pd.DataFrame.from_records(records)
        path = target / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
        if parquet and not frame.empty:
            ppath = target / f"{name}.parquet"
            frame.to_parquet(ppath, index=False)
            written.append(ppath)
    return written
