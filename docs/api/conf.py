"""Sphinx configuration of tbspin's documentation (``make docs``; built with -W by the tests).

The API reference comes from the numpy-style docstrings (autodoc + napoleon); the Markdown pages
in ``docs/`` (conventions, architecture, reproduction) and the tutorials (jupytext percent scripts,
converted to Markdown at build time) are rendered by MyST.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")

project = "tbspin"
author = "tbspin developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
autosummary_generate = False
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "alabaster"
suppress_warnings = ["myst.header", "myst.xref_missing", "ref.python"]
napoleon_use_ivar = True
nitpicky = False


def _pages() -> None:
    """Copy the Markdown pages and turn the tutorial scripts into Markdown (jupytext)."""
    gen = HERE / "_generated"
    gen.mkdir(exist_ok=True)
    for md in sorted((ROOT / "docs").glob("*.md")):
        (gen / md.name).write_text(md.read_text(encoding="utf-8"), encoding="utf-8")
    import jupytext

    for script in sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py")):
        nb = jupytext.read(script, fmt="py:percent")
        jupytext.write(nb, gen / f"tutorial_{script.stem}.md", fmt="md")


def _escape_bars(app: object, what: str, name: str, obj: object, options: object,
                 lines: list[str]) -> None:
    """Docstrings write |x| for absolute values; reST would read a substitution: escape it."""
    for i, line in enumerate(lines):
        text = line.strip()
        table_row = (text.startswith("|") and text.endswith("|")) or text.startswith(("+-", "+="))
        if "|" in line and not table_row:
            lines[i] = line.replace("|", "\\|")


def setup(app: object) -> None:
    app.connect("autodoc-process-docstring", _escape_bars)  # type: ignore[attr-defined]


_pages()
