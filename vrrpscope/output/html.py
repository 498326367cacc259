"""The self-contained HTML incident report (``vrrpscope report`` / ``analyze --report``).

:func:`render_report` turns an analysis dict in the DESIGN.md ``analyze --format json`` contract
into one HTML document: inline CSS, inline SVG timelines (:mod:`vrrpscope.output.svg`), one small
inline script for zooming; no external font, script, image or request, so it opens from file://
on an air-gapped laptop and prints (``@media print``).

The jinja2 environment has ``autoescape=True`` and ``undefined=StrictUndefined``; its ``finalize``
hook also makes control characters and lone surrogates visible in every value, so nothing that came
from a packet or a file name can inject markup, script or terminal escapes. The output depends only
on the analysis (plus the optional ``generated_at`` line): the same input renders byte-identically.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from vrrpscope import __version__
from vrrpscope.output.html_model import build_view
from vrrpscope.output.svg import clean

TEMPLATES = Path(__file__).resolve().parent / "templates"  #: where report.html.j2 and its CSS/JS live


def _finalize(value: object) -> object:
    """Make control characters visible in plain strings before autoescaping (Markup is left alone)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean(value)
    return value


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The report's jinja2 environment (autoescape on, strict undefined, control characters made visible)."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(analysis: dict[str, Any], *, generated_at: str | None = None, title: str | None = None) -> str:
    """Render ``analysis`` (the ``analyze --format json`` dict) as one self-contained HTML document.

    ``generated_at`` adds a "Generated ..." line (the only wall-clock text, and only if given);
    ``title`` replaces the default title (``vrrpscope report: <files>``).
    """
    view = build_view(analysis, title=title, generated_at=generated_at)
    return environment().get_template("report.html.j2").render(r=view, version=__version__)


def write_report(analysis: dict[str, Any], path: str | Path, **kw: Any) -> None:
    """Render ``analysis`` and write it to ``path`` (UTF-8), creating parent directories.

    Keyword arguments are those of :func:`render_report`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(analysis, **kw), encoding="utf-8")
