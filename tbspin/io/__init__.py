"""File input/output: Wannier90 readers and writers, atomic writes."""

from .atomic import atomic_savez, atomic_write, save_figure
from .wannier90 import read_wannier90, write_hr, write_tb

__all__ = ["atomic_write", "atomic_savez", "save_figure", "read_wannier90", "write_hr", "write_tb"]
