"""Error targets of a converged run: one tolerance for a whole tensor, or one per component,
judged at all Fermi energies or only at the headline ones.

A run computes C components at n_E Fermi energies (values E_F-major, ``v[e·C + c]``). Its
:class:`Goal` gives every value the standard error it must reach:

* ``tol`` a number (the tensor rule): every component at E_F to
  max(tol · max_c′ |v(E_F, c′)|, abs_floor_c) — the largest component to ``tol``, the others to
  the same absolute error, so components that vanish by symmetry never hold a run back;
* ``tol`` one number per component: component c to tol_c · max(|v(E_F, c)|, abs_floor_c) — a
  headline component to 2 %, the others to 5 %, each relative to its own size; ``abs_floor_c``
  is then the size below which a component counts as vanishing (its error target stays at
  tol_c · abs_floor_c);
* ``converge_at``: only these Fermi energies are judged (their targets above); the others are
  carried along with the error bars the final mesh gives them (target ∞), e.g. a curve over
  E_F ± 0.5 eV around a headline value.

``abs_floor`` is one number or one per component, in the units of the values.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Sequence

import numpy as np

from tbspin.errors import ParameterError
from tbspin.types import ArrayLike, FloatArray

__all__ = ["Goal", "TolSpec"]

#: a tolerance: one number, or one per component
TolSpec = float | Sequence[float] | FloatArray
#: E_F values closer than this (eV) to a computed one name it in ``converge_at``
EF_MATCH = 1e-9


def _numbers(x: object, name: str, count: int, *, low: float, high: float | None
             ) -> tuple[FloatArray, bool]:
    """``x`` as a float array of 1 or ``count`` values in [low, high) (low excluded for tol);
    whether it was a sequence."""
    seq = not isinstance(x, numbers.Real) and not (isinstance(x, np.ndarray) and x.ndim == 0)
    if isinstance(x, bool) or (seq and (isinstance(x, (str, bytes)) or
                                        not isinstance(x, (Sequence, np.ndarray)))):
        raise ParameterError(f"'{name}' must be a number or one number per component, got {x!r}")
    try:
        arr = np.atleast_1d(np.asarray(x, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError(f"'{name}' must be numbers, got {x!r}") from None
    if arr.ndim != 1 or (seq and arr.size != count):
        raise ParameterError(
            f"'{name}' has {arr.size} values but the run computes {count} component(s): give "
            f"one number, or one per component in the order of the result's components")
    bad = ~np.isfinite(arr) | (arr <= low if name == "tol" else arr < low)
    if high is not None:
        bad |= arr >= high
    if bad.any():
        what = "in (0, 1), e.g. 0.02 for 2 %" if name == "tol" else "finite and ≥ 0"
        raise ParameterError(f"every '{name}' value must be {what}; got {x!r}")
    return arr, seq


@dataclasses.dataclass(frozen=True)
class Goal:
    """The error target of every value of a run (module docstring).

    Attributes
    ----------
    tol : (1,) or (C,) array
    floor : (1,) or (C,) array
        ``abs_floor`` (broadcast over the components).
    per_component : bool
        ``tol`` was given per component.
    judged : (n_E,) bool
        The Fermi energies whose errors decide convergence.
    groups : int
        C components per E_F.
    """

    tol: FloatArray
    floor: FloatArray
    per_component: bool
    judged: np.ndarray
    groups: int

    @classmethod
    def build(cls, tol: TolSpec | None, abs_floor: TolSpec, efermi: FloatArray, groups: int,
              converge_at: ArrayLike | None = None) -> Goal:
        """Validate and assemble (``tol=None``: relative errors, tol 1, nothing to reach).

        Raises
        ------
        ParameterError
            A tolerance outside (0, 1), a negative or non-finite floor, a sequence whose length
            is not the number of components, or a ``converge_at`` energy that is not computed.
        """
        if tol is None:
            t, per = np.ones(1), False
        else:
            t, per = _numbers(tol, "tol", groups, low=0.0, high=1.0)
        f, _ = _numbers(abs_floor, "abs_floor", groups, low=0.0, high=None)
        ef = np.atleast_1d(np.asarray(efermi, dtype=float))
        judged = np.ones(len(ef), bool)
        if converge_at is not None:
            try:
                at = np.atleast_1d(np.asarray(converge_at, dtype=float))
            except (TypeError, ValueError):
                raise ParameterError(f"'converge_at' must be energies (eV), got "
                                     f"{converge_at!r}") from None
            if at.ndim != 1 or at.size == 0 or not np.all(np.isfinite(at)):
                raise ParameterError("'converge_at' must be one or more finite energies (eV) "
                                     "among 'efermi'")
            hit = np.abs(ef[None, :] - at[:, None]) <= EF_MATCH
            missing = at[~hit.any(axis=1)]
            if missing.size:
                raise ParameterError(
                    f"'converge_at' {missing.tolist()} eV is not among the computed Fermi "
                    f"energies {ef.tolist()}: add it to 'efermi' or pick from them")
            judged = hit.any(axis=0)
        return cls(tol=t, floor=f, per_component=per, judged=judged, groups=int(groups))

    def targets(self, v: FloatArray) -> FloatArray:
        """Error target of every value (E_F-major, as ``v``); ∞ at the E_F not judged."""
        a = np.abs(np.asarray(v, dtype=float)).reshape(-1, self.groups)
        if self.per_component:
            t = self.tol[None, :] * np.maximum(a, self.floor[None, :])
        else:
            t = np.maximum(self.tol[0] * a.max(axis=1, keepdims=True), self.floor[None, :])
            t = np.broadcast_to(t, a.shape).copy()
        if len(self.judged) == len(t):
            t[~self.judged] = np.inf
        return t.reshape(-1)

    def worst(self, v: FloatArray, e: FloatArray) -> float:
        """Largest error in units of its target (≤ 1: converged)."""
        ratio = np.asarray(e, float) / np.maximum(self.targets(v), 1e-300)
        return float(np.max(ratio))

    def done(self, v: FloatArray, e: FloatArray, safety: float = 1.0) -> bool:
        """Every error ≤ ``safety`` × its target."""
        return bool(np.all(np.asarray(e, float) <= safety * self.targets(v)))

    def columns(self, n_values: int) -> np.ndarray:
        """Which of the n_E·C values are judged (bool mask)."""
        if len(self.judged) * self.groups != n_values:
            return np.ones(n_values, bool)
        return np.repeat(self.judged, self.groups)

    def describe(self) -> str:
        """"tol=0.02" or "tol=[0.02, 0.05] per component", with "at E_F = …" when restricted."""
        tol = (f"tol={[float(x) for x in self.tol]} per component" if self.per_component
               else f"tol={float(self.tol[0]):g}")
        return tol if self.judged.all() else f"{tol} at {int(self.judged.sum())} E_F"

    def record(self) -> dict[str, object]:
        """The goal for a result's ``extras`` (JSON)."""
        return dict(tol=[float(x) for x in self.tol] if self.per_component else float(self.tol[0]),
                    abs_floor=[float(x) for x in self.floor] if self.floor.size > 1
                    else float(self.floor[0]),
                    per_component=self.per_component, judged=self.judged.tolist())
