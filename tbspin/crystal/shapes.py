"""Shapes of linear-response tensors from a (magnetic) point group, by linear algebra.

A Cartesian tensor T with indices of kind "polar" (current, field) or "axial" (spin) transforms
under a point operation R as

    T'_{a b …} = Σ M_{a a'} M_{b b'} … T_{a' b' …},   M = R (polar) or det(R) R (axial),

and an antiunitary operation (R followed by time reversal) multiplies by the tensor's parity
under T: +1 for a T-even response, −1 for a T-odd one. The tensor allowed by the group is the
range of the group average P = 1/|G| Σ_g s_g M_g^{⊗n} (a projector: s_g is a one-dimensional
representation), computed numerically; nothing is tabulated per crystal class.

* Spin Hall conductivity σ^l_ij (spin l axial, current i and field j polar): its intrinsic
  (dissipationless) part is T-even, ``time_parity="even"``; in magnets a T-odd part (the
  "magnetic spin Hall effect") exists as well, ``time_parity="odd"``; ``None`` imposes only the
  unitary operations (the sum of both).
* Anomalous Hall conductivity as the pseudovector σ_k = ½ ε_kij σ_ij (axial, T-odd).

This is the symmetry of a response with a definite T parity (Berry-curvature responses); the
Onsager transposition of the full dissipative tensor (Kleiner's scheme, as in Seemann et al.,
PRB 92, 155138 (2015)) is not applied. For R-3m1', P2_1/m1', Fm-3m1' and I4/mm'm' (T-even and
T-odd σ^l_ij, AHC) the shapes equal, entry by entry, those of symmetr 0.11.1, an independent
implementation of that scheme (tests/test_crystal_data.py).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np
import scipy.linalg

from tbspin.crystal.spacegroup import SpaceGroup
from tbspin.errors import ParameterError
from tbspin.types import FloatArray

__all__ = ["TensorShape", "tensor_shape", "spin_hall_shape", "ahc_shape"]

_XYZ = "xyz"
#: coefficients below this are zero: operations of a lattice read to ~6 digits (Bi₂Se₃) are
#: orthogonal only to ~1e-7
_ZERO = 1e-6
PointOps = Sequence[tuple[FloatArray, bool]]


@dataclasses.dataclass(frozen=True, eq=False)
class TensorShape:
    """Which components of a tensor a point group allows (module docstring).

    Attributes
    ----------
    kinds : tuple of str
        "polar"/"axial" per index.
    time_parity : str or None
    projector : (3^n, 3^n) float array
        P; ``project`` applies it.
    basis : (n_independent, 3^n) float array
        Orthonormal basis of the allowed tensors (flattened, C order).
    free : tuple of tuple of int
        Index tuples of the components chosen as independent.
    coefficients : (3^n, n_independent) float array
        Every component as a combination of the free ones.
    labels : tuple of str
        Readable name of every component.
    """

    kinds: tuple[str, ...]
    time_parity: str | None
    projector: FloatArray
    basis: FloatArray
    free: tuple[tuple[int, ...], ...]
    coefficients: FloatArray
    labels: tuple[str, ...]

    @property
    def rank(self) -> int:
        return len(self.kinds)

    @property
    def n_independent(self) -> int:
        return len(self.basis)

    @property
    def zero(self) -> np.ndarray:
        """Boolean array (3,)*rank: components forbidden by symmetry."""
        return np.all(np.abs(self.coefficients) < _ZERO, axis=1).reshape((3,) * self.rank)

    def project(self, tensor: FloatArray) -> FloatArray:
        """The symmetric part of ``tensor`` (shape (3,)*rank)."""
        t = np.asarray(tensor, dtype=float)
        if t.shape != (3,) * self.rank:
            raise ParameterError(f"tensor must have shape {(3,) * self.rank}, got {t.shape}")
        return (self.projector @ t.ravel()).reshape(t.shape)

    def forbidden_part(self, tensor: FloatArray) -> float:
        """max |tensor − project(tensor)|: how far a computed tensor breaks the symmetry."""
        return float(np.abs(np.asarray(tensor, dtype=float) - self.project(tensor)).max())

    def relations(self) -> list[str]:
        """Readable lines: each free component with the components equal or opposite to it,
        other combinations, and the vanishing ones."""
        C = self.coefficients
        lines = []
        used = np.zeros(len(C), dtype=bool)
        for j, f in enumerate(self.free):
            ref = self.labels[np.ravel_multi_index(f, (3,) * self.rank)]
            parts = [ref]
            for c in range(len(C)):
                row = C[c]
                nz = np.abs(row) > _ZERO
                if nz.sum() == 1 and nz[j] and self.labels[c] != ref:
                    v = row[j]
                    sign = "" if abs(v - 1) < _ZERO else "−" if abs(v + 1) < _ZERO else f"{v:.4g} "
                    parts.append(f"{sign}{self.labels[c]}")
                    used[c] = True
                elif nz.sum() == 1 and nz[j]:
                    used[c] = True
            lines.append(" = ".join(parts))
        for c in range(len(C)):
            nz = np.abs(C[c]) > _ZERO
            if nz.sum() > 1 and not used[c]:
                terms = " + ".join(
                    f"{C[c, j]:.4g}·{self.labels[np.ravel_multi_index(self.free[j], (3,) * self.rank)]}"
                    for j in np.nonzero(nz)[0])
                lines.append(f"{self.labels[c]} = {terms}")
        zero = [self.labels[c] for c in range(len(C)) if not np.any(np.abs(C[c]) > _ZERO)]
        if zero:
            lines.append(f"zero: {', '.join(zero)}" if len(zero) < len(C) else "all zero")
        return lines

    def __str__(self) -> str:
        head = (f"{self.n_independent} independent component(s) ({', '.join(self.kinds)}; "
                f"T parity {self.time_parity or 'any'})")
        return "\n".join([head] + ["  " + line for line in self.relations()])


def _point_ops(group: SpaceGroup | PointOps) -> list[tuple[FloatArray, bool]]:
    if isinstance(group, SpaceGroup):
        return group.point_operations()
    out = []
    for R, anti in group:
        Rm = np.asarray(R, dtype=float)
        if Rm.shape != (3, 3) or not np.allclose(Rm @ Rm.T, np.eye(3), atol=1e-6):
            raise ParameterError("point operations must be orthogonal 3×3 Cartesian matrices")
        out.append((Rm, bool(anti)))
    return out


def tensor_shape(
    group: SpaceGroup | PointOps, kinds: Sequence[str], *, time_parity: str | None = "even",
    labels: Sequence[str] | None = None,
) -> TensorShape:
    """The shape of a Cartesian tensor under a point group (module docstring).

    Parameters
    ----------
    group : SpaceGroup or sequence of (R, antiunitary)
        The whole (closed) point group.
    kinds : sequence of {"polar", "axial"}
    time_parity : {"even", "odd"} or None
        Sign of the tensor under T for antiunitary operations; None ignores them.
    labels : sequence of str, optional
        A name per component (3^n, C order).
    """
    ops = _point_ops(group)
    kinds = tuple(kinds)
    if not kinds or any(k not in ("polar", "axial") for k in kinds):
        raise ParameterError(f"kinds must be 'polar' or 'axial' per index, got {kinds!r}")
    if time_parity not in ("even", "odd", None):
        raise ParameterError(f"time_parity must be 'even', 'odd' or None, got {time_parity!r}")
    n = 3 ** len(kinds)
    kept = [(R, anti) for R, anti in ops if not (anti and time_parity is None)]
    Rs = np.array([R for R, _ in kept])  # (G, 3, 3)
    sign = np.array([-1.0 if anti and time_parity == "odd" else 1.0 for _, anti in kept])
    det = np.linalg.det(Rs)[:, None, None]
    # K_g = ⊗ over the indices of R_g (× det R_g for an axial index), all elements at once
    K: np.ndarray = np.ones((len(kept), 1, 1))
    for kind in kinds:
        F = Rs * det if kind == "axial" else Rs
        m = K.shape[1]
        K = (K[:, :, None, :, None] * F[:, None, :, None, :]).reshape(len(kept), 3 * m, 3 * m)
    P = np.zeros((n, n))
    for g in range(len(kept)):  # summed in element order: the projector bit for bit as before,
        P += sign[g] * K[g]     # so the QR pivots (the free components) do not move
    P /= len(kept)
    if not np.allclose(P @ P, P, atol=1e-8):
        raise ParameterError("the operations do not form a group (the average is not a "
                             "projector): pass the whole point group")
    U, s, _ = np.linalg.svd(P)
    basis: np.ndarray = U[:, s > 0.5].T
    if len(basis):
        _, _, piv = scipy.linalg.qr(basis, pivoting=True)
        free_idx = np.sort(piv[: len(basis)])
        coef = basis.T @ np.linalg.inv(basis[:, free_idx].T)
        coef[np.abs(coef) < _ZERO] = 0.0
    else:
        free_idx = np.zeros(0, dtype=int)
        coef = np.zeros((n, 0))
    names = (tuple(labels) if labels is not None else
             tuple("T_" + "".join(_XYZ[i] for i in idx)
                   for idx in itertools.product(range(3), repeat=len(kinds))))
    if len(names) != n:
        raise ParameterError(f"labels must name {n} components")
    free = tuple(tuple(int(x) for x in np.unravel_index(i, (3,) * len(kinds))) for i in free_idx)
    return TensorShape(kinds=kinds, time_parity=time_parity, projector=P, basis=basis,
                       free=free, coefficients=coef, labels=names)


def spin_hall_shape(group: SpaceGroup | PointOps, *, time_parity: str | None = "even"
                    ) -> TensorShape:
    """Shape of σ^l_ij (indices l, i, j: spin axial, current and field polar)."""
    labels = [f"σ^{_XYZ[l]}_{_XYZ[i]}{_XYZ[j]}"
              for l, i, j in itertools.product(range(3), repeat=3)]
    return tensor_shape(group, ("axial", "polar", "polar"), time_parity=time_parity,
                        labels=labels)


def ahc_shape(group: SpaceGroup | PointOps) -> TensorShape:
    """Shape of the anomalous Hall pseudovector (σ_yz, σ_zx, σ_xy): axial, T-odd."""
    return tensor_shape(group, ("axial",), time_parity="odd",
                        labels=["σ_yz", "σ_zx", "σ_xy"])
