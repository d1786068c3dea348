"""Stage 11 — the command line: argument parsing (``app``), the jobs it runs (``jobs``), figures
(``plotting``). Entry point ``tbspin = tbspin.cli:main``."""

from .app import main

__all__ = ["main"]
