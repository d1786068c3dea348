"""Occupation weights and THE Fermi sum of tbspin (every integration path calls :func:`fermi_sum`).

For band-resolved values X_mk (one or several tensor components c) and Fermi energies E_F,e:

* Fermi sea     S_e,c = Σ_{k,m} f(ε_mk − E_F,e) X_mk,c          (Berry curvature, spin Hall, ...)
* Fermi surface S_e,c = Σ_{k,m} (−∂f/∂ε)(ε_mk − E_F,e) X_mk,c   (intraband terms, e.g. the
  Edelstein spin density; −∂f/∂ε = f(1 − f)/k_BT, so these need T > 0: the temperature is the
  smearing of the Fermi surface)

f is Fermi–Dirac at temperature T (K); at T = 0 the step, and a state with ε = E_F counts as
occupied. At T = 0 each state is binned by the first Fermi energy that occupies it and the bins
are summed cumulatively (no sort of the states); at T > 0 the weights are applied in blocks of
Fermi energies (bounded memory). ``per_point=True`` keeps the k axis (the per-cell sums of the
randomized and adaptive rules of :mod:`tbspin.sampling`).

Shapes: ``energies`` (Nk, N); ``values`` (Nk, N) or (Nk, N, C); the result (nE,) / (nE, C), or
with ``per_point`` (Nk, nE) / (Nk, nE, C).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit

from tbspin import units
from tbspin.errors import ParameterError
from tbspin.types import FloatArray

__all__ = ["fermi_sum", "OCCUPATIONS"]

#: "sea": f; "surface": −∂f/∂ε
OCCUPATIONS = ("sea", "surface")

#: largest number of (state × Fermi energy) weights formed at once at T > 0
_BLOCK = 2**22


def fermi_sum(
    energies: FloatArray, values: FloatArray, efermi: FloatArray, temperature: float = 0.0,
    *, per_point: bool = False, occupation: str | Sequence[str] = "sea",
) -> FloatArray:
    """Σ_m w(ε_mk − E_F) X_mk summed over k (or per k with ``per_point``), for all E_F at once.

    Parameters
    ----------
    energies : (Nk, N) eV
    values : (Nk, N) or (Nk, N, C)
    efermi : (nE,) eV, any order
    temperature : float
        Kelvin; 0 gives step occupations.
    per_point : bool
        Keep the k axis.
    occupation : {"sea", "surface"} or a sequence of them (one per component)
        Weight f (Fermi sea) or −∂f/∂ε (Fermi surface, needs ``temperature`` > 0).
    """
    if not isinstance(occupation, str):
        occ = list(occupation)
        if len(set(occ)) == 1:
            occupation = occ[0]
        else:  # mixed: each kind of weight on its own components
            if values.ndim != energies.ndim + 1 or values.shape[-1] != len(occ):
                raise ParameterError(f"{len(occ)} occupations for values of shape {values.shape}")
            shape = ((len(energies),) if per_point else ()) + (len(efermi), len(occ))
            out = np.empty(shape)
            for kind in set(occ):
                cols = [c for c, o in enumerate(occ) if o == kind]
                out[..., cols] = fermi_sum(energies, values[..., cols], efermi, temperature,
                                           per_point=per_point, occupation=kind)
            return out
    if occupation not in OCCUPATIONS:
        raise ParameterError(f"'occupation' must be one of {OCCUPATIONS}, got {occupation!r}")
    scalar = values.ndim == energies.ndim
    if scalar and values.shape != energies.shape or not scalar and values.shape[:-1] != energies.shape:
        raise ParameterError(f"values of shape {values.shape} do not match energies "
                             f"{energies.shape} (optionally with a trailing component axis)")
    if per_point and energies.ndim != 2:
        raise ParameterError("per-point Fermi sums need energies of shape (Nk, N)")
    if occupation == "surface" and temperature <= 0:
        raise ParameterError("a Fermi-surface sum (−∂f/∂ε) needs temperature > 0: the "
                             "temperature is the smearing of the Fermi surface")
    ne = len(efermi)
    E = energies if per_point else energies.reshape(1, -1)  # (Nk or 1, states)
    nk = len(E)
    X = values.reshape(E.shape + (-1,))  # (Nk or 1, states, C)
    nc = int(np.shape(X)[-1])
    if temperature == 0:
        order = np.argsort(efermi, kind="stable")
        first = np.searchsorted(efermi[order], E, side="left")  # in 0 … nE
        flat = (np.arange(nk)[:, None] * (ne + 1) + first).reshape(-1)
        Xf = X.reshape(-1, nc)
        binned = np.stack([np.bincount(flat, weights=Xf[:, c], minlength=nk * (ne + 1))
                           for c in range(nc)], axis=-1).reshape(nk, ne + 1, nc)
        cum = np.cumsum(binned[:, :ne], axis=1)
        out = np.empty(cum.shape)
        out[:, order] = cum
    else:
        kT = units.KB_EV * temperature
        out = np.empty((nk, ne, nc))
        step = max(1, _BLOCK // max(1, E.size))
        for s in range(0, ne, step):
            f = expit(-(E[:, :, None] - efermi[s:s + step]) / kT)  # (nk, states, block)
            w = f if occupation == "sea" else f * (1.0 - f) / kT
            out[:, s:s + step] = np.einsum("kme,kmc->kec", w, X)
    if not per_point:
        out = out[0]
    return out[..., 0] if scalar else out
