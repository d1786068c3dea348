"""Berry curvature, anomalous Hall and spin Hall conductivities over the full Brillouin zone.

Band-resolved integrands (k-point k, band m, Cartesian directions i, j, spin component l;
R from :mod:`tbspin.berry`, spin s in units of ħ/2, V^a = ⟨m|∂_a H|n⟩):

* Berry curvature   Ω^{ij}_m = i Σ_{n≠m} (R^i_mn R^j_nm − R^j_mn R^i_nm) = −2 Im Σ_n R^i_mn R^j_nm
* proper spin       Σ^{l,ij}_m = i Σ_{n≠m} s^l_nn (R^i_mn R^j_nm − R^j_mn R^i_nm)
  (Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. 2, generalized to the full tensor)
* "s_mm Ω_m"        s^l_mm Ω^{ij}_m  (the same paper, Eq. 9; a diagnostic)
* conventional      −2 Im Σ_{n∉D(m)} ⟨m|½{s^l, V^i}|n⟩⟨n|V^j|m⟩ / ((ε_m − ε_n)² + η²)
  (Kubo formula with the ½{s, v} spin current, as in Wannier90 / WannierBerri; η = 0 by default)

Conductivities: I(E_F) = (1 / (V_cell N_k)) Σ_{k,m} f(ε_mk − E_F) X_mk, converted by
:mod:`tbspin.units`: σ_ij = −(e²/ħ) I for the AHC and σ^l_ij = (e/ħ)(ħ/2) I for the spin Hall
conductivity (J^l_i = σ^l_ij E_j). In 2D, σ_xy = −C e²/h for a filled band set with Chern number
C = (1/2π) ∫ Ω^{xy} d²k (C has the sign of the Berry phase, as PythTB's ``berry_flux``).

Gauge: band-resolved values inside degenerate blocks depend on the basis; tbspin fixes it with a
gauge operator (:func:`tbspin.berry.resolve_gauge`) and records it in every result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from . import __version__, units
from .berry import METHODS, berry_connection, resolve_gauge
from .eigen import expectation, sandwich
from .io.atomic import atomic_savez
from .kmesh import make_mesh
from .model import LatticeModel, axis_index
from .results import ConductivityResult

log = logging.getLogger(__name__)

FORMULAS = ("proper", "conventional", "smm_omega")
MEMORY_BUDGET = 32 * 2**20  # bytes of complex work arrays per k-chunk (cache-friendly)
CHECKPOINT_SECONDS = 30.0  # minimum time between two checkpoint writes


# ---------------------------------------------------------------------- band-resolved kernels
def _pair_terms(Ri: np.ndarray, Rj: np.ndarray) -> np.ndarray:
    """T[k, m, n] = −2 Im(R^i_mn R^j_nm): Ω_m = Σ_n T_mn."""
    return -2.0 * np.imag(Ri * Rj.transpose(0, 2, 1))


def berry_curvature(
    model: LatticeModel,
    k: Any,
    *,
    component: str | Sequence[int | str] = "xy",
    method: str = "kubo",
    gauge: Any = None,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Band-resolved Berry curvature Ω^{ij}_m(k) (Å²).

    Parameters
    ----------
    model : LatticeModel
    k : (Nk, d) array_like
        Cartesian wave vectors (1/Å).
    component : str or pair
        Directions (i, j), e.g. "xy" for Ω^z.
    method : {"kubo", "fd"}
    gauge : optional
        Gauge operator inside degenerate blocks (:func:`tbspin.berry.resolve_gauge`).
    **kwargs
        ``delta``, ``degen_tol``, ``gauge_tol`` of :func:`tbspin.berry.berry_connection`.

    Returns
    -------
    energies : (Nk, N) eV; curvature : (Nk, N) Å²
    """
    i, j = _pair(component)
    bc = berry_connection(model, k, method=method, directions=(i, j), gauge=gauge, **kwargs)
    return bc.eig.energies, _pair_terms(bc.R[0], bc.R[1]).sum(axis=2)


def _kernel(
    model: LatticeModel,
    *,
    what: str,
    i: int,
    j: int,
    spin_op: np.ndarray | None,
    method: str,
    G: np.ndarray | None,
    eta: float,
    conn_kw: dict[str, Any],
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return k -> (energies, band-resolved integrand) for one observable."""

    def kernel(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if what == "conventional":
            bc = berry_connection(model, k, method="kubo", directions=(i, j), gauge=G, **conn_kw)
            eig, V = bc.eig, bc.velocity
            U = eig.vectors
            S = sandwich(U, spin_op)
            J = 0.5 * (S @ V[0] + V[0] @ S)
            E = eig.energies
            dE2 = (E[:, :, None] - E[:, None, :]) ** 2 + eta**2
            same = eig.block[:, :, None] == eig.block[:, None, :]
            w = np.where(same, 0.0, 1.0 / np.where(same, 1.0, dE2))
            X = (-2.0 * np.imag(J * V[1].transpose(0, 2, 1)) * w).sum(axis=2)
            return E, X
        bc = berry_connection(model, k, method=method, directions=(i, j), gauge=G, **conn_kw)
        T = _pair_terms(bc.R[0], bc.R[1])
        E = bc.eig.energies
        if what == "berry":
            return E, T.sum(axis=2)
        U = bc.eig.vectors
        sdiag = expectation(U, spin_op)
        if what == "proper":
            return E, np.einsum("kmn,kn->km", T, sdiag)
        if what == "smm_omega":
            return E, sdiag * T.sum(axis=2)
        raise ValueError(f"unknown integrand {what!r}")

    return kernel


# ---------------------------------------------------------------------- Fermi sums
def occupied_sum(
    energies: np.ndarray, values: np.ndarray, efermi: np.ndarray, temperature: float = 0.0
) -> np.ndarray:
    """Σ_{k,m} f(ε_mk − E_F) X_mk for many Fermi energies at once.

    At T = 0 each state is binned by the first Fermi energy that occupies it and the bins are
    summed cumulatively — no sort of the states (a state with ε = E_F counts as occupied). At
    T > 0 the Fermi–Dirac factors are applied in blocks of Fermi energies (bounded memory).
    """
    e = energies.reshape(-1)
    x = values.reshape(-1)
    if temperature == 0:
        # bin every state by the first Fermi energy that occupies it, then sum up the bins
        order = np.argsort(efermi, kind="stable")
        ef_sorted = efermi[order]
        first = np.searchsorted(ef_sorted, e, side="left")
        per_bin = np.bincount(first, weights=x, minlength=len(efermi) + 1)[: len(efermi)]
        out = np.empty(len(efermi))
        out[order] = np.cumsum(per_bin)
        return out
    kT = units.KB_EV * temperature
    out = np.empty(len(efermi))
    step = max(1, int(2**22 // max(1, len(e))))
    for s in range(0, len(efermi), step):
        mu = efermi[s : s + step]
        f = expit(-(e[None, :] - mu[:, None]) / kT)
        out[s : s + step] = f @ x
    return out


def _chunk_size(model: LatticeModel, method: str, ndir: int = 2) -> int:
    n = model.n_orbitals
    per_k = 16 * n * n * (6 + 3 * ndir) * ((1 + 2 * ndir) if method == "fd" else 1)
    return int(max(256, min(100_000, MEMORY_BUDGET // max(per_k, 1))))


def _integrate(
    model: LatticeModel,
    kernel: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    *,
    efermi: np.ndarray,
    mesh: Any,
    shift: Any,
    temperature: float,
    chunk_size: int,
    progress: bool,
    checkpoint: str | os.PathLike | None,
    signature: dict[str, Any],
) -> tuple[np.ndarray, Any, dict[str, Any]]:
    """Accumulate Σ f X over a mesh, chunk by chunk; optional checkpoint/resume."""
    m = make_mesh(model, mesh, shift)
    nchunks = m.n_chunks(chunk_size)
    acc = np.zeros(len(efermi))
    start_chunk = 0
    sig = dict(signature, mesh=list(m.n), shift=list(m.shift), chunk_size=chunk_size,
               efermi=hashlib.sha1(np.ascontiguousarray(efermi).tobytes()).hexdigest())
    sig_text = json.dumps(sig, sort_keys=True, default=str)
    if checkpoint is not None and Path(checkpoint).exists():
        with np.load(checkpoint) as ck:
            if str(ck["signature"]) == sig_text:
                acc = ck["acc"].copy()
                start_chunk = int(ck["next_chunk"])
                log.info("resuming %s at chunk %d of %d", checkpoint, start_chunk, nchunks)
            else:
                raise ValueError(
                    f"checkpoint {checkpoint} belongs to a different calculation; remove it or "
                    "choose another 'checkpoint' path"
                )
    t0 = time.perf_counter()
    last_save = t0
    it = range(start_chunk, nchunks)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, total=nchunks, initial=start_chunk, unit="chunk", desc=signature.get("label"))
    for c in it:
        k = m.cartesian(model, c * chunk_size, (c + 1) * chunk_size)
        E, X = kernel(k)
        if not np.all(np.isfinite(X)):
            raise FloatingPointError(
                "non-finite integrand (NaN/Inf) in chunk "
                f"{c}: check for degeneracies below degen_tol or a singular gauge operator"
            )
        acc += occupied_sum(E, X, efermi, temperature)
        due = time.perf_counter() - last_save >= CHECKPOINT_SECONDS or c == nchunks - 1
        if checkpoint is not None and due:
            atomic_savez(checkpoint, acc=acc, next_chunk=c + 1, signature=sig_text)
            last_save = time.perf_counter()
    raw = acc / (m.size * model.cell_measure)
    info = {"seconds": time.perf_counter() - t0, "n_k": m.size, "chunk_size": chunk_size}
    return raw, m, info


def _pair(component: str | Sequence[int | str]) -> tuple[int, int]:
    if isinstance(component, str):
        if len(component) != 2:
            raise ValueError(f"'component' must name two directions like 'xy', got {component!r}")
    i, j = (axis_index(c) for c in component)
    if i == j:
        raise ValueError(f"'component' needs two different directions, got {component!r}")
    return i, j


def _position_operator(model: LatticeModel) -> str:
    """Which position operator the Berry connections used (recorded in every result)."""
    if model.uses_position_matrix:
        return "full Wannier position matrix r_R"
    return f"diagonal (tight-binding, Bloch convention {model.convention!r})"


def _spin_and_gauge(
    model: LatticeModel, spin: Any, gauge: Any
) -> tuple[np.ndarray, str, np.ndarray | None, str]:
    """Spin operator of an observable (axis, vector or operator name), its label, and the gauge
    operator with its description (default: m̂·s for a magnetized model, else the spin operator
    itself)."""
    if isinstance(spin, str) and spin.lower() not in ("x", "y", "z"):
        spin_op, slabel = model.operator(spin), spin
    else:
        spin_op = model.spin(spin)
        slabel = spin.lower() if isinstance(spin, str) else str(np.asarray(spin).tolist())
    mag = model.magnetization
    magnetized = mag is not None and np.linalg.norm(mag) > 0 and model.has_spin
    if gauge is None and not magnetized:
        return spin_op, slabel, spin_op, f"s_{slabel} (default: spin component of the observable)"
    G, gdesc = resolve_gauge(model, gauge)
    return spin_op, slabel, G, gdesc


def _efermi(efermi: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(efermi, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("'efermi' must be a number or a non-empty 1D array of energies (eV)")
    if not np.all(np.isfinite(arr)):
        raise ValueError("'efermi' contains NaN or Inf")
    return arr


def _check_common(model: LatticeModel, i: int, j: int, method: str, temperature: float) -> None:
    if method not in METHODS:
        raise ValueError(f"'method' must be one of {METHODS}, got {method!r}")
    for a, name in ((i, "current/component"), (j, "field/component")):
        if a >= model.dim:
            raise ValueError(f"direction {'xyz'[a]!r} ({name}) does not exist in a {model.dim}D model")
    if not temperature >= 0:
        raise ValueError(f"'temperature' must be >= 0 K, got {temperature}")


def _conductivity(
    model: LatticeModel,
    kernel: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    *,
    kind: str,
    label: str,
    formula: str,
    method: str,
    gauge: str,
    efermi: np.ndarray,
    mesh: Any,
    shift: Any,
    temperature: float,
    eta: float,
    chunk_size: int | None,
    progress: bool,
    checkpoint: str | os.PathLike | None,
    conn_kw: dict[str, Any],
) -> ConductivityResult:
    """Integrate a band-resolved kernel over the BZ and wrap it with units and provenance."""
    cs = chunk_size or _chunk_size(model, method)
    raw, m, info = _integrate(
        model, kernel, efermi=efermi, mesh=mesh, shift=shift, temperature=temperature,
        chunk_size=cs, progress=progress, checkpoint=checkpoint,
        signature=dict(label=label, kind=kind, formula=formula, method=method, gauge=gauge,
                       T=temperature, eta=eta, model=model.name, conn=conn_kw),
    )
    return ConductivityResult(
        kind=kind, label=label, efermi=efermi, raw=raw, dim=model.n_periodic, formula=formula,
        method=method, gauge=gauge, mesh=m.n, shift=m.shift, temperature=float(temperature),
        eta=float(eta), model=model.name, version=__version__,
        extras=dict(info, position_operator=_position_operator(model), **conn_kw),
    )


# ---------------------------------------------------------------------- public integrals
def anomalous_hall(
    model: LatticeModel,
    *,
    efermi: Any,
    mesh: int | Sequence[int],
    shift: float | Sequence[float] = 0.0,
    component: str | Sequence[int | str] = "xy",
    method: str = "kubo",
    gauge: Any = None,
    temperature: float = 0.0,
    chunk_size: int | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    **conn_kw: Any,
) -> ConductivityResult:
    """Anomalous Hall conductivity σ_ij(E_F) = −(e²/ħ) ∫ d^pk/(2π)^p Σ_m f_m Ω^{ij}_m.

    Parameters
    ----------
    model : LatticeModel
    efermi : float or array
        Fermi energies (eV); all are computed in one pass.
    mesh : int or sequence of int
        Uniform full-BZ mesh (points per periodic direction, ≥ 2).
    shift : float or sequence
        Mesh shift in units of the mesh step.
    component : str
        "xy" gives σ_xy (current x, field y).
    method : {"kubo", "fd"}
    gauge : optional
        Gauge operator inside degenerate blocks (the AHC of whole filled blocks does not
        depend on it).
    temperature : float
        Fermi–Dirac temperature (K); 0 uses step occupations.
    chunk_size : int, optional
        k-points per batch (default from a 32 MB working-set budget per chunk).
    progress : bool
        Show a tqdm progress bar.
    checkpoint : path, optional
        Save partial sums there (atomically, every 30 s) and resume from it.
    **conn_kw
        ``delta``, ``degen_tol``, ``gauge_tol`` (:func:`tbspin.berry.berry_connection`).

    Returns
    -------
    ConductivityResult
        Values in S/cm (3D) or e²/h (2D); ``.to("S/m")`` etc. for other units.
    """
    i, j = _pair(component)
    _check_common(model, i, j, method, temperature)
    ef = _efermi(efermi)
    G, gdesc = resolve_gauge(model, gauge)
    kern = _kernel(model, what="berry", i=i, j=j, spin_op=None, method=method, G=G, eta=0.0,
                   conn_kw=conn_kw)
    return _conductivity(
        model, kern, kind="ahc", label=f"sigma_{'xyz'[i]}{'xyz'[j]}", formula="berry",
        method=method, gauge=gdesc, efermi=ef, mesh=mesh, shift=shift, temperature=temperature,
        eta=0.0, chunk_size=chunk_size, progress=progress, checkpoint=checkpoint, conn_kw=conn_kw,
    )


def spin_hall(
    model: LatticeModel,
    *,
    efermi: Any,
    mesh: int | Sequence[int],
    spin: str | int | Sequence[float] = "z",
    current: str | int = "x",
    field: str | int = "y",
    formula: str = "proper",
    method: str = "kubo",
    gauge: Any = None,
    temperature: float = 0.0,
    eta: float = 0.0,
    shift: float | Sequence[float] = 0.0,
    chunk_size: int | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    **conn_kw: Any,
) -> ConductivityResult:
    """Spin Hall conductivity σ^l_ij(E_F): spin l, current i, field j (J^l_i = σ^l_ij E_j).

    Parameters
    ----------
    model : LatticeModel
        Must carry spin operators (units ħ/2) or ``spin`` must name another operator.
    efermi : float or array
        Fermi energies (eV).
    mesh : int or sequence of int
        Uniform full-BZ mesh (≥ 2 points per periodic direction).
    spin : "x", "y", "z", a 3-vector, or an operator name of the model
        Spin component l (an operator name lets you use e.g. a J_z operator you attached).
    current, field : "x", "y", "z"
        Directions i and j.
    formula : {"proper", "conventional", "smm_omega"}
        Proper (conserved) spin current of PRB 108, 195434 Eq. 2; conventional ½{s, v} Kubo
        formula; or Σ_m s_mm Ω_m (Eq. 9 of the paper, a diagnostic).
    method : {"kubo", "fd"}
        How the Berry connection is obtained ("proper", "smm_omega"); the conventional formula
        always uses velocity matrices (the result records "kubo").
    gauge : optional
        Gauge operator inside degenerate blocks; default m̂·s if the model has a magnetization,
        else s_l (the spin component asked for). The proper spin current depends on it at
        degeneracies; the choice is recorded in ``result.gauge``.
    temperature : float
        Fermi–Dirac temperature (K).
    eta : float
        Broadening (eV) of the conventional Kubo denominators.
    shift, chunk_size, progress, checkpoint, **conn_kw
        As in :func:`anomalous_hall`.

    Returns
    -------
    ConductivityResult
        Values in (ħ/2e) S/m (3D) or e/8π (2D); ``.to("(hbar/e) S/cm")`` in 3D.
    """
    if formula not in FORMULAS:
        raise ValueError(f"'formula' must be one of {FORMULAS}, got {formula!r}")
    i, j = axis_index(current), axis_index(field)
    if i == j:
        raise ValueError(f"'current' and 'field' must differ, got {current!r} and {field!r}")
    _check_common(model, i, j, method, temperature)
    if not eta >= 0:
        raise ValueError(f"'eta' must be >= 0 eV, got {eta}")
    ef = _efermi(efermi)
    spin_op, slabel, G, gdesc = _spin_and_gauge(model, spin, gauge)
    used_method = "kubo" if formula == "conventional" else method
    kern = _kernel(model, what=formula, i=i, j=j, spin_op=spin_op, method=used_method, G=G,
                   eta=eta, conn_kw=conn_kw)
    return _conductivity(
        model, kern, kind="shc", label=f"sigma^{slabel}_{'xyz'[i]}{'xyz'[j]}", formula=formula,
        method=used_method, gauge=gdesc, efermi=ef, mesh=mesh, shift=shift,
        temperature=temperature, eta=eta, chunk_size=chunk_size, progress=progress,
        checkpoint=checkpoint, conn_kw=conn_kw,
    )


def chern_number(
    model: LatticeModel,
    *,
    bands: int | Sequence[int],
    mesh: int | Sequence[int],
    component: str = "xy",
    method: str = "kubo",
    gauge: Any = None,
    **conn_kw: Any,
) -> float:
    """Chern number C = (1/2π) ∫ Ω^{ij} d²k of a set of bands of a 2D model.

    Parameters
    ----------
    bands : int or sequence of int
        The number of lowest bands (int), or explicit band indices. The set must be separated
        from the other bands by a gap everywhere on the mesh for C to be an integer.
    mesh : int or pair
        Uniform mesh.

    Returns
    -------
    float
        C (close to an integer when converged); its sign is that of the Berry phase
        (PythTB's ``berry_flux`` convention).
    """
    if model.n_periodic != 2:
        raise ValueError(f"chern_number needs a model with 2 periodic directions, got {model.n_periodic}")
    idx = np.arange(bands) if np.ndim(bands) == 0 else np.asarray(bands, dtype=int)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= model.n_orbitals:
        raise ValueError(f"'bands' must select bands among 0..{model.n_orbitals - 1}, got {bands!r}")
    i, j = _pair(component)
    G, _ = resolve_gauge(model, gauge)
    kern = _kernel(model, what="berry", i=i, j=j, spin_op=None, method=method, G=G, eta=0.0,
                   conn_kw=conn_kw)
    m = make_mesh(model, mesh)
    cs = _chunk_size(model, method)
    total = 0.0
    for _, k in m.chunks(model, cs):
        _, X = kern(k)
        total += X[:, idx].sum()
    return float(total / (m.size * model.cell_measure) * 2 * np.pi)


@dataclasses.dataclass
class BandIntegrand:
    """Band-resolved integrand on explicit k-points (for plots and diagnostics)."""

    k: np.ndarray
    energies: np.ndarray
    values: np.ndarray


def spin_hall_integrand(
    model: LatticeModel,
    k: Any,
    *,
    spin: str | int | Sequence[float] = "z",
    current: str | int = "x",
    field: str | int = "y",
    formula: str = "proper",
    method: str = "kubo",
    gauge: Any = None,
    eta: float = 0.0,
    **conn_kw: Any,
) -> BandIntegrand:
    """Band-resolved spin-Hall integrand X_mk (Å², spin in ħ/2) at given k-points."""
    if formula not in FORMULAS:
        raise ValueError(f"'formula' must be one of {FORMULAS}, got {formula!r}")
    i, j = axis_index(current), axis_index(field)
    spin_op, _, G, _ = _spin_and_gauge(model, spin, gauge)
    kern = _kernel(model, what=formula, i=i, j=j, spin_op=spin_op,
                   method="kubo" if formula == "conventional" else method, G=G, eta=eta,
                   conn_kw=conn_kw)
    k = model._as_k(k)
    E, X = kern(k)
    return BandIntegrand(k=k, energies=E, values=X)
