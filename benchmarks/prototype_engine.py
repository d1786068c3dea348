"""Prototype of the engine the core will wire in: FFT Bloch sums + the chunk executor around
today's kernels (tbspin.bands.eigen / tbspin.bands.berry / tbspin.observables internals).

Not part of the package: it shows the target ratio to bare ``eigh`` is reachable and what the
engine has to change (kernels that take H and ∂H instead of k). Kubo connections only; models
without a full Wannier position matrix (the benchmarks' models).

``prototype_conductivity(model, what=..., ...)`` returns the raw integral I(E_F) (Å^(2−p)) that
``tbspin.anomalous_hall`` / ``tbspin.spin_hall`` return as ``result.raw``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import tbspin
from tbspin.bands import eigen
from tbspin.bands.berry import kubo_connection_from_velocity, velocity_matrices
from tbspin.bz.fourier import MeshFourier
from tbspin.engine.executor import sum_chunks
from tbspin.observables import occupied_sum


@dataclasses.dataclass(frozen=True)
class Payload:
    """Everything a chunk task needs (shipped once per worker)."""

    plan: MeshFourier
    chunk_size: int
    what: str
    G: np.ndarray | None
    spin_op: np.ndarray | None
    eta: float
    efermi: np.ndarray
    cell: float
    degen_tol: float = 1e-4
    gauge_tol: float = 1e-6


def chunk_task(p: Payload, c: int) -> np.ndarray:
    """Σ_chunk f X for chunk c: FFT H/∂H → eigh + gauge → velocity → connection → integrand."""
    start = c * p.chunk_size
    _, H, dH = p.plan.block(start, min(start + p.chunk_size, p.plan.size))
    eig = eigen.solve(H, p.G, degen_tol=p.degen_tol, gauge_tol=p.gauge_tol, warn=False)
    V = velocity_matrices(eig.vectors, dH)
    E = eig.energies
    if p.what == "conventional":
        X = eigen.sandwich(eig.vectors, p.spin_op) @ V[0]
        J = 0.5 * (X + X.conj().transpose(0, 2, 1))
        dE2 = (E[:, :, None] - E[:, None, :]) ** 2 + p.eta**2
        same = eig.block[:, :, None] == eig.block[:, None, :]
        w = np.where(same, 0.0, 1.0 / np.where(same, 1.0, dE2))
        X = (-2.0 * np.imag(J * V[1].transpose(0, 2, 1)) * w).sum(axis=2)
    else:
        R = kubo_connection_from_velocity(eig, V, p.G)
        T = -2.0 * np.imag(R[0] * R[1].transpose(0, 2, 1))
        if p.what == "berry":
            X = T.sum(axis=2)
        else:  # proper
            X = np.einsum("kmn,kn->km", T, eigen.expectation(eig.vectors, p.spin_op))
    return occupied_sum(E, X, p.efermi)


def make_payload(
    model: tbspin.LatticeModel,
    *,
    what: str,
    mesh: int,
    efermi: np.ndarray,
    spin: str = "z",
    current: int = 0,
    field: int = 1,
    eta: float = 0.0,
    chunk_size: int | None = None,
) -> Payload:
    """Build the payload of one observable with the settings, gauge and mesh of the public
    ``tbspin.spin_hall`` / ``anomalous_hall`` (generic mesh shift of the proper formula,
    degen_tol from the model's degeneracy scale)."""
    from tbspin.observables import _default_shift, _settings, _shc_integrand

    if what == "berry":
        st = _settings(model, "kubo", None, None, {})
        spin_op = None
    else:
        integrand, _ = _shc_integrand(model, spin=spin, current=current, efield=field,
                                      formula=what, method="kubo", gauge=None, eta=eta,
                                      conn_kw={})
        st, spin_op = integrand.settings, integrand.spin_op
    shift = _default_shift(model, what, None, {})
    m = tbspin.make_mesh(model, mesh, shift=shift)
    plan = MeshFourier(model, m, (current, field))
    G = None if what == "conventional" else st.gauge
    return Payload(plan=plan, chunk_size=chunk_size or plan.chunk_size(), what=what, G=G,
                   spin_op=spin_op, eta=eta, efermi=np.asarray(efermi, dtype=float),
                   cell=model.cell_measure, degen_tol=st.degen_tol, gauge_tol=st.gauge_tol)


def prototype_conductivity(payload: Payload, *, workers: int = 1, backend: str = "auto",
                           client: object = None) -> np.ndarray:
    """Raw integral I(E_F) = Σ f X / (V_cell N_k) over the mesh, chunks run by the executor."""
    n = payload.plan.n_chunks(payload.chunk_size)
    total = sum_chunks(chunk_task, n, payload=payload, workers=workers, backend=backend,
                       client=client)
    return total / (payload.plan.size * payload.cell)
