"""File input/output: Wannier90 readers and writers, atomic writes.

Imported lazily: ``import tbspin.io`` loads nothing; ``from tbspin.io import atomic_write``
loads only :mod:`tbspin.io.atomic`, and the Wannier90 parser is loaded on first use of one of
its names.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "atomic_write": "atomic",
    "atomic_savez": "atomic",
    "save_figure": "atomic",
    "read_wannier90": "wannier90",
    "write_hr": "wannier90",
    "write_tb": "wannier90",
}

__all__ = ["atomic_write", "atomic_savez", "save_figure", "read_wannier90", "write_hr", "write_tb"]


def __getattr__(name: str) -> object:
    if name in _WHERE:
        module = importlib.import_module(f".{_WHERE[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
