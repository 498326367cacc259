"""keepalived.conf awareness: read configurations as keepalived 2.2.7 does and lint them.

* :mod:`vrrpscope.config.parser` — :func:`parse_file` / :func:`parse_files` / :func:`parse_text`
  (never raise; problems are :class:`~vrrpscope.config.model.Diagnostic` records with file:line);
* :mod:`vrrpscope.config.model` — the frozen records, with derived facts per instance;
* :mod:`vrrpscope.config.lint` — :func:`lint_files`, the checks behind ``vrrpscope lint``.
"""

from __future__ import annotations
