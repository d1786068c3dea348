# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Haldane model: Chern number and anomalous Hall plateau
#
# Haldane's model (PRL 61, 2015 (1988)) is graphene with a staggered sublattice potential ±Δ
# and a complex next-nearest-neighbour hopping t₂e^{±iφ} that breaks time reversal without a
# net magnetic flux per cell. For |Δ| < 3√3 |t₂ sin φ| the lower band carries a Chern number
# |C| = 1; beyond, C = 0.
#
# We build the model with **PythTB's own API**, convert it with `LatticeModel.from_pythtb`, and
# compare `tbspin.chern_number` (Kubo-formula Berry curvature integrated over a mesh) with
# PythTB's `wf_array.berry_flux` (a Wilson-loop plaquette sum, an independent method).
# tbspin's sign convention (docs/conventions.md): C has the sign of the Berry phase (as
# `berry_flux`), and the anomalous Hall conductivity of a filled Chern band set is
# σ_xy = −C e²/h.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from pythtb import tb_model, wf_array  # noqa: E402

import tbspin  # noqa: E402

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut01_"))
OUT.mkdir(parents=True, exist_ok=True)
print("figures go to", OUT)

# %% [markdown]
# ## The model in PythTB
#
# Triangular lattice a₁ = (1, 0), a₂ = (½, √3/2) (units of the lattice constant, read as Å by
# tbspin), A at (⅓, ⅓), B at (⅔, ⅔) in reduced coordinates. PythTB adds the Hermitian
# conjugate of every hopping itself, so each bond is given once.


# %%
def haldane_pythtb(t: float = -1.0, t2: float = 0.15, phi: float = np.pi / 2,
                   delta: float = 0.2) -> tb_model:
    """Haldane model as a PythTB tb_model (spinless, 2 orbitals)."""
    lat = [[1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]]
    orb = [[1.0 / 3.0, 1.0 / 3.0], [2.0 / 3.0, 2.0 / 3.0]]
    tb = tb_model(2, 2, lat, orb)
    tb.set_onsite([-delta, delta])
    # nearest neighbours: B sits at R = 0, −a1, −a2 relative to A
    for R in ([0, 0], [-1, 0], [0, -1]):
        tb.set_hop(t, 0, 1, R)
    # next-nearest neighbours: the same three vectors a1, a2 − a1, −a2 (120° apart) carry
    # e^{+iφ} on A and e^{−iφ} on B
    for R in ([1, 0], [-1, 1], [0, -1]):
        tb.set_hop(t2 * np.exp(1j * phi), 0, 0, R)
        tb.set_hop(t2 * np.exp(-1j * phi), 1, 1, R)
    return tb


tb = haldane_pythtb()
model = tbspin.LatticeModel.from_pythtb(tb)
print(model)

# %% [markdown]
# ## Chern number: tbspin vs PythTB
#
# PythTB: eigenvectors on a closed 41×41 grid of the reduced BZ, Berry flux of band 0 through
# all plaquettes. tbspin: Berry curvature Ω^{xy} from the Kubo formula (and from gauge-fixed
# finite differences, `method="fd"`) summed over a 60×60 mesh, divided by 2π.

# %%
w = wf_array(tb, [41, 41])
w.solve_on_grid([0.0, 0.0])
c_pythtb = w.berry_flux([0]) / (2 * np.pi)
c_kubo = tbspin.chern_number(model, bands=1, mesh=60, method="kubo")
c_fd = tbspin.chern_number(model, bands=1, mesh=60, method="fd")
print(f"C (PythTB berry_flux) = {c_pythtb:+.8f}")
print(f"C (tbspin, kubo)      = {c_kubo:+.8f}")
print(f"C (tbspin, fd)        = {c_fd:+.8f}")

# the trivial side of Haldane's phase diagram: |Δ| > 3√3 |t2 sin φ| = 0.779
tb_triv = haldane_pythtb(delta=1.2)
w_triv = wf_array(tb_triv, [41, 41])
w_triv.solve_on_grid([0.0, 0.0])
c_triv_pythtb = w_triv.berry_flux([0]) / (2 * np.pi)
c_triv = tbspin.chern_number(tbspin.LatticeModel.from_pythtb(tb_triv), bands=1, mesh=60)
print(f"trivial phase: C = {c_triv:+.2e} (tbspin), {c_triv_pythtb:+.2e} (PythTB)")

# %% [markdown]
# ## Anomalous Hall conductivity vs Fermi energy
#
# σ_xy(E_F) = −(e²/ħ) ∫ d²k/(2π)² Σ_m f_m Ω_m, in units of e²/h. All Fermi energies come out of
# one pass over the mesh. Inside the gap σ_xy sits on the plateau −C e²/h; below all bands it
# is zero; above all bands the total Chern number 0 gives zero again.

# %%
energies = np.linalg.eigvalsh(model.hamiltonian(tbspin.make_mesh(model, 60).cartesian(model)))
gap_lo, gap_hi = energies[:, 0].max(), energies[:, 1].min()
print(f"band gap: [{gap_lo:.4f}, {gap_hi:.4f}] (units of |t|)")
efermi = np.linspace(-3.8, 3.8, 381)
ahc = tbspin.anomalous_hall(model, efermi=efermi, mesh=120)
print("unit:", ahc.unit)
in_gap = (efermi > gap_lo + 1e-3) & (efermi < gap_hi - 1e-3)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(efermi, ahc.values, "k-", lw=1.2)
ax.axhline(-c_pythtb, color="tab:red", ls="--", lw=0.8, label=r"$-C$ (PythTB)")
ax.axvspan(gap_lo, gap_hi, color="0.9", label="gap")
ax.set_xlabel(r"$E_F$ ($|t|$)")
ax.set_ylabel(r"$\sigma_{xy}$ ($e^2/h$)")
ax.set_title("Haldane model: AHC, 120×120 mesh")
ax.legend(fontsize="small")
fig.savefig(OUT / "01_haldane_ahc.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Berry curvature of the lower band
#
# The curvature is concentrated at the valleys K and K′, where the gap is smallest
# (2|Δ ∓ 3√3 t₂ sin φ|). With Δ ≠ 0 the two valleys carry different weight but the same sign.
# Integrating the map (its mean times the BZ area, divided by 2π) must give C again.

# %%
n = 90
g = np.arange(n) / n
kred = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
kcart = kred @ model.reciprocal
e_map, omega = tbspin.berry_curvature(model, kcart)
bz_area = abs(np.linalg.det(model.reciprocal))
c_map = omega[:, 0].mean() * bz_area / (2 * np.pi)
print(f"C from the curvature map: {c_map:+.8f}")

# show it on a 2×2 patch of reduced cells so that both valleys appear whole
shift = (kred[:, None, :] + np.array([[0, 0], [-1, 0], [0, -1], [-1, -1]])[None]).reshape(-1, 2)
kc = shift @ model.reciprocal
val = np.repeat(omega[:, 0], 4)
fig, ax = plt.subplots(figsize=(5, 4))
sc = ax.tricontourf(kc[:, 0], kc[:, 1], val, levels=40, cmap="RdBu_r")
K = np.array([1 / 3, 2 / 3]) @ model.reciprocal  # a valley of this lattice
for s in (1, -1):
    ax.plot(*(s * K), "k+", ms=8)
ax.set_aspect("equal")
ax.set_xlabel(r"$k_x$ (Å$^{-1}$)")
ax.set_ylabel(r"$k_y$ (Å$^{-1}$)")
ax.set_title(r"$\Omega^{xy}$ of the lower band (Å$^2$)")
fig.colorbar(sc, ax=ax)
fig.savefig(OUT / "01_haldane_berry_curvature.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Checks
#
# Each claim above, asserted (the script fails if the physics is wrong).

# %%
# PythTB's berry_flux is an independent (Wilson-loop) computation: |C| = 1 in the Haldane
# phase (Haldane 1988), and tbspin's Kubo and fd results agree with it, sign included.
assert abs(abs(c_pythtb) - 1.0) < 1e-6
assert abs(c_kubo - c_pythtb) < 1e-6 and abs(c_fd - c_pythtb) < 1e-6
# trivial phase |Δ| > 3√3|t2 sin φ| (Haldane 1988): C = 0 in both codes
assert abs(c_triv) < 1e-6 and abs(c_triv_pythtb) < 1e-6
# plateau: σ_xy = −C e²/h in the gap (docs/conventions.md), exactly 0 below all bands and
# 0 above all bands (the total Chern number of a complete band set is zero)
assert np.allclose(ahc.values[in_gap], -c_pythtb, atol=1e-6)
assert np.all(ahc.values[efermi < energies.min()] == 0.0)
assert np.allclose(ahc.values[efermi > energies.max()], 0.0, atol=1e-9)
# the curvature map integrates to the same C (independent sum on another mesh)
assert abs(c_map - c_pythtb) < 1e-4
# the curvature peaks at a valley K or K' (where the gap is smallest, Haldane 1988)
peak = kcart[np.argmax(np.abs(omega[:, 0]))]
valleys = [s * K + G for s in (1, -1) for G in
           (np.array([i, j]) @ model.reciprocal for i in (-1, 0, 1) for j in (-1, 0, 1))]
assert min(np.linalg.norm(peak - v) for v in valleys) < 2 * bz_area**0.5 / n
for name in ("01_haldane_ahc.png", "01_haldane_berry_curvature.png"):
    assert (OUT / name).stat().st_size > 0
print("all checks passed")
