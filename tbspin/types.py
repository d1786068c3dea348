"""Type aliases shared by tbspin's public signatures (instead of ``Any``).

Physics meaning of each alias is in its comment; shapes are documented in the functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: anything numpy turns into an array (lists, tuples, arrays)
ArrayLike = npt.ArrayLike
#: a real float64 array
FloatArray = npt.NDArray[np.float64]
#: a complex128 array
ComplexArray = npt.NDArray[np.complex128]
#: an integer array
IntArray = npt.NDArray[np.int_]
#: Cartesian wave vectors (1/Å): one (d,) vector or a batch (Nk, d)
KPoints = npt.ArrayLike
#: a Cartesian direction: "x"/"y"/"z" or 0/1/2
Direction = str | int
#: a spin direction: an axis, a 3-vector, or the name of an operator of the model
SpinSpec = str | int | Sequence[float] | np.ndarray
#: a gauge operator: None (default policy), "none", an axis, a 3-vector, an operator name, an (N, N) matrix
GaugeSpec = str | Sequence[float] | np.ndarray | None
#: points per periodic direction of a uniform mesh
MeshSpec = int | Sequence[int]
#: a mesh shift in units of the mesh step, per periodic direction
ShiftSpec = float | Sequence[float]
#: a file-system path
PathLike = str | os.PathLike[str]

__all__ = [
    "ArrayLike",
    "FloatArray",
    "ComplexArray",
    "IntArray",
    "KPoints",
    "Direction",
    "SpinSpec",
    "GaugeSpec",
    "MeshSpec",
    "ShiftSpec",
    "PathLike",
]
