"""Band-resolved kernels k → (E, X) built on tbspin's public integrand functions."""

from __future__ import annotations

import numpy as np

from tbspin.model.lattice import LatticeModel
from tbspin.observables import spin_hall_integrand
from tbspin.reproduce._mesh import Kernel
from tbspin.types import Direction, FloatArray, SpinSpec


def shc_kernel(model: LatticeModel, *, spin: SpinSpec, current: Direction, efield: Direction,
               formula: str = "proper") -> Kernel:
    """Kernel of σ^spin_{current, efield} (spin in ħ/2; formula "proper" or "conventional")."""

    def kernel(k: FloatArray) -> tuple[FloatArray, FloatArray]:
        res = spin_hall_integrand(model, k, spin=spin, current=current, formula=formula,
                                  efield=efield)
        return res.energies, res.values

    return kernel


class EdgeTracker:
    """Wrap a kernel and record the extrema of two bands over every k it sees."""

    def __init__(self, kernel: Kernel, lower_band: int, upper_band: int) -> None:
        self.kernel = kernel
        self.lower_band, self.upper_band = lower_band, upper_band
        self.top = -np.inf
        self.bottom = np.inf

    def __call__(self, k: FloatArray) -> tuple[FloatArray, FloatArray]:
        E, X = self.kernel(k)
        self.top = max(self.top, float(E[:, self.lower_band].max()))
        self.bottom = min(self.bottom, float(E[:, self.upper_band].min()))
        return E, X
