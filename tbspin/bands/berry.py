"""Berry connections between Bloch bands, by two independent methods.

Definition: R^a_mn(k) = ⟨u_mk| i ∂_{k_a} u_nk⟩ (Å), with |u_nk⟩ the eigenvectors of the model's
Bloch Hamiltonian in its Bloch convention (see :mod:`tbspin.model.lattice`), gauge-fixed inside degenerate
blocks by a gauge operator G (see :mod:`tbspin.bands.eigen`). Diagonal elements (and elements inside a
sub-block that G leaves degenerate) are set to zero: they are the parallel-transport gauge and
never enter the observables, which sum over n ≠ m.

``method="kubo"``
    Between bands of different blocks: R^a_mn = i ⟨m|∂_a H|n⟩ / (ε_n − ε_m).
    Inside a degenerate block D (m ≠ n, g_m ≠ g_n), from differentiating the block eigen-equation
    of P_D G P_D:  R^a_nm = i Σ_{o∉D} [G_no V^a_om + V^a_no G_om] / ((ε_D − ε_o)(g_m − g_n)),
    V^a = U† ∂_a H U. Exact for exactly degenerate blocks; no division by a vanishing energy.
``method="fd"``
    Central finite differences of overlaps: R^a_mn ≈ i [⟨u_m(k)|u_n(k+δ e_a)⟩ −
    ⟨u_m(k)|u_n(k−δ e_a)⟩] / (2δ), with the eigenvectors at k ± δ gauge-fixed by the same G inside
    the blocks found at k and their phases (sub-block bases) aligned to k by parallel transport
    (unitary polar factor of the overlap). Error O(δ²).

Both methods give the connection of the Bloch eigenvectors in the tight-binding basis, i.e. the
diagonal position operator of the model's Bloch convention. A model carrying a full Wannier
position matrix (:meth:`tbspin.LatticeModel.with_position_matrix`, or a ``_tb.dat`` read with
``use_position_matrix=True``) adds U† A^W U (:meth:`tbspin.LatticeModel.wannier_connection`) to
the off-diagonal elements. The curl of A^W itself (Wang et al., PRB 74, 195118, Eq. 27's Ω^W) is a
property of the finite Wannier basis, not of band pairs, and is not included: results stay
expressed through band-pair products R_mn R_nm as the proper spin current requires.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tbspin.bands import eigen
from tbspin.bands.settings import METHODS, ConnectionSettings, resolve_connection
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel, axis_index
from tbspin.types import ComplexArray, Direction, FloatArray, GaugeSpec, IntArray, KPoints, SpinSpec

__all__ = ["BerryConnection", "berry_connection", "compute_connection", "resolve_gauge",
           "velocity_matrices", "kubo_connection_from_velocity", "kubo_pair_terms",
           "METHODS"]


@dataclasses.dataclass
class BerryConnection:
    """Berry connections and the eigensystem they belong to.

    Attributes
    ----------
    eig : tbspin.bands.eigen.Eigensystem
        Energies and gauge-fixed eigenvectors at k.
    directions : tuple of int
        Cartesian directions a of ``R``.
    R : (len(directions), Nk, N, N) complex array, Å
        R[i, k, m, n] = R^{a_i}_mn(k).
    velocity : (len(directions), Nk, N, N) complex array or None
        ⟨m|∂_a H|n⟩ (eV Å) in the same basis (kubo method only).
    method : str
    """

    eig: eigen.Eigensystem
    directions: tuple[int, ...]
    R: ComplexArray
    velocity: ComplexArray | None
    method: str

    def component(self, a: Direction) -> ComplexArray:
        """R^a (Nk, N, N) for the Cartesian direction a."""
        return self.R[self.directions.index(axis_index(a))]


def resolve_gauge(
    model: LatticeModel, gauge: GaugeSpec, spin: SpinSpec | None = None
) -> tuple[ComplexArray | None, str]:
    """Turn a user's ``gauge`` argument into an operator matrix and a description.

    A thin door to :func:`tbspin.bands.settings.resolve_connection`, which holds the one default
    policy (None: m̂·s for a magnetized model with spin, else the observable's spin component
    ``spin`` when given, else s_z for spinful models, else no operator; "none": no operator).
    """
    st = resolve_connection(model, gauge=gauge, spin=spin)
    return st.gauge, st.gauge_description


def berry_connection(
    model: LatticeModel,
    k: KPoints,
    *,
    method: str = "kubo",
    directions: Sequence[Direction] | None = None,
    gauge: GaugeSpec = None,
    delta: float = 1e-5,
    degen_tol: float | None = None,
    gauge_tol: float = 1e-6,
) -> BerryConnection:
    """Berry connections R^a_mn(k) of all bands at a batch of k-points.

    Parameters
    ----------
    model : LatticeModel
    k : (Nk, d) array_like
        Cartesian wave vectors (1/Å).
    method : {"kubo", "fd"}
        Velocity (sum-over-states) formula or finite differences of gauge-fixed overlaps.
    directions : sequence of int or str, optional
        Cartesian directions (default: all d).
    gauge : see :func:`resolve_gauge`
        Gauge operator inside degenerate blocks.
    delta : float
        Finite-difference step (1/Å), ``method="fd"`` only.
    degen_tol, gauge_tol : float
        Degeneracy windows for energies (eV) and gauge-operator eigenvalues. Bands closer than
        ``degen_tol`` form one block. Default (None): chosen from the model's degeneracy scale
        (:mod:`tbspin.bands.settings`: above the Kramers-pair noise of a Wannier fit, below physical
        splittings of a magnet; 1e-4 eV without spin operators). The fd method also needs
        splittings well above δ·|∂ε/∂k|.

    Returns
    -------
    BerryConnection
    """
    settings = resolve_connection(model, method=method, gauge=gauge, delta=delta,
                                  degen_tol=degen_tol, gauge_tol=gauge_tol)
    dirs = tuple(range(model.dim)) if directions is None else tuple(axis_index(a) for a in directions)
    return compute_connection(model, model._as_k(k), settings, dirs)


def compute_connection(
    model: LatticeModel, k: KPoints, settings: ConnectionSettings, directions: tuple[int, ...],
    hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
) -> BerryConnection:
    """Berry connections with already resolved settings (no argument is re-interpreted).

    Parameters
    ----------
    model : LatticeModel
    k : (Nk, d) float array
        Validated Cartesian k-points (1/Å).
    settings : ConnectionSettings
        From :func:`tbspin.bands.settings.resolve_connection`.
    directions : tuple of int
        Cartesian directions.
    hamiltonians : (H, dH), optional
        Precomputed Bloch sums (e.g. FFT, :mod:`tbspin.bz.fourier`): for "kubo" H(k) (Nk, N, N) and
        ∂H (len(directions), Nk, N, N); for "fd" H at [k, k + δe_a, k − δe_a, …] stacked
        (as ``_fd`` orders them) and an unused second entry.
    """
    dirs, G, st = directions, settings.gauge, settings
    k = np.asarray(k, dtype=float)
    if st.method == "kubo":
        bc = _kubo(model, k, dirs, G, st.degen_tol, st.gauge_tol, hamiltonians,
                   st.gauge_name)
    else:
        H_all = None if hamiltonians is None else hamiltonians[0]
        bc = _fd(model, k, dirs, G, st.delta, st.degen_tol, st.gauge_tol, H_all,
                 st.gauge_name)
    AW = model.wannier_connection(k, dirs)
    if AW is not None:  # full position matrix: R += U† A^W U (off-diagonal)
        U = bc.eig.vectors
        Uh = np.ascontiguousarray(U.conj().transpose(0, 2, 1))
        off = ~np.eye(model.n_orbitals, dtype=bool)
        for i in range(len(dirs)):
            bc.R[i] += (Uh @ AW[i] @ U) * off
    return bc


def _kubo(model: LatticeModel, k: np.ndarray, dirs: tuple[int, ...], G: ComplexArray | None,
          degen_tol: float, gauge_tol: float,
          hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
          label: str = "") -> BerryConnection:
    eig, V = kubo_eigensystem(model, k, dirs, G, degen_tol, gauge_tol, hamiltonians,
                              label=label)
    R = kubo_connection_from_velocity(eig, V, G)
    return BerryConnection(eig=eig, directions=dirs, R=R, velocity=V, method="kubo")


def kubo_eigensystem(
    model: LatticeModel, k: np.ndarray, dirs: tuple[int, ...], G: ComplexArray | None,
    degen_tol: float, gauge_tol: float,
    hamiltonians: tuple[ComplexArray, ComplexArray] | None = None, e_max: float | None = None,
    label: str = "",
) -> tuple[eigen.Eigensystem, ComplexArray]:
    """Gauge-fixed eigensystem at k and the velocity matrices V^a = U† ∂_a H U of ``dirs``;
    with ``e_max`` only the rows m < :func:`rows_below` (the bands a Fermi sum up to e_max
    needs), (ndir, Nk, M, N); ``label`` names G in the gauge warning."""
    H, dH = model.hamiltonian_and_derivatives(k, dirs) if hamiltonians is None else hamiltonians
    eig = eigen.solve(H, G, degen_tol=degen_tol, gauge_tol=gauge_tol, gauge_label=label)
    rows = None if e_max is None else rows_below(eig, e_max)
    return eig, velocity_matrices(eig.vectors, dH, rows)


def rows_below(eig: eigen.Eigensystem, e_max: float) -> int:
    """Bands 0 … M−1 hold every state with ε ≤ ``e_max`` at every k of the batch, and M cuts
    no degenerate block at any k of the batch (its pairs stay together)."""
    m = int(np.max(np.sum(eig.energies <= e_max, axis=1)))
    while m > 0:
        # the end of the block holding band m − 1, at every k (≥ m; labels ascend per k)
        end = int(np.max(np.sum(eig.block <= eig.block[:, m - 1:m], axis=1)))
        if end == m:
            break
        m = end
    return m


def velocity_matrices(U: ComplexArray, dH: ComplexArray, rows: int | None = None
                      ) -> ComplexArray:
    """V^a_mn = (U† ∂_a H U)_mn for all directions, m < ``rows`` (default all),
    (ndir, Nk, rows, N).

    Two batched products broadcast over the directions, (U_rows† ∂_a H) U: the result comes
    out in its final layout, and no operand is transposed or copied except U_rows† (one conj
    copy). 1.2–5× faster in isolation for N = 4–100 than the former layout, which stacked the
    directions side by side as the columns of one product (benchmarks/README.md, seventh session).
    """
    r = U.shape[2] if rows is None else rows
    Uh = np.ascontiguousarray(U[:, :, :r].transpose(0, 2, 1))
    np.conjugate(Uh, out=Uh)  # (Nk, r, N)
    return np.matmul(np.matmul(Uh[None], dH), U[None])


def _inverse_gaps(eig: eigen.Eigensystem, rows: int | None = None
                  ) -> tuple[FloatArray, np.ndarray]:
    """inv[k, m, n] = 1/(ε_n − ε_m) between different blocks, 0 inside a block; and the
    same-block mask (rows m < ``rows``, default all)."""
    E, r = eig.energies, eig.energies.shape[1] if rows is None else rows
    same = eig.block[:, :r, None] == eig.block[:, None, :]
    dE = E[:, None, :] - E[:, :r, None]  # [k, m, n] = ε_n − ε_m
    inv = np.zeros_like(dE)
    np.divide(1.0, dE, out=inv, where=~same)
    return inv, same


def kubo_connection_from_velocity(
    eig: eigen.Eigensystem, V: ComplexArray, G: ComplexArray | None
) -> ComplexArray:
    """Sum-over-states Berry connection from velocity matrices in the eigenbasis (module doc)."""
    if V.shape[2] != V.shape[3]:
        raise ParameterError("the Berry connection needs the velocity matrices of all bands, "
                             f"got {V.shape[2]} of {V.shape[3]} rows")
    inv, same = _inverse_gaps(eig)
    R = V * (1j * inv)[None]
    for where, values, _ in _intra_block(eig, V, G, inv, same):
        for a in range(len(V)):
            R[a][where] += values[a]
    return R


def kubo_pair_terms(
    eig: eigen.Eigensystem, V: ComplexArray, G: ComplexArray | None
) -> FloatArray:
    """T[k, m, n] = −2 Im(R^i_mn R^j_nm) for the two directions of ``V`` without forming R.

    Between blocks R^i_mn R^j_nm = V^i_mn V^j_nm / (ε_n − ε_m)²: one product of the velocity
    matrices; inside blocks the pairs split by the gauge operator take the intra-block
    connection (module doc). Equal to :func:`tbspin.bands.integrands.pair_terms` of
    :func:`kubo_connection_from_velocity` (tests/test_core.py), about twice as fast.
    ``V`` may hold the first M rows only (:func:`velocity_matrices`), then T is (Nk, M, N):
    V^j_nm = conj(V^j_mn) needs no other row.
    """
    return kubo_pair_terms_many(eig, V, G, ((0, 1),))[0]


def kubo_pair_terms_many(
    eig: eigen.Eigensystem, V: ComplexArray, G: ComplexArray | None,
    pairs: tuple[tuple[int, int], ...], gaps: tuple[FloatArray, np.ndarray] | None = None,
    inv2: FloatArray | None = None,
) -> list[FloatArray]:
    """:func:`kubo_pair_terms` for several pairs (a, b) of the directions stacked in ``V``
    (ndir, Nk, M, N): the gaps and the intra-block connection of every direction are computed
    once for all pairs (a whole tensor needs the three pairs of three directions). ``gaps``:
    :func:`_inverse_gaps` of these rows, when already known (they do not depend on the gauge);
    ``inv2``: −2 inv², when already known (:func:`pair_weights`)."""
    inv, same = _inverse_gaps(eig, V.shape[2]) if gaps is None else gaps
    if inv2 is None:
        inv2 = pair_weights(inv)
    parts = _intra_block(eig, V, G, inv, same)
    out = []
    for a, b in pairs:
        # Im(Va conj(Vb)) from the real and imaginary parts (no complex temporaries)
        T = V[a].imag * V[b].real
        T -= V[a].real * V[b].imag
        T *= inv2
        for where, values, reverse in parts:
            T[where] = -2.0 * np.imag(values[a] * values[b][..., reverse])
        out.append(T)
    return out


def pair_weights(inv: FloatArray) -> FloatArray:
    """−2/(ε_n − ε_m)² between blocks (0 inside) from :func:`_inverse_gaps`: the weight of
    Im(V^a_mn conj V^b_mn) in the pair terms; gauge-independent (shared by the gauges of a
    whole tensor)."""
    return -2.0 * inv * inv


IntraPart = tuple[tuple, ComplexArray, IntArray]


def _intra_block(
    eig: eigen.Eigensystem, V: ComplexArray, G: ComplexArray | None, inv: FloatArray,
    same: np.ndarray,
) -> list[IntraPart]:
    """The intra-block connection of the pairs the gauge operator splits (module doc).

    Returns parts (where, values, reverse): R^a[where] = values[a] with ``where`` an index of
    (Nk, N, N) arrays and ``values[a][..., reverse]`` the reversed pairs (m, n) in the same
    order. The k-points sharing the most common pattern of pairs (e.g. Kramers pairs
    everywhere) are one part, computed by gathers along whole axes; the others, if any, a
    second part indexed pair by pair.
    """
    if G is None:
        return []
    r, n = same.shape[1:]  # rows m < r (blocks never straddle r: rows_below)
    offdiag_same = same & ~np.eye(r, n, dtype=bool)[None]
    has = np.any(offdiag_same, axis=(1, 2))
    if not has.any():
        return []
    sel = slice(None) if has.all() else np.nonzero(has)[0]
    Gm = eigen.hermitian_sandwich(eig.vectors[sel], G, r)
    assert eig.gauge_values is not None  # solve() sets them whenever G is given
    g = eig.gauge_values[sel]
    grp = eig.group[sel]
    split = offdiag_same[sel] & (grp[:, :r, None] != grp[:, None, :])
    # inv[k, n, o] = 1/(ε_o − ε_n) = −1/(ε_n − ε_o) for o outside n's block, else 0: the
    # formula's 1/(ε_n − ε_o) is −inv, its sign carried by the final factor (negation is exact:
    # the same values as forming −inv, without the pass over it)
    Dinv = inv if isinstance(sel, slice) else inv[sel]
    ksel = np.arange(len(eig.energies))[sel]
    Vs = V if isinstance(sel, slice) else V[:, sel]
    parts: list[IntraPart] = []
    packed = np.packbits(split.reshape(len(split), -1), axis=1)
    common = np.all(packed == packed[0], axis=1)
    if not common.all():
        # the most frequent pattern, found through one integer key per row (a 1D unique is
        # fast; the rows are then compared in full, so a key collision cannot mix patterns)
        key = packed.astype(np.int64) @ np.arange(1, packed.shape[1] + 1, dtype=np.int64) ** 3
        _, first, counts = np.unique(key, return_index=True, return_counts=True)
        common = np.all(packed == packed[first[np.argmax(counts)]], axis=1)
    nn, mm = np.nonzero(split[np.argmax(common)])
    if len(nn):
        # the common pattern, gathered along axes for all k (the other k's values are unused)
        n_, m_ = eigen.as_slice(nn), eigen.as_slice(mm)  # views for evenly spaced pairs
        # G and V are Hermitian: the columns m of the formula are the conjugated rows m
        # (contiguous), X_om = conj(X_mo)
        D_rows = Dinv[:, n_]  # (Nk, P, N): −1/(ε_n − ε_o)
        GD_rows = Gm[:, n_] * D_rows  # G_no/(ε_n − ε_o)
        DG_cols = D_rows * Gm[:, m_].conj()  # G_om/(ε_n − ε_o)
        # Σ_o G_no V_om/(ε_n − ε_o) = conj(Σ_o conj(GD_no) V_mo): the pairs taken in the order
        # of their m, whose rows of V are a view (e.g. all rows once for Kramers pairs), so
        # that one (Nk, P, N) array is gathered instead of the rows m of every direction
        by_m = np.argsort(mm, kind="stable")
        at = np.empty_like(by_m)
        at[by_m] = np.arange(len(by_m))  # pair p sits at position at[p] of by_m
        A = np.conjugate(GD_rows[:, by_m])
        first = np.einsum("kqo,akqo->akq", A, Vs[:, :, eigen.as_slice(mm[by_m])])
        second = np.einsum("akpo,kpo->akp", Vs[:, :, n_], DG_cols)
        with np.errstate(divide="ignore", invalid="ignore"):  # k-points of other patterns
            factor = -1j / (g[:, m_] - g[:, n_])  # i/(g_m − g_n), times −1 of D_rows
            values = (np.conjugate(first)[:, :, at] + second) * factor
        reverse = np.lexsort((nn, mm))
        if common.all() and isinstance(sel, slice):
            parts.append(((slice(None), nn, mm), values, reverse))
        elif common.all():
            parts.append(((ksel[:, None], nn[None], mm[None]), values, reverse))
        else:
            kc = np.nonzero(common)[0]
            parts.append(((ksel[kc][:, None], nn[None], mm[None]), values[:, kc], reverse))
    if common.all():
        return parts
    rest = np.nonzero(~common)[0]
    kk, nn, mm = np.nonzero(split[rest])
    if len(kk) == 0:
        return parts
    kr = rest[kk]  # index into the selected k-points
    GD_rows = (Gm[kr, nn] * Dinv[kr, nn])  # (P, N): −G_no/(ε_n − ε_o)
    DG_cols = Dinv[kr, nn] * Gm[kr, mm].conj()  # (P, N): −G_om/(ε_n − ε_o)
    factor = -1j / (g[kr, mm] - g[kr, nn])  # i/(g_m − g_n), times −1 of Dinv
    values = np.stack([np.sum(GD_rows * Va[kr, mm].conj() + Va[kr, nn] * DG_cols, axis=1)
                       * factor for Va in Vs])
    # the pairs come sorted by (k, n, m); sorting by (k, m, n) lists the reversed pairs
    parts.append(((ksel[kr], nn, mm), values, np.lexsort((nn, mm, kk))))
    return parts


def _fd(model: LatticeModel, k: np.ndarray, dirs: tuple[int, ...], G: ComplexArray | None,
        delta: float, degen_tol: float, gauge_tol: float,
        H_all: ComplexArray | None = None, label: str = "") -> BerryConnection:
    nk, n = len(k), model.n_orbitals
    if H_all is None:
        H_all = model.hamiltonian(np.concatenate([k] + fd_points(k, model.dim, dirs, delta)))
    eig0 = eigen.solve(H_all[:nk], G, degen_tol=degen_tol, gauge_tol=gauge_tol,
                       gauge_label=label)
    nsh = 2 * len(dirs)
    lab = np.tile(eig0.block, (nsh, 1))
    eig1 = eigen.solve(H_all[nk:], G, degen_tol=degen_tol, labels=lab, warn=False)
    U0 = eig0.vectors
    U1 = eig1.vectors.reshape(nsh, nk, n, n)
    U0h = np.ascontiguousarray(U0.conj().transpose(0, 2, 1))
    O = np.stack([U0h @ U1[s] for s in range(nsh)])  # ⟨u_m(k)|u_n(k±δ)⟩
    O = _align(O, eig0.group)
    R = np.empty((len(dirs), nk, n, n), dtype=complex)
    for i in range(len(dirs)):
        R[i] = 1j * (O[2 * i] - O[2 * i + 1]) / (2 * delta)
    same_group = eig0.group[:, :, None] == eig0.group[:, None, :]
    R[:, same_group] = 0.0
    return BerryConnection(eig=eig0, directions=dirs, R=R, velocity=None, method="fd")


def fd_points(k: FloatArray, dim: int, dirs: tuple[int, ...], delta: float) -> list[FloatArray]:
    """[k + δe_a, k − δe_a for a in dirs]: the displaced points of the finite differences."""
    out = []
    for a in dirs:
        e = np.zeros(dim)
        e[a] = delta
        out += [k + e, k - e]
    return out


def _align(O: ComplexArray, group: np.ndarray) -> ComplexArray:
    """Right-multiply overlaps by the unitary that makes each group block Hermitian positive.

    For 1-band groups this is the phase that makes ⟨u_n(k)|u_n(k±δ)⟩ real and positive; for
    larger groups the polar factor Z = O_gg† (O_gg O_gg†)^{-1/2} (parallel transport).
    """
    diag = np.einsum("skmm->skm", O)
    ph = np.conj(diag) / np.maximum(np.abs(diag), 1e-300)
    O = O * ph[:, :, None, :]
    nsh = O.shape[0]
    for kidx, _size, idx in eigen._block_index_sets(group):
        sub = O[:, kidx[:, None, None, None], idx[None, :, :, None], idx[None, :, None, :]]
        # sub: (nsh, nk, nb, s, s); polar factor via eigh of sub sub†
        w, v = np.linalg.eigh(sub @ sub.conj().swapaxes(-1, -2))
        inv_sqrt = (v / np.sqrt(np.maximum(w, 1e-300))[..., None, :]) @ v.conj().swapaxes(-1, -2)
        Z = sub.conj().swapaxes(-1, -2) @ inv_sqrt  # (nsh, nk, nb, s, s)
        cols = idx.reshape(-1)
        Ocols = O[:, kidx][:, :, :, idx]  # (nsh, nk, N, nb, s)
        newcols = np.einsum("sknbt,skbtu->sknbu", Ocols, Z).reshape(nsh, len(kidx), O.shape[2], -1)
        O[np.ix_(np.arange(nsh), kidx, np.arange(O.shape[2]), cols)] = newcols
    return O
