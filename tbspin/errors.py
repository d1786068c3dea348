"""Exception and warning classes of tbspin.

Every error tbspin raises on bad input is a subclass of :class:`TbspinError` *and* of the
builtin class a user would expect (``ValueError`` for bad values), so ``except ValueError``
keeps working.
"""

from __future__ import annotations


class TbspinError(Exception):
    """Base class of all tbspin errors."""


class ParameterError(TbspinError, ValueError):
    """A parameter of a public function has a bad value. The message names the parameter."""


class ArgumentError(TbspinError, TypeError):
    """A call has an unknown or missing keyword argument (a ``TypeError``, as Python's own)."""


class ModelError(TbspinError, ValueError):
    """A model is inconsistent: shapes, Hermiticity, positions, operators."""


class CheckpointError(TbspinError, ValueError):
    """A checkpoint file is unreadable, foreign, or belongs to another calculation."""


class OutputError(TbspinError, OSError):
    """An output path cannot be written (checked before a computation starts)."""


class MissingDependencyError(TbspinError, ImportError):
    """An optional dependency (e.g. Kwant) is needed; the message says how to install it."""


class WannierFormatError(TbspinError, ValueError):
    """A Wannier90 file is malformed. The message names the file and the line.

    Attributes
    ----------
    path : str or None
        The file that failed to parse.
    line : int or None
        1-based line number where the problem was found (None when not line-specific).
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + message)


class TbspinWarning(UserWarning):
    """Base class of tbspin warnings (gauge choices, weak convergence, suspicious input)."""


class GaugeWarning(TbspinWarning):
    """A result depends on a basis choice inside degenerate bands that tbspin had to make."""


class ConvergenceWarning(TbspinWarning):
    """A numerical parameter (mesh, finite-difference step) looks too coarse."""


class RegularizationWarning(TbspinWarning):
    """A lattice regularization changed the physics (e.g. band inversions away from Γ)."""


class LongRunWarning(TbspinWarning):
    """A run is estimated to take very long (the message gives the estimate and the way out)."""
