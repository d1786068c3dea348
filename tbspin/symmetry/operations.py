"""Restore the time-reversal and inversion symmetry that a Wannier fit broke numerically.

Real-space convention: ``H_R[m, n] = ⟨m, 0| H |n, R⟩`` (docs/conventions.md).

Time reversal
    T = Θ K with Θ = i s_y (s_y the model's Pauli-type spin operator, units of ħ/2) acting on
    the spinor index and K complex conjugation of the (real) orbital basis. For block spinors
    Θ = iσ_y ⊗ 1_orb, for interleaved ones 1_orb ⊗ iσ_y; Θ Θ* = −1 (Kramers), Θ s_a* Θ† = −s_a.
    T leaves positions unchanged, so [H, T] = 0 reads, R by R,

        H_R = Θ H_R* Θ†                 (equivalently H(k) = Θ H(−k)* Θ†, E(k) = E(−k)).

    Symmetrization: H_R → ½ (H_R + Θ H_R* Θ†).
Inversion
    P maps orbital n at τ_n + R onto orbital π(n) at −τ_n − R = τ_π(n) + L_n − R, with the
    integer lattice vector L_n = −τ_n − τ_π(n) (reduced) and the parity p_n = ±1 of its angular
    part ((−1)^l: s, d even; p, f odd). With translation invariance,

        (P H)_R[m, n] = p_m p_n H_{L_n − L_m − R}[π(m), π(n)],

    an involution (R ↦ L_n − L_m − R applied twice is the identity because L_π(n) = L_n), and
    H_R → ½ (H_R + (P H)_R) projects onto the inversion-symmetric part. Both projections keep
    H Hermitian, commute with each other, and with both applied every band is Kramers-degenerate
    (PT symmetry) at every k.

The violation of a symmetry S is reported as mean and max over all elements of all R of
|H_R − (S H)_R| (eV), the measure of issue 9 (Pt: mean 0.9 meV, max 55 meV for T).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tbspin.errors import ModelError, ParameterError, TbspinError, WannierFormatError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ArrayLike, ComplexArray, FloatArray, IntArray, PathLike

__all__ = [
    "SymmetryReport",
    "Violation",
    "time_reversal_matrix",
    "time_reversal_image",
    "inversion_map",
    "source_file",
    "spin_order_of",
    "inversion_image",
    "violation",
    "symmetrized",
    "win_parities",
]


@dataclasses.dataclass(frozen=True)
class Violation:
    """Size of |H_R − (S H)_R| over all elements of all R (eV)."""

    mean: float
    max: float

    def __str__(self) -> str:
        return f"mean {self.mean * 1e3:.3g} meV, max {self.max * 1e3:.3g} meV"


@dataclasses.dataclass(frozen=True)
class SymmetryReport:
    """What :func:`symmetrized` did.

    Attributes
    ----------
    applied : tuple of str
        "time reversal", "inversion" (in the order applied).
    before, after : dict {symmetry: Violation}
        Violations of each symmetry before and after (eV).
    band_shift_max : float
        Largest |ΔE| of the sorted bands on the k sample (eV).
    band_shift_near_ef : float or None
        Largest |ΔE| among states within ``window`` of ``efermi`` (eV), if ``efermi`` was given.
    kramers_splitting_before, kramers_splitting_after : float
        Largest splitting inside the pairs (bands 2i, 2i+1) on the k sample (eV).
    position_shift : float
        Largest change of an orbital position (Å) made to keep the positions symmetric.
    n_k : int
        Size of the random k sample.
    notes : tuple of str
        What was not done and why (e.g. inversion without orbital parities).
    """

    applied: tuple[str, ...]
    before: dict[str, Violation]
    after: dict[str, Violation]
    band_shift_max: float
    band_shift_near_ef: float | None
    kramers_splitting_before: float
    kramers_splitting_after: float
    position_shift: float
    n_k: int
    efermi: float | None = None
    window: float = 0.5
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"symmetrized: {', '.join(self.applied) or 'nothing'}"]
        lines += [f"  note: {n}" for n in self.notes]
        for name in self.before:
            lines.append(f"  {name:15s} violation before: {self.before[name]}")
            lines.append(f"  {'':15s} violation after:  {self.after[name]}")
        lines.append(
            f"  Kramers splitting (max over {self.n_k} random k): "
            f"{self.kramers_splitting_before:.3g} eV -> {self.kramers_splitting_after:.3g} eV")
        lines.append(f"  bands moved by up to {self.band_shift_max * 1e3:.3g} meV")
        if self.band_shift_near_ef is not None:
            lines.append(f"  bands within {self.window} eV of E_F = {self.efermi} eV moved by up to "
                         f"{self.band_shift_near_ef * 1e3:.3g} meV")
        if self.position_shift > 0:
            lines.append(f"  orbital positions moved by up to {self.position_shift:.3g} Å")
        return "\n".join(lines)


# ---------------------------------------------------------------------- time reversal
def time_reversal_matrix(model: LatticeModel) -> ComplexArray:
    """Θ = i s_y of a spin-½ model (T = Θ K), checked: Θ unitary, Θ Θ* = −1, Θ s* Θ† = −s.

    Raises
    ------
    ModelError
        If the model has no spin operators or they are not Pauli-type spin-½ matrices.
    """
    if not model.has_spin:
        raise ModelError(
            f"model {model.name!r} has no spin operators: time reversal T = i s_y K needs them "
            "(pass spin_order= when reading a Wannier90 model)")
    theta = 1j * np.asarray(model.spin("y"), dtype=complex)
    n = model.n_orbitals
    ok = np.allclose(theta @ theta.conj().T, np.eye(n), atol=1e-10)
    ok = ok and np.allclose(theta @ theta.conj(), -np.eye(n), atol=1e-10)
    for a in "xyz":
        s = np.asarray(model.spin(a))
        ok = ok and np.allclose(theta @ s.conj() @ theta.conj().T, -s, atol=1e-10)
    if not ok:
        raise ModelError(
            "the spin operators are not spin-½ Pauli matrices on a real orbital basis: "
            "T = i s_y K is not the time-reversal operator of this model")
    return theta


def time_reversal_image(model: LatticeModel, theta: ComplexArray | None = None) -> ComplexArray:
    """(T H)_R = Θ H_R* Θ† for every R, (NR, N, N) on ``model.R``."""
    th = time_reversal_matrix(model) if theta is None else theta
    return th[None] @ model.hoppings.conj() @ th.conj().T[None]


# ---------------------------------------------------------------------- inversion
def _sites(frac: FloatArray, lattice: FloatArray, tol: float) -> IntArray:
    """Group orbitals whose positions coincide (within ``tol`` Å, modulo lattice vectors)."""
    n = len(frac)
    d = frac[:, None, :] - frac[None, :, :]
    dist = np.linalg.norm((d - np.round(d)) @ lattice, axis=-1)
    label = -np.ones(n, dtype=int)
    nxt = 0
    for i in range(n):  # loop over orbitals (not k-points), once per model
        if label[i] < 0:
            label[(dist[i] < tol) & (label < 0)] = nxt
            nxt += 1
    return label


def inversion_map(
    model: LatticeModel, *, center: ArrayLike | None = None, tol: float = 0.3
) -> tuple[IntArray, IntArray]:
    """Permutation π and lattice vectors L of inversion through ``center`` (Cartesian Å, default 0).

    Orbitals are grouped into sites (positions within ``tol`` Å); the image of a site must be a
    site with the same number of orbitals, and the k-th orbital of a site maps onto the k-th
    orbital of its image (Wannier90 orders the orbitals of equivalent atoms alike).

    Returns
    -------
    perm : (N,) int
        π(n).
    L : (N, d) int
        Reduced lattice vectors with −τ_n − τ_π(n) = L_n (positions relative to ``center``).

    Raises
    ------
    ModelError
        If some site has no inversion partner.
    """
    lat = np.asarray(model.lattice)
    c = np.zeros(model.dim) if center is None else np.asarray(center, dtype=float).reshape(-1)
    frac = (model.positions - c) @ np.linalg.inv(lat)
    label = _sites(frac, lat, tol)
    nsite = label.max() + 1
    members = [np.nonzero(label == s)[0] for s in range(nsite)]
    centre = np.array([frac[m].mean(axis=0) for m in members])
    d = -centre[:, None, :] - centre[None, :, :]  # −c_s − c_t
    dist = np.linalg.norm((d - np.round(d)) @ lat, axis=-1)
    partner = np.argmin(dist, axis=1)
    perm = np.empty(model.n_orbitals, dtype=int)
    L = np.empty((model.n_orbitals, model.dim), dtype=int)
    for s in range(nsite):
        t = partner[s]
        if dist[s, t] > tol or len(members[t]) != len(members[s]):
            raise ModelError(
                f"inversion maps the orbitals at {np.round(centre[s] @ lat + c, 3).tolist()} Å onto "
                f"no equivalent site (nearest image {dist[s, t]:.3g} Å away): the model is not "
                "centrosymmetric about this centre (pass center= or check the positions)")
        perm[members[s]] = members[t]
        L[members[s]] = np.round(d[s, t]).astype(int)
    return perm, L


def _r_index(R: IntArray, query: IntArray) -> IntArray:
    """Row index of each ``query`` vector in ``R`` (−1 where absent); vectorized."""
    lo = min(R.min(), query.min())
    span = max(R.max(), query.max()) - lo + 1
    w = span ** np.arange(R.shape[1])
    keys = (R - lo) @ w
    order = np.argsort(keys)
    sk = keys[order]
    q = (query - lo) @ w
    pos = np.clip(np.searchsorted(sk, q), 0, len(sk) - 1)
    return np.where(sk[pos] == q, order[pos], -1)


def _inversion_targets(R: IntArray, L: IntArray) -> IntArray:
    """All R' = L_n − L_m − R (with the R themselves): the closed set of the inversion image."""
    dL = np.unique((L[None, :, :] - L[:, None, :]).reshape(-1, L.shape[1]), axis=0)
    img = (dL[None, :, :] - R[:, None, :]).reshape(-1, R.shape[1])
    return np.unique(np.concatenate([R, img]), axis=0)


def inversion_image(
    R: IntArray, H: ComplexArray, perm: IntArray, L: IntArray, parities: IntArray
) -> ComplexArray:
    """(P H)_R[m, n] = p_m p_n H_{L_n − L_m − R}[π(m), π(n)] on the same R (zero if absent).

    ``R`` must be closed under the map (use :func:`_inversion_targets`).
    """
    n = H.shape[1]
    src = (L[None, None, :, :] - L[None, :, None, :]) - R[:, None, None, :]  # (NR, m, n, d)
    idx = _r_index(R, src.reshape(-1, R.shape[1])).reshape(len(R), n, n)
    pm = perm[:, None]
    pn = perm[None, :]
    vals = H[np.clip(idx, 0, None), pm[None], pn[None]]
    vals = np.where(idx >= 0, vals, 0.0)
    return vals * (parities[:, None] * parities[None, :])[None]


def violation(H: ComplexArray, image: ComplexArray) -> Violation:
    """Mean and max of |H − image| over all elements (eV)."""
    diff = np.abs(H - image)
    return Violation(mean=float(diff.mean()), max=float(diff.max()))


# ---------------------------------------------------------------------- parities from .win
_L_OF = {"s": 0, "p": 1, "d": 2, "f": 3}
_COUNT = {"s": 1, "p": 3, "d": 5, "f": 7}
_SINGLE = {
    "pz": 1, "px": 1, "py": 1,
    "dz2": 2, "dxz": 2, "dyz": 2, "dx2-y2": 2, "dxy": 2,
    "fz3": 3, "fxz2": 3, "fyz2": 3, "fz(x2-y2)": 3, "fxyz": 3, "fx(x2-3y2)": 3, "fy(3x2-y2)": 3,
}


def win_parities(
    path: PathLike, spin_order: str | None = None, species: Sequence[str] | None = None
) -> IntArray:
    """Orbital parities (−1)^l in Wannier90's order from the ``projections`` block of a ``.win``.

    Each projection line ``Species: orbitals`` contributes, for every atom of that species (in the
    order of the atoms block), the listed orbitals (s: 1, p: 3, d: 5, f: 7 functions, or single
    names like ``pz``, ``dxy``; ``l=…`` with optional ``mr=…``). Hybrids (sp, sp3, …) have no
    parity and raise. With ``spinors = true`` every projection is doubled according to
    ``spin_order`` ("block": all up, then all down; "interleaved": up, down per projection).
    ``species`` lists the atoms' species in order when the ``.win`` has no atoms block.

    Raises
    ------
    WannierFormatError
        No projections block, unknown species, or hybrid orbitals.
    ParameterError
        Spinor file without a valid ``spin_order``.
    """
    path = Path(path)
    text = [re.split(r"[!#]", line, maxsplit=1)[0].strip() for line in path.read_text().splitlines()]
    low = [t.lower() for t in text]

    def block(name: str) -> list[str]:
        try:
            i = next(j for j, t in enumerate(low) if re.match(rf"begin\s+{name}\b", t))
        except StopIteration:
            return []
        out: list[str] = []
        for t in text[i + 1:]:
            if re.match(rf"end\s+{name}\b", t.lower()):
                return out
            if t:
                out.append(t)
        return out

    proj = block("projections")
    if not proj:
        raise WannierFormatError("no 'projections' block: pass parities explicitly", path=str(path))
    if species is None:
        atoms = block("atoms_cart") or block("atoms_frac")
        species = [a.split()[0] for a in atoms if len(a.split()) >= 4]
    species = [str(x).lower() for x in species]
    parities: list[int] = []
    for line in proj:
        if ":" not in line:
            raise WannierFormatError(f"cannot read projection {line!r}", path=str(path))
        site, orbs = line.split(":", 1)
        orbs = orbs.split(":")[0]  # drop z=, x=, zona= options
        count = species.count(site.strip().lower())
        if count == 0:
            raise WannierFormatError(f"projection on {site.strip()!r}: no such atom (random or "
                                     "c=/f= centres need explicit parities)", path=str(path))
        one: list[int] = []
        for item in orbs.replace(" ", "").lower().split(";"):
            m = re.fullmatch(r"l=(\d)(?:,mr=([\d,]+))?", item)
            if m:
                lval = int(m.group(1))
                nmr = len(m.group(2).split(",")) if m.group(2) else 2 * lval + 1
                one += [(-1) ** lval] * nmr
            elif item in _COUNT:
                one += [(-1) ** _L_OF[item]] * _COUNT[item]
            elif item in _SINGLE:
                one.append((-1) ** _SINGLE[item])
            else:
                raise WannierFormatError(f"orbital {item!r} has no parity (hybrid or unknown): "
                                         "pass parities explicitly", path=str(path))
        parities += one * count
    par = np.array(parities, dtype=int)
    spinors = any(re.match(r"spinors\s*[=:]?\s*\.?t", t) for t in low)
    if spinors:
        if spin_order == "block":
            par = np.concatenate([par, par])
        elif spin_order == "interleaved":
            par = np.repeat(par, 2)
        else:
            raise ParameterError("spinor .win file: pass spin_order='block' or 'interleaved'")
    return par


# ---------------------------------------------------------------------- the symmetrization
def _sample_k(model: LatticeModel, n_k: int, seed: int) -> FloatArray:
    rng = np.random.default_rng(seed)
    red = rng.random((n_k, model.n_periodic))
    return red @ model.reciprocal[list(model.periodic)]


def _pair_split(E: npt.NDArray[np.floating]) -> float:
    n = E.shape[1] - E.shape[1] % 2
    return float(np.max(E[:, 1:n:2] - E[:, 0:n:2])) if n else 0.0


def symmetrized(
    model: LatticeModel,
    *,
    time_reversal: bool = True,
    inversion: bool | Sequence[int] | PathLike | None = "auto",
    center: ArrayLike | None = None,
    efermi: float | None = None,
    window: float = 0.5,
    n_k: int = 200,
    seed: int = 0,
    position_tol: float = 0.3,
) -> tuple[LatticeModel, SymmetryReport]:
    """A copy of ``model`` with time reversal and/or inversion restored, and a report.

    Parameters
    ----------
    model : LatticeModel
    time_reversal : bool
        Apply H_R → ½ (H_R + Θ H_R* Θ†) (needs spin-½ operators).
    inversion : "auto" (default), None, False, True, sequence of ±1, or path of a ``.win``
        Orbital parities (−1)^l (N values), or the ``.win`` whose projections give them
        (:func:`win_parities`, spinor order from the model's metadata); None/False
        skips inversion. True takes the parities from the model's ``"parity"`` operator
        (diagonal ±1, e.g. the 4-band Bi₂Se₃ model) or the ``.win`` it was read with, and
        raises when there is neither; "auto" does the same where the data allow and otherwise
        restores time reversal only, saying why in ``report.notes``.
    center : (d,) array_like, optional
        Inversion centre (Cartesian Å), default the origin.
    efermi, window : float
        Report how much the bands within ``window`` eV of ``efermi`` moved.
    n_k, seed : int
        Random k sample of the report.
    position_tol : float
        Tolerance (Å) for matching orbital sites.

    Returns
    -------
    (LatticeModel, SymmetryReport)
        The symmetrized model (same positions up to a symmetric average, same operators) and the
        report of violations before/after and band shifts.
    """
    R = np.asarray(model.R)
    H = np.array(model.hoppings)
    pos = np.array(model.positions)
    before: dict[str, Violation] = {}
    applied: list[str] = []
    theta = None
    if time_reversal:
        theta = time_reversal_matrix(model)
        before["time reversal"] = violation(H, time_reversal_image(model, theta))
    notes: list[str] = []
    perm = L = None
    if isinstance(inversion, str) and inversion == "auto":
        try:  # where the data allow (parity operator or .win projections, matching sites)
            par = _parities(model, True)
            if par is not None:
                perm, L = inversion_map(model, center=center, tol=position_tol)
        except (TbspinError, OSError) as exc:
            par, perm, L = None, None, None
            notes.append(f"inversion not restored: {exc}")
    else:
        par = _parities(model, inversion)
    if par is not None and perm is None:
        perm, L = inversion_map(model, center=center, tol=position_tol)
    if par is not None and perm is not None and L is not None:
        Rall = _inversion_targets(R, L)
        Hall = np.zeros((len(Rall),) + H.shape[1:], dtype=complex)
        Hall[_r_index(Rall, R)] = H
        R, H = Rall, Hall
        before["inversion"] = violation(H, inversion_image(R, H, perm, L, par))
    if theta is not None:
        H = 0.5 * (H + theta[None] @ H.conj() @ theta.conj().T[None])
        partner = np.argmax(np.abs(theta), axis=0)
        close = np.linalg.norm(pos - pos[partner], axis=1) < position_tol
        pos = np.where(close[:, None], 0.5 * (pos + pos[partner]), pos)
        applied.append("time reversal")
    if par is not None and perm is not None and L is not None:
        H = 0.5 * (H + inversion_image(R, H, perm, L, par))
        c = np.zeros(model.dim) if center is None else np.asarray(center, dtype=float)
        img = -(pos[perm] - c) - L @ model.lattice + c  # −τ_π(n) − L_n (about c)
        pos = 0.5 * (pos + img)
        applied.append("inversion")
    keep = np.any(np.abs(H) > 0, axis=(1, 2)) | ~np.any(R != 0, axis=1)
    md = dict(model.metadata)
    md["symmetrized"] = tuple(applied)
    new = model.replace(R=R[keep], hoppings=H[keep], positions=pos, metadata=md)
    after: dict[str, Violation] = {}
    if theta is not None:
        after["time reversal"] = violation(new.hoppings, time_reversal_image(new, theta))
    if par is not None and perm is not None and L is not None:
        Rn = _inversion_targets(np.asarray(new.R), L)
        Hn = np.zeros((len(Rn),) + H.shape[1:], dtype=complex)
        Hn[_r_index(Rn, np.asarray(new.R))] = new.hoppings
        after["inversion"] = violation(Hn, inversion_image(Rn, Hn, perm, L, par))
    k = _sample_k(model, n_k, seed)
    E0 = np.linalg.eigvalsh(model.hamiltonian(k))
    E1 = np.linalg.eigvalsh(new.hamiltonian(k))
    near = None
    if efermi is not None:
        sel = np.abs(E0 - efermi) < window
        near = float(np.max(np.abs(E1 - E0)[sel])) if sel.any() else 0.0
    report = SymmetryReport(
        applied=tuple(applied), before=before, after=after,
        band_shift_max=float(np.max(np.abs(E1 - E0))), band_shift_near_ef=near,
        kramers_splitting_before=_pair_split(E0), kramers_splitting_after=_pair_split(E1),
        position_shift=float(np.max(np.linalg.norm(pos - model.positions, axis=1))),
        n_k=n_k, efermi=efermi, window=window, notes=tuple(notes),
    )
    return new, report


def source_file(model: LatticeModel, role: str) -> str | None:
    """Path of the file with ``role`` ("win", "wout", ...) the model was read from, or None
    (``metadata["source"]["files"]`` of :func:`tbspin.io.read_wannier90`)."""
    src = model.metadata.get("source")
    files = src.get("files") if isinstance(src, dict) else None
    for f in files if isinstance(files, list) else []:
        if isinstance(f, dict) and f.get("role") == role:
            return str(f.get("path"))
    return None


def spin_order_of(model: LatticeModel) -> str | None:
    """The spinor order the model was read with (``metadata["source"]["spin_order"]``)."""
    src = model.metadata.get("source")
    order = src.get("spin_order") if isinstance(src, dict) else None
    return str(order) if order else model.metadata.get("spin_order")


def _parities(model: LatticeModel, inversion: bool | Sequence[int] | PathLike | None) -> IntArray | None:
    if inversion is None or inversion is False:
        return None
    n = model.n_orbitals
    if inversion is True:
        if "parity" in model.operators:
            op = np.asarray(model.operators["parity"])
            if not np.allclose(op, np.diag(np.diag(op))) or not np.allclose(np.abs(np.diag(op)), 1):
                raise ModelError("the model's 'parity' operator is not diagonal ±1")
            return np.round(np.diag(op).real).astype(int)
        win = source_file(model, "win")
        if win is None:
            raise ParameterError("inversion=True needs a 'parity' operator or a .win file: pass "
                                 "inversion=<parities> or inversion=<path of the .win>")
        inversion = win
    if isinstance(inversion, (str, Path)):
        par = win_parities(inversion, spin_order_of(model))
    else:
        par = np.asarray(inversion, dtype=int).reshape(-1)
    if par.shape != (n,) or not np.all(np.abs(par) == 1):
        raise ParameterError(f"inversion parities must be {n} values ±1, got shape {par.shape}")
    return par
