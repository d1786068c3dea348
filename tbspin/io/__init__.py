"""File input/output: Wannier90 readers and writers, atomic writes.

Sub-modules are imported on first use, so ``tbspin.io.atomic`` (used to write results and
checkpoints) does not load the Wannier90 parser.
"""

from __future__ import annotations

import importlib

_LAZY = {"atomic_write": "atomic", "atomic_savez": "atomic", "save_figure": "atomic",
         "read_wannier90": "wannier90", "write_hr": "wannier90", "write_tb": "wannier90"}

__all__ = ["atomic_write", "atomic_savez", "save_figure", "read_wannier90", "write_hr", "write_tb"]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
