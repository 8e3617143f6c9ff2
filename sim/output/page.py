"""The HTML pieces every report is made of: the page, its tables and cells, figures, warnings,
and how to reproduce it.

A report is one self-contained file a planner mails, read in any browser: the style is inline,
numbers sit in cells that never wrap (class ``n``), text cells align left and numbers right.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from ..records import kpi_label

STYLE = (
    "body{font-family:sans-serif;max-width:WIDTH;margin:2em auto;padding:0 1em;line-height:1.4}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}"
    "td[title]{min-width:11em}"
    "th{background:#f4f4f4}"
    "td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "td.n small{color:#555}"
    "td code{white-space:nowrap}td code.value{white-space:pre-wrap;overflow-wrap:anywhere}"
    ".wide{overflow-x:auto}"
    "p.lead{font-size:1.1em}"
    "img{max-width:100%}pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap}"
    "li.warn,p.warn{color:#8a4b00}"
)
"""The report's style sheet (``WIDTH`` is the page's width)."""


def page(title: str, body: str, *, width: str) -> str:
    """A whole HTML page, ``width`` wide."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{STYLE.replace('WIDTH', width)}</style></head><body>\n{body}\n</body></html>\n"
    )


def text_cell(text: str, *, title: str = "", bold: bool = False) -> str:
    """A left-aligned cell of plain text (escaped); ``title`` shows on hover."""
    tip = f' title="{html.escape(title)}"' if title else ""
    inner = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
    return f"<td{tip}>{inner}</td>"


def kpi_cell(kpi: str) -> str:
    """A table cell with the KPI's planner label; its stable name (as in the CSV) on hover."""
    return text_cell(kpi_label(kpi), title=kpi)


def number_cell(text: str, *, note: str = "") -> str:
    """A right-aligned cell that never wraps; ``note`` (escaped) on a second, smaller line."""
    extra = f"<br><small>{html.escape(note)}</small>" if note else ""
    return f'<td class="n">{html.escape(text)}{extra}</td>'


def code_cell(text: str, *, bold: bool = False, value: bool = False) -> str:
    """A cell holding a scenario key (never broken) or a ``value`` (which may wrap, a long
    list of dates), as it is written in a file."""
    inner = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
    cls = ' class="value"' if value else ""
    return f"<td><code{cls}>{inner}</code></td>"


def table(header: Sequence[str], rows: Iterable[str], *, numeric_from: int | None = None) -> str:
    """A table; header columns from ``numeric_from`` on align right, as their numbers do."""

    def th(i: int, name: str) -> str:
        cls = ' class="n"' if numeric_from is not None and i >= numeric_from else ""
        return f"<th{cls}>{html.escape(name)}</th>"

    head = "".join(th(i, h) for i, h in enumerate(header))
    return f'<div class="wide"><table><tr>{head}</tr>{"".join(rows)}</table></div>'


def figures_html(images: dict[str, str]) -> str:
    return "<h2>Figures</h2>" + "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{png}"></figure>'
        for name, png in images.items()
    )


def warnings_html(warnings: Sequence[str]) -> str:
    """The warnings section; "none" when there is nothing to warn of."""
    items = "".join(f'<li class="warn">{html.escape(w)}</li>' for w in warnings)
    return f"<h2>Warnings</h2><ul>{items or '<li>none</li>'}</ul>"


def reproduce_html(command: str, manifest: dict[str, Any], note: str) -> str:
    """The command that made the folder, the package version and commit, and a closing note
    (``note`` is HTML)."""
    git = manifest.get("git", {})
    version = html.escape(str(manifest.get("package", {}).get("version", "")))
    commit = html.escape(str(git.get("commit", "")))
    dirty = " (with local changes)" if git.get("dirty") else ""
    folder = manifest.get("working_directory")
    where = f"# in {html.escape(str(folder))}\n" if folder else ""  # folders made before it
    return (
        f"<h2>Reproduce</h2><pre>{where}{html.escape(command)}\n"
        f"# caseflow {version}, commit {commit}{dirty}</pre>\n<p>{note}</p>"
    )
