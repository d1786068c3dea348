"""Direct Bloch sums H(k), ∂H/∂k_a at arbitrary k as one real matrix product.

The sum H(k) = Σ_R e^{ik·R} H_R runs over pairs (R, −R) (every model has both, see
:mod:`tbspin.model.hoppings`)::

    e^{ik·R} H_R + e^{−ik·R} H_{−R} = cos(k·R) (H_R + H_{−R}) + sin(k·R) i(H_R − H_{−R})

and ∂/∂k_a of it has the same two columns times R_a (cos ↔ sin). With the cosines and sines
as one real (Nk, 2P) matrix (P pairs) and the lower triangles (i ≥ j) of all hopping
combinations as one (2P, (1 + nd)·N(N+1)/2) complex table, H and every ∂H come from a single
real GEMM: about 4N/(N+1) ≈ 4× fewer multiplications than the complex product over all R, and
half the cos/sin evaluations. The upper triangle is the conjugate of the lower one: H(k) is the
Hermitian matrix whose lower triangle is the Bloch sum (the triangle LAPACK's ``eigh`` reads;
models are Hermitian to ``hermitian_tol`` by construction). Models with few R (the catalogue's)
sum all N² entries instead: their product is cheap and mirroring would cost more.

The FFT path for whole uniform meshes is :mod:`tbspin.bz.fourier`; this one serves arbitrary k
lists (adaptive refinement patches, band paths, k ± δ of finite differences).
"""

from __future__ import annotations

import numpy as np

from tbspin.errors import ModelError
from tbspin.model.hoppings import minus_index
from tbspin.types import ComplexArray, FloatArray, IntArray

__all__ = ["BlochSum"]

#: below this many (R, −R) pairs all N² entries are summed (the product costs less than the
#: gather that mirrors a triangle; measured on the catalogue models vs the Wannier ones)
FULL_BELOW = 32


class BlochSum:
    """Precomputed tables of the direct Bloch sum of one model (built once per model).

    Parameters
    ----------
    lattice : (d, d) Å, rows a_i
    R : (NR, d) int, every −R present
    hoppings : (NR, N, N) eV
    positions : (N, d) Å, or None for the "cell" convention (no orbital phases)
    """

    def __init__(self, lattice: FloatArray, R: IntArray, hoppings: ComplexArray,
                 positions: FloatArray | None) -> None:
        n = hoppings.shape[1]
        minus = minus_index(R)
        if np.any(minus < 0):
            raise ModelError("the direct Bloch sum needs H_{-R} for every R of the hopping table")
        idx = np.arange(len(R))
        zero = np.nonzero(~np.any(R != 0, axis=1))[0]
        # one representative per pair {R, −R}: the one with the smaller index (R ≠ 0)
        rep = idx[(idx < minus) & ~np.isin(idx, zero)]
        self.n = n
        # few pairs: the product is cheap and the full N² columns avoid the triangle's gather
        self.full = len(rep) < FULL_BELOW
        ij = np.indices((n, n)).reshape(2, -1) if self.full else np.tril_indices(n)
        self.il: IntArray = ij[0]
        self.jl: IntArray = ij[1]
        tri = (slice(None), self.il, self.jl)
        Hp, Hm = hoppings[rep], hoppings[minus[rep]]
        self.A = np.ascontiguousarray((Hp + Hm)[tri])  # (P, T) cos coefficients
        self.B = np.ascontiguousarray(1j * (Hp - Hm)[tri])  # (P, T) sin coefficients
        self.H0 = hoppings[zero].sum(axis=0)[self.il, self.jl] if len(zero) else \
            np.zeros(len(self.il), complex)
        self.Rcart = np.ascontiguousarray((R[rep] @ lattice).T)  # (d, P)
        self.dtau = None
        if positions is not None and np.ptp(positions, axis=0).any():
            self.dtau = positions[self.jl] - positions[self.il]  # (T, d): τ_n − τ_m
        if not self.full:  # gather index: full (i, j) from [lower triangle, its conjugate]
            t = len(self.il)
            pos = np.empty((n, n), dtype=int)
            pos[self.il, self.jl] = np.arange(t)
            pos[self.jl, self.il] = np.arange(t) + t
            pos[np.diag_indices(n)] = np.arange(t)[self.il == self.jl]
            self.gather = pos.reshape(-1)
        self._tables: dict[tuple[int, ...], FloatArray] = {}

    def _table(self, dirs: tuple[int, ...]) -> FloatArray:
        """(2P, 2·(1 + nd)·T) real view of [[A, R_a B …], [B, −R_a A …]]."""
        if dirs not in self._tables:
            top = [self.A] + [self.Rcart[a][:, None] * self.B for a in dirs]
            bottom = [self.B] + [-self.Rcart[a][:, None] * self.A for a in dirs]
            W = np.ascontiguousarray(np.block([top, bottom]))
            self._tables[dirs] = W.view(np.float64)
        return self._tables[dirs]

    def __call__(self, k: FloatArray, dirs: tuple[int, ...]) -> tuple[ComplexArray, ComplexArray]:
        """H (Nk, N, N) and ∂H (len(dirs), Nk, N, N) at Cartesian k (Nk, d)."""
        nk, n, nd = len(k), self.n, len(dirs)
        t = len(self.il)
        theta = k @ self.Rcart  # (Nk, P)
        CS = np.concatenate([np.cos(theta), np.sin(theta)], axis=1)
        tri = (CS @ self._table(dirs)).view(np.complex128).reshape(nk, 1 + nd, t)
        tri[:, 0] += self.H0
        if self.dtau is not None:
            orb = np.exp(1j * (k @ self.dtau.T))  # (Nk, T)
            for i, a in enumerate(dirs):
                tri[:, 1 + i] = (tri[:, 1 + i] + 1j * self.dtau[:, a] * tri[:, 0]) * orb
            tri[:, 0] *= orb
        if self.full:
            out = np.ascontiguousarray(tri.transpose(1, 0, 2)).reshape(1 + nd, nk, n, n)
        else:
            full = np.concatenate([tri, tri.conj()], axis=2).transpose(1, 0, 2)
            out = np.take(full, self.gather, axis=2).reshape(1 + nd, nk, n, n)
        return out[0], out[1:]
