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
# # 6. The 2D hole gas: envelopes, subbands, Rashba splitting and Fig. 2 in small
#
# Section IV of Liu, Cullen & Culcer (PRB 108, 195434) treats holes in a [001] quantum well:
# the 4×4 Luttinger Hamiltonian (J = 3/2) plus a triangular gate potential −eF_z z, projected on
# one heavy-hole (HH) and one light-hole (LH) envelope of the form of their Eq. (12),
# φ(z) ∝ sin[π(z/d + ½)] e^{−β(z/d + ½)}, with β chosen variationally. `tbspin.models.holes2d`
# builds that model (electron picture, square-lattice regularization a = 10 Å) with the
# parameters of the paper's Table I (`parameters="liu2023"`).

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tbspin.models import holes2d, holes2d_info  # noqa: E402
from tbspin.models.holes2d import envelope, rashba_coefficient  # noqa: E402
from tbspin.reproduce._mesh import CompositeMesh  # noqa: E402
from tbspin.reproduce.fig2 import sigma_holes  # noqa: E402

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut06_"))
OUT.mkdir(parents=True, exist_ok=True)
print("figures go to", OUT)
D = 250.0  # Å, the paper's 25 nm well

# %% [markdown]
# ## Envelopes
#
# The gate pushes the holes towards one wall: β grows with F_z, more for the heavier HH
# (γ₁ − 2γ₂ along z) than for the LH (γ₁ + 2γ₂).

# %%
z = np.linspace(-D / 2, D / 2, 400)
fig, ax = plt.subplots(figsize=(6.5, 4))
infos = {}
for F, ls in ((0.0, ":"), (1.0, "-"), (2.0, "--")):
    info = holes2d_info("GaAs", width=D, gate_field=F, parameters="liu2023")
    infos[F] = info
    ax.plot(z / 10, envelope(z, info.beta_hh, D), "tab:blue", ls=ls, label=f"HH, F = {F:g} MV/m")
    ax.plot(z / 10, envelope(z, info.beta_lh, D), "tab:red", ls=ls, label=f"LH, F = {F:g} MV/m")
    print(f"F = {F:g} MV/m: beta_HH = {info.beta_hh:.3f}, beta_LH = {info.beta_lh:.3f}, "
          f"E_HH - E_LH = {info.splitting * 1e3:.2f} meV, <h|l> = {info.overlap_hl:.4f}")
ax.set_xlabel("z (nm)")
ax.set_ylabel(r"$\phi(z)$ (Å$^{-1/2}$)")
ax.legend(fontsize=8)
fig.savefig(OUT / "06_envelopes.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Subbands and the Rashba splitting
#
# In the asymmetric well the HH–LH coupling ⟨φ_h|k̂_z|φ_l⟩ splits the HH doublet away from k = 0
# by the cubic Rashba term, ΔE = 2β₃k³ (Winkler 2003). `rashba_coefficient` extracts β₃ from
# the subband splitting; its gate dependence (up, then slowly down) is the one the paper uses
# to explain Fig. 2b.

# %%
k = np.linspace(0, 0.03, 61)
model = holes2d("GaAs", width=D, gate_field=2.0, parameters="liu2023")
bands = np.linalg.eigvalsh(model.hamiltonian(np.column_stack([k, 0 * k])))
fields = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 6.0])
beta3 = np.array([rashba_coefficient("GaAs", width=D, gate_field=F, parameters="liu2023")
                  for F in fields])
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
ax.plot(k, bands * 1e3, "k")
ax.set_xlabel(r"$k_x$ (Å$^{-1}$)")
ax.set_ylabel("E (meV, electron picture)")
ax.set_title("GaAs, 25 nm, F = 2 MV/m")
bx.plot(fields, beta3, "o-")
bx.set_xlabel("$F_z$ (MV/m)")
bx.set_ylabel(r"$\beta_3$ (eV Å$^3$)")
fig.tight_layout()
fig.savefig(OUT / "06_subbands_rashba.png", dpi=120, bbox_inches="tight")
plt.close(fig)
print("beta_3 (eV A^3):", np.round(beta3, 1))

# %% [markdown]
# ## Fig. 2 in small
#
# σ^z_yx (proper, spin z = 2J_z in units of ħ/2, current y, field x) with m_z = 1 meV, E_F the
# hole Fermi energy measured from the HH1 edge. A small Γ-refined mesh (the `fig2a`/`fig2b`
# reproductions use finer ones and report their mesh spread).

# %%
mesh = CompositeMesh.make(24, (0.31, 0.17), 0.15, 4, 2)
ef = np.array([0.002, 0.005, 0.010, 0.015, 0.020])
fig2a = {F: sigma_holes("GaAs", F, ef, mesh) for F in (1.0, 2.0)}
fig2b_fields = np.array([0.1, 1.0, 4.0])
fig2b = np.array([sigma_holes("GaAs", F, [0.015], mesh)[0] for F in fig2b_fields])
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
for F, v in fig2a.items():
    ax.plot(ef * 1e3, v, "o-", label=f"F = {F:g} MV/m")
ax.set_xlabel("$E_F$ from the HH1 edge (meV)")
ax.set_ylabel(r"$\sigma^z_{yx}$ ($e/8\pi$)")
ax.legend()
bx.plot(fig2b_fields, fig2b, "o-")
bx.set_xlabel("$F_z$ (MV/m)")
bx.set_ylabel(r"$\sigma^z_{yx}$ ($e/8\pi$), GaAs, $E_F$ = 15 meV")
fig.tight_layout()
fig.savefig(OUT / "06_fig2_small.png", dpi=120, bbox_inches="tight")
plt.close(fig)
print("fig 2a:", {F: np.round(v, 3) for F, v in fig2a.items()})
print("fig 2b (GaAs):", np.round(fig2b, 3))

# %% [markdown]
# ## Checks

# %%
# symmetric well (F = 0): β = 0, the infinite-well ground state, and no Rashba splitting
assert infos[0.0].beta_hh == 0.0 and abs(beta3[0]) < 1e-6
# β grows with the field, faster for HH (heavier along z), as the variational principle says
assert 0 < infos[1.0].beta_lh < infos[1.0].beta_hh < infos[2.0].beta_hh
# Table I parameters: in-plane HH mass m0/(γ1 + γ2) = 1/(6.85 + 2.10) (Luttinger 1956)
assert abs(infos[1.0].mass_hh - 1 / (6.85 + 2.10)) < 1e-12
# β3 rises from zero, then decreases (Liu, Marcellina, Hamilton & Culcer, PRL 121, 087701)
i = int(np.argmax(beta3))
assert 0 < i < len(beta3) - 1 and beta3[-1] < beta3[i]
# the paper's trends: |σ| grows with E_F (Fig. 2a) and is non-monotonic in F_z (Fig. 2b)
for v in fig2a.values():
    assert abs(v[-1]) > abs(v[0])
assert abs(fig2b[1]) > abs(fig2b[0]) and abs(fig2b[1]) > abs(fig2b[2])
print("all checks passed")
