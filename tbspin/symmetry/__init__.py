"""Stage 1 — symmetry operations on H_R: time reversal, inversion, their violation by a fit and
the T/P symmetrization (``operations``)."""

from .operations import (
    SymmetryReport,
    Violation,
    inversion_image,
    inversion_map,
    source_file,
    spin_order_of,
    symmetrized,
    time_reversal_image,
    time_reversal_matrix,
    violation,
    win_parities,
)

__all__ = ["SymmetryReport", "Violation", "time_reversal_matrix", "time_reversal_image",
           "inversion_map", "source_file", "spin_order_of", "inversion_image", "violation",
           "symmetrized", "win_parities"]
