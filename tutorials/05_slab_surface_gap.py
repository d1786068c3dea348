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
# # 5. Bi₂Se₃ slab: the surface Dirac cone and the magnetic gap
#
# A strong topological insulator has a Dirac cone on every surface. An exchange field m·s
# (magnetic doping or proximity) enters the surface Dirac Hamiltonian
# H = E_D + ħv (k × σ)_z + m·σ as follows: m_z is a Dirac mass and opens a gap 2|m_z|, while an
# in-plane m only shifts the cone in k by |m|/ħv and leaves it gapless (e.g. Yu et al.,
# Science 329, 61 (2010); the magnetized surface of Liu, Cullen & Culcer, PRB 108, 195434).
#
# We build the bulk with `kwant.continuum` (the regularized Bi₂Se₃ k·p model of
# `tbspin.models.bi2se3_kp`), let Kwant fill a slab of N = 30 cells along z (c = 3 Å, 9 nm), and
# check all three statements.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tbspin.cli.plotting import plot_gap_vs_magnetization, plot_slab_bands  # noqa: E402
from tbspin.models import BI2SE3_PARAMETERS, bi2se3, bi2se3_kp  # noqa: E402
from tbspin.slab import (  # noqa: E402
    exchange_on_layers,
    find_dirac_point,
    gap_vs_magnetization,
    kwant_bands,
    make_slab,
    surface_gap,
)

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut05_"))
OUT.mkdir(parents=True, exist_ok=True)
print("figures go to", OUT)

# %% [markdown]
# ## The slab
#
# `bi2se3_kp().kwant_builder()` is a `kwant.continuum` template with full 3D translational
# symmetry; `make_slab` cuts it to 30 cells along lattice vector 2 (z) with Kwant's `fill` and
# also keeps a batched numpy form of the same slab for fast spectra. Spin operators (τ₀⊗σ) are
# attached per bulk cell.

# %%
N = 30
kp = bi2se3_kp()
bulk = kp.kwant_builder()
spin = {k: v for k, v in bi2se3().operators.items() if k in ("sx", "sy", "sz")}
slab = make_slab(bulk, direction=2, n_layers=N, operators=spin)
print(slab.model)

# Kwant's own band solver (wraparound + kwant.physics.Bands) vs the batched numpy form
a = kp.spacing[0]
q = np.linspace(0.0, 0.2, 5)  # phase per in-plane period along x
e_kwant = kwant_bands(slab, q)
e_numpy = np.linalg.eigvalsh(slab.hamiltonian(np.column_stack([q / a, 0 * q, 0 * q])))
print(f"Kwant Bands vs numpy form: max difference {np.abs(e_kwant - e_numpy).max():.1e} eV")

g0 = surface_gap(slab)
print(f"m = 0: Dirac point E_D = {g0.dirac_energy:.4f} eV, hybridization gap "
      f"{g0.gap * 1e3:.3f} meV, surface weights {np.round(g0.weights.sum(axis=1), 3)}, "
      f"bulk edges {np.round(g0.bulk_edges, 4)} eV")

# %% [markdown]
# ## Surface Dirac cone
#
# Bands along M–Γ–X of the surface zone, coloured by weight on the two outer layers of each
# surface (red top, blue bottom). The cone sits inside the bulk gap.

# %%
path = slab.kpath("MGX", npoints=160)
fig = plot_slab_bands(slab, path, n_surface_layers=2, energy_window=(-0.45, 0.65))
fig.savefig(OUT / "05_slab_bands.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Gap versus m_z, and an in-plane m
#
# m on every layer, gap at Γ between the two surface states nearest the neutrality level.
# The hybridization of the two surfaces (a fraction of a meV at 9 nm) is a competing mass, so
# the line is gap = 2|m_z| − Δ_hyb once 2|m_z| > Δ_hyb.

# %%
mz = np.array([0.002, 0.004, 0.006, 0.008, 0.010])
sweep = gap_vs_magnetization(bulk, mz, direction=2, n_layers=N,
                             spin=[spin["sx"], spin["sy"], spin["sz"]])
print("m_z (meV):", mz * 1e3)
print("gap (meV):", np.round(sweep.gaps * 1e3, 4))
print(f"fit: slope {sweep.slope:.5f}, intercept {sweep.intercept * 1e3:.4f} meV, "
      f"residual {sweep.residual:.1e} eV")

# in-plane m ∥ x on every layer: follow the top-surface cone through k-space
inplane = {}
for mx in (0.01, 0.02):
    s = slab.with_layer_onsite(exchange_on_layers([spin["sx"], spin["sy"], spin["sz"]],
                                                  [mx, 0.0, 0.0]))
    inplane[mx] = find_dirac_point(s, surface="top", search_radius=0.01, xtol=1e-6)
    print(f"m_x = {mx * 1e3:.0f} meV: top-surface gap {inplane[mx].gap:.1e} eV at "
          f"k = {np.round(inplane[mx].k, 5)} Å⁻¹")
# the cone velocity at m = 0 from the top-surface splitting at |k| = 0.01 Å⁻¹
kv = 0.01
hv = surface_gap(slab, [kv, 0, 0], surface="both", n_surface_layers=3, min_weight=0.3).gap / (2 * kv)
print(f"ħv of the surface cone: {hv:.3f} eV Å; |m|/ħv for m = 10 meV: {0.01 / hv:.5f} Å⁻¹")

fig = plot_gap_vs_magnetization({"m ∥ z": sweep})
ax = fig.axes[0]
ax.plot([mx * 1e3 for mx in inplane], [inplane[mx].gap * 1e3 for mx in inplane], "s",
        label="m ∥ x (cone followed)")
ax.plot(mz * 1e3, 2 * mz * 1e3, "k:", lw=0.8, label="2|m|")
ax.legend(fontsize="small")
fig.savefig(OUT / "05_gap_vs_m.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
par = BI2SE3_PARAMETERS["liu2010"]
# the two forms of the slab are the same Hamiltonian (Kwant's solver, independent of tbspin)
assert np.abs(e_kwant - e_numpy).max() < 1e-9
# Dirac point of the surface state of this model: E_D = C0 − C1·M0/M1 (Shan, Lu & Shen,
# New J. Phys. 12, 043048 (2010), for ε = C0 + C1 k_z², 𝓜 = M0 + M1 k_z² along the normal);
# it lies inside the bulk gap, and the 9 nm slab leaves a sub-meV hybridization gap
assert abs(g0.dirac_energy - (par["C0"] - par["C1"] * par["M0"] / par["M1"])) < 2e-3
assert g0.in_bulk_gap and g0.gap < 1e-3
# m_z is a Dirac mass: gap linear in m_z with slope 2 (surface Dirac model above)
assert abs(sweep.slope - 2.0) < 1e-2 and sweep.residual < 1e-6
assert abs(sweep.intercept) <= g0.gap + 1e-6
# in-plane m: no gap (far below the 2|m| an m_z of the same size opens) ...
for mx, r in inplane.items():
    assert r.gap < 1e-3 * 2 * mx
# ... and the cone moves perpendicular to m, linearly in |m|
ky = np.array([inplane[mx].k[1] for mx in inplane])
assert abs(inplane[0.01].k[0]) < 1e-4 and abs(ky[1] / ky[0] - 2.0) < 2e-2
# surface velocity of this model: ħv = A0·sqrt(1 − (C1/M1)²) (Shan, Lu & Shen 2010)
assert abs(hv - par["A0"] * np.sqrt(1 - (par["C1"] / par["M1"]) ** 2)) < 1e-2 * hv
# shift = |m|·p/ħv with p ≤ 1 the in-plane spin polarization of the surface state
# (measured p ≈ 0.84 here, i.e. ≈ C1/M1 for this model)
assert 0.3 * 0.01 / hv < abs(ky[0]) < 1.05 * 0.01 / hv
for name in ("05_slab_bands.png", "05_gap_vs_m.png"):
    assert (OUT / name).stat().st_size > 0
print("all checks passed")
