"""Wannier90's real angular functions and their rotation matrices D(g).

Conventions (Wannier90 user guide, Tables 3.1 and 3.2; the same functions as the VASP wiki's
"Angular functions"). Up to a positive normalization each function is the polynomial below
(r² = x² + y² + z²), in this order inside each l:

======  ==================================================================================
l = 0   s = 1
l = 1   pz = z, px = x, py = y
l = 2   dz2 = 3z² − r², dxz = xz, dyz = yz, dx2-y2 = x² − y², dxy = xy
l = 3   fz3 = z(5z² − 3r²), fxz2 = x(5z² − r²), fyz2 = y(5z² − r²), fz(x2-y2) = z(x² − y²),
        fxyz = xyz, fx(x2-3y2) = x(x² − 3y²), fy(3x2-y2) = y(3x² − y²)
======  ==================================================================================

Hybrids (Table 3.2), as combinations of the normalized functions above:

* sp-1,2 = (s ± px)/√2
* sp2-1,2 = s/√3 − px/√6 ± py/√2, sp2-3 = s/√3 + 2px/√6
* sp3-1..4 = ½(s + px + py + pz), ½(s + px − py − pz), ½(s − px + py − pz), ½(s − px − py + pz)
* sp3d-1..3 = the sp2 set, sp3d-4,5 = (±pz + dz2)/√2
* sp3d2-1,2 = s/√6 ∓ px/√2 − dz2/√12 + dx2-y2/2, sp3d2-3,4 = s/√6 ∓ py/√2 − dz2/√12 − dx2-y2/2,
  sp3d2-5,6 = s/√6 ∓ pz/√2 + dz2/√3

Rotation matrices
-----------------
A point operation R (3×3 Cartesian, proper or improper) acts on a function by
(g f)(r) = f(R⁻¹ r). Every real harmonic of degree l is a contraction T·r^{⊗l} of a symmetric
traceless rank-l tensor T; then (g f)(r) = (R^{⊗l} T)·r^{⊗l} and

    g f_m = Σ_m' f_m' D_m'm(R),     D_m'm = ⟨T_m', R^{⊗l} T_m⟩

with Frobenius-normalized tensors (rotation invariant, proportional to the L² product on the
sphere for harmonic polynomials), so D is real orthogonal and D(R₁R₂) = D(R₁)D(R₂); improper
operations give the parity (−1)^l. With local axes (Wannier90's ``z=``, ``x=``), a function
of site a is f(A_a r) (rows of A_a: local x, y, z) and the block mapping site a to site b is
D(A_b R A_aᵀ).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from tbspin.errors import ParameterError
from tbspin.types import FloatArray

__all__ = [
    "ORBITALS",
    "SHELLS",
    "HYBRIDS",
    "L_OF",
    "polynomial",
    "basis_index",
    "harmonic_matrix",
    "orbital_coefficients",
]

# monomials as (exponent of x, y, z): coefficient
_POLY: dict[str, dict[tuple[int, int, int], float]] = {
    "s": {(0, 0, 0): 1.0},
    "pz": {(0, 0, 1): 1.0},
    "px": {(1, 0, 0): 1.0},
    "py": {(0, 1, 0): 1.0},
    "dz2": {(0, 0, 2): 2.0, (2, 0, 0): -1.0, (0, 2, 0): -1.0},
    "dxz": {(1, 0, 1): 1.0},
    "dyz": {(0, 1, 1): 1.0},
    "dx2-y2": {(2, 0, 0): 1.0, (0, 2, 0): -1.0},
    "dxy": {(1, 1, 0): 1.0},
    "fz3": {(0, 0, 3): 2.0, (2, 0, 1): -3.0, (0, 2, 1): -3.0},
    "fxz2": {(1, 0, 2): 4.0, (3, 0, 0): -1.0, (1, 2, 0): -1.0},
    "fyz2": {(0, 1, 2): 4.0, (2, 1, 0): -1.0, (0, 3, 0): -1.0},
    "fz(x2-y2)": {(2, 0, 1): 1.0, (0, 2, 1): -1.0},
    "fxyz": {(1, 1, 1): 1.0},
    "fx(x2-3y2)": {(3, 0, 0): 1.0, (1, 2, 0): -3.0},
    "fy(3x2-y2)": {(2, 1, 0): 3.0, (0, 3, 0): -1.0},
}

#: the 16 real harmonics l = 0..3 in Wannier90's order
ORBITALS: tuple[str, ...] = tuple(_POLY)
L_OF: dict[str, int] = {name: sum(next(iter(p))) for name, p in _POLY.items()}
#: the shells "s", "p", "d", "f" as tuples of single orbitals
SHELLS: dict[str, tuple[str, ...]] = {
    s: tuple(n for n in ORBITALS if L_OF[n] == lv) for s, lv in zip("spdf", range(4))
}

_r2, _r3, _r6, _r12 = math.sqrt(2), math.sqrt(3), math.sqrt(6), math.sqrt(12)
_SP2 = [{"s": 1 / _r3, "px": -1 / _r6, "py": 1 / _r2},
        {"s": 1 / _r3, "px": -1 / _r6, "py": -1 / _r2},
        {"s": 1 / _r3, "px": 2 / _r6}]
#: hybrid sets as lists of {orbital: coefficient}
HYBRIDS: dict[str, list[dict[str, float]]] = {
    "sp": [{"s": 1 / _r2, "px": 1 / _r2}, {"s": 1 / _r2, "px": -1 / _r2}],
    "sp2": _SP2,
    "sp3": [{"s": 0.5, "px": 0.5, "py": 0.5, "pz": 0.5},
            {"s": 0.5, "px": 0.5, "py": -0.5, "pz": -0.5},
            {"s": 0.5, "px": -0.5, "py": 0.5, "pz": -0.5},
            {"s": 0.5, "px": -0.5, "py": -0.5, "pz": 0.5}],
    "sp3d": _SP2 + [{"pz": 1 / _r2, "dz2": 1 / _r2}, {"pz": -1 / _r2, "dz2": 1 / _r2}],
    "sp3d2": [{"s": 1 / _r6, "px": -1 / _r2, "dz2": -1 / _r12, "dx2-y2": 0.5},
              {"s": 1 / _r6, "px": 1 / _r2, "dz2": -1 / _r12, "dx2-y2": 0.5},
              {"s": 1 / _r6, "py": -1 / _r2, "dz2": -1 / _r12, "dx2-y2": -0.5},
              {"s": 1 / _r6, "py": 1 / _r2, "dz2": -1 / _r12, "dx2-y2": -0.5},
              {"s": 1 / _r6, "pz": -1 / _r2, "dz2": 1 / _r3},
              {"s": 1 / _r6, "pz": 1 / _r2, "dz2": 1 / _r3}],
}


def polynomial(name: str, r: FloatArray) -> FloatArray:
    """The (unnormalized) polynomial of orbital ``name`` at Cartesian points ``r`` (..., 3)."""
    if name not in _POLY:
        raise ParameterError(f"unknown real harmonic {name!r}; known: {', '.join(ORBITALS)}")
    r = np.asarray(r, dtype=float)
    out = np.zeros(r.shape[:-1])
    for (a, b, c), coef in _POLY[name].items():
        out = out + coef * r[..., 0] ** a * r[..., 1] ** b * r[..., 2] ** c
    return out


def basis_index(name: str) -> int:
    """Index of a single real harmonic in :data:`ORBITALS` (0..15)."""
    try:
        return ORBITALS.index(name)
    except ValueError:
        raise ParameterError(f"unknown real harmonic {name!r}; known: {', '.join(ORBITALS)}") \
            from None


@functools.cache
def _tensors(lval: int) -> FloatArray:
    """Frobenius-normalized symmetric tensors (2l+1, 3, ..., 3) of the shell l."""
    names = [n for n in ORBITALS if L_OF[n] == lval]
    out = np.zeros((len(names),) + (3,) * lval)
    for i, name in enumerate(names):
        for (a, b, c), coef in _POLY[name].items():
            axes = (0,) * a + (1,) * b + (2,) * c
            perms = set(itertools.permutations(axes))
            for p in perms:  # symmetrized outer product: T·r^{⊗l} = coef x^a y^b z^c
                out[(i,) + p] += coef / len(perms)
        out[i] /= np.linalg.norm(out[i])
    out.setflags(write=False)
    return out


def harmonic_matrix(rotation: FloatArray, lmax: int = 3) -> FloatArray:
    """Block-diagonal D(R) (16×16 for lmax = 3) on :data:`ORBITALS` (module docstring).

    Parameters
    ----------
    rotation : (3, 3) array_like
        Orthogonal Cartesian matrix (det ±1).
    lmax : int
        Largest l (0..3); the result has (lmax + 1)² rows.

    Returns
    -------
    (n, n) float array
        ``g f_m = Σ_m' f_m' D[m', m]``.
    """
    R = np.asarray(rotation, dtype=float)
    if R.shape != (3, 3) or not np.allclose(R @ R.T, np.eye(3), atol=1e-6):
        raise ParameterError("rotation must be an orthogonal 3×3 matrix (Cartesian)")
    blocks = []
    for lval in range(lmax + 1):
        T = _tensors(lval)
        Tr = T
        for ax in range(1, lval + 1):  # R on every index
            Tr = np.moveaxis(np.tensordot(Tr, R, axes=([ax], [1])), -1, ax)
        blocks.append(T.reshape(len(T), -1) @ Tr.reshape(len(T), -1).T)
    n = (lmax + 1) ** 2
    D = np.zeros((n, n))
    i = 0
    for b in blocks:
        D[i:i + len(b), i:i + len(b)] = b
        i += len(b)
    return D


def orbital_coefficients(item: str) -> tuple[tuple[str, ...], FloatArray]:
    """Labels and coefficient rows (n, 16) over :data:`ORBITALS` of one projection item.

    ``item`` is a shell ("s", "p", "d", "f"), a single orbital ("pz", "dxy", ...), a hybrid set
    ("sp3", "sp3d2", ...) or a single hybrid ("sp3-2"), or ``l=L`` with optional ``,mr=i,j``
    (``l`` negative for hybrids: −1 sp, −2 sp2, −3 sp3, −4 sp3d, −5 sp3d2).
    """
    key = item.strip().lower().replace(" ", "")
    neg = {"-1": "sp", "-2": "sp2", "-3": "sp3", "-4": "sp3d", "-5": "sp3d2"}
    labels: list[str]
    rows: list[dict[str, float]]
    if key.startswith("l="):
        body = key[2:]
        lpart, _, mrpart = body.partition(",mr=")
        if lpart in neg:
            base = neg[lpart]
            every = [f"{base}-{i + 1}" for i in range(len(HYBRIDS[base]))]
            rowsall = HYBRIDS[base]
        elif lpart in ("0", "1", "2", "3"):
            every = list(SHELLS["spdf"[int(lpart)]])
            rowsall = [{n: 1.0} for n in every]
        else:
            raise ParameterError(f"projection {item!r}: l must be -5..3")
        pick: list[int] = list(range(len(every)))
        if mrpart:
            try:
                pick = [int(x) - 1 for x in mrpart.split(",")]
            except ValueError:
                raise ParameterError(f"projection {item!r}: cannot read mr=") from None
            if any(p < 0 or p >= len(every) for p in pick):
                raise ParameterError(f"projection {item!r}: mr outside 1..{len(every)}")
        labels = [every[p] for p in pick]
        rows = [rowsall[p] for p in pick]
    elif key in SHELLS:
        labels = list(SHELLS[key])
        rows = [{n: 1.0} for n in labels]
    elif key in _POLY:
        labels, rows = [key], [{key: 1.0}]
    elif key in HYBRIDS:
        labels = [f"{key}-{i + 1}" for i in range(len(HYBRIDS[key]))]
        rows = HYBRIDS[key]
    elif "-" in key and key.rsplit("-", 1)[0] in HYBRIDS:
        base, num = key.rsplit("-", 1)
        if not num.isdigit() or not 1 <= int(num) <= len(HYBRIDS[base]):
            raise ParameterError(f"unknown hybrid {item!r}")
        labels, rows = [key], [HYBRIDS[base][int(num) - 1]]
    else:
        raise ParameterError(
            f"unknown projection {item!r}: use s, p, d, f, a single orbital ({', '.join(ORBITALS)}), "
            f"a hybrid ({', '.join(HYBRIDS)}) or l=..,mr=..")
    C = np.zeros((len(rows), len(ORBITALS)))
    for i, row in enumerate(rows):
        for name, coef in row.items():
            C[i, basis_index(name)] = coef
    return tuple(labels), C
