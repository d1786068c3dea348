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
# # 7. Proper spin Hall conductivity of an imported Wannier Hamiltonian (Bi₂Se₃)
#
# The 4-band model of tutorials 3 and the `fig1` reproduction is a k·p caricature. Here we take a
# first-principles tight-binding Hamiltonian instead: the 30-orbital (Bi p + Se p, spinors)
# Wannier90 model of bulk Bi₂Se₃ from the WannierTools examples, stored in
# `../shared/data/bi2se3_wanniertools` next to the repository, found by `tbspin.io.shared_data`
# (`TBSPIN_SHARED_DATA=/path` names another data folder; the script skips with a message when the
# fit is absent). An `_hr.dat` carries no lattice vectors: `from_wannier90` reads them from the
# POSCAR beside it, and the Wannier centres from the `.wout` beside it (the `.tar.gz` archive is
# read as it is).
#
# Mesh: small 6³ and 8³ full-BZ meshes, each evaluated as 8 randomly shifted sub-meshes that
# tile it (the error bar is their spread), to see how much the numbers move. Converged values
# need `tol=` (tutorial 8 runs one on Pt; `docs/materials.md` has this fit's converged
# numbers).

# %%
import os
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tbspin  # noqa: E402
from tbspin.io.shared_data import absent_reason, find_shared_data  # noqa: E402

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut07_"))
OUT.mkdir(parents=True, exist_ok=True)
FIT, FILES = "bi2se3_wanniertools", ("POSCAR", "wannier90_hr.dat.tar.gz", "wannier90.wout")
BASE = find_shared_data(FIT, required=FILES)
if BASE is None:
    print(f"SKIPPED: the Wannier90 {absent_reason(FIT, required=FILES)}.")
    plt.close(plt.figure())
    fig = plt.figure(figsize=(4, 1))
    fig.text(0.5, 0.5, "data absent: tutorial 7 skipped", ha="center")
    fig.savefig(OUT / "07_bi2se3_wannier_shc.png")
    sys.exit(0)
DATA = BASE / FIT
print("data:", DATA, "| figures go to", OUT)

# %% [markdown]
# ## Read the model
#
# Lattice from the POSCAR, spinor order "block" (orbitals 1–15 spin up, 16–30 spin down: the
# data README), centres from the `.wout`: all three found next to the archive.

# %%
model = tbspin.LatticeModel.from_wannier90(DATA / "wannier90_hr.dat.tar.gz", spin_order="block")
print(model)
print("lattice (Å):\n", np.round(model.lattice, 4))
e_gamma = np.linalg.eigvalsh(model.hamiltonian(np.zeros((1, 3))))[0]
EF0 = 4.4195  # eV, the DFT Fermi level (data README), 18 occupied Wannier bands
print("Γ eigenvalues (eV):", np.round(e_gamma[:4], 6), "... band 18/19:", e_gamma[17:19])

# %% [markdown]
# ## σ^y_zx and σ^z_xy versus E_F, proper and conventional
#
# The paper's component is σ^y_zx (spin y, current z, field x). E_F runs through the bulk gap
# around the DFT Fermi level. The time-reversal-invariant model has Kramers-degenerate bands,
# so the proper formula needs a basis inside each pair: tbspin's default (the spin component
# of the observable) is recorded in `result.gauge`.

# %%
efermi = np.linspace(EF0 - 0.6, EF0 + 0.6, 25)
res = {}
with warnings.catch_warnings():  # such small meshes are not converged: the warning says so
    warnings.simplefilter("ignore", tbspin.ConvergenceWarning)
    for n in (6, 8):
        for formula in ("proper", "conventional"):
            res[n, formula] = tbspin.spin_hall(model, efermi=efermi, mesh=n, spin="y",
                                               current="z", efield="x", formula=formula, seed=7)
print("gauge:", res[8, "proper"].gauge)
print(f"{'E_F (eV)':>9s} {'proper 6^3':>12s} {'proper 8^3 ± error':>24s} {'conv. 8^3':>12s}"
      "  [(hbar/2e) S/m]")
for i in range(0, len(efermi), 4):
    p8 = res[8, "proper"]
    print(f"{efermi[i]:9.3f} {res[6, 'proper'].values[i]:12.4g} {p8.values[i]:12.4g} ± "
          f"{p8.errors[i]:<9.2g} {res[8, 'conventional'].values[i]:12.4g}")

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for formula, c in (("proper", "tab:green"), ("conventional", "tab:gray")):
    v8, e8 = res[8, formula].values, res[8, formula].errors
    ax.plot(efermi, v8, color=c, label=f"{formula} (8³; band: ± 2 standard errors)")
    ax.fill_between(efermi, v8 - 2 * e8, v8 + 2 * e8, color=c, alpha=0.3, lw=0)
ax.axvline(EF0, color="k", ls=":", lw=1, label="DFT $E_F$")
ax.set_xlabel("$E_F$ (eV)")
ax.set_ylabel(r"$\sigma^y_{zx}$ $(\hbar/2e)\,\Omega^{-1}$m$^{-1}$")
ax.set_title("Bi$_2$Se$_3$, 30-orbital Wannier model")
ax.legend(fontsize=9)
fig.savefig(OUT / "07_bi2se3_wannier_shc.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# The 6³ and 8³ proper values differ by a factor of about two, and the error bars (the mesh's
# k-points as 8 randomly shifted sub-meshes) say so: meshes this small are a workflow
# demonstration, not a converged number (compare the composite meshes of `tbspin reproduce fig1`
# for the 4-band model, or use the convergence tools). Inside the gap every value is flat in
# E_F, as it must be for a Fermi-sea quantity with no states there.
#
# ## Checks

# %%
# the first Γ eigenvalues quoted by the WannierTools documentation (data README): 1.745678 eV
assert abs(e_gamma[0] - 1.745678) < 1e-4
# E_F = 4.4195 eV lies in the gap above the 18th band at Γ
assert e_gamma[17] < EF0 < e_gamma[18]
# no state in the gap -> the Fermi sea, hence every Fermi-sea conductivity, is the same for all
# E_F inside it (exact for a finite mesh: the energies near EF0 are those of mesh states; the
# 8³ run's k-points are its sub-meshes, recorded with their shifts in extras["sampling"])
samp = res[8, "proper"].extras["sampling"]
k_all = np.vstack([tbspin.make_mesh(model, tuple(n), tuple(u)).cartesian(model)
                   for n, u in zip(samp["sub_meshes"], samp["shifts"], strict=True)])
E_all = np.linalg.eigvalsh(model.hamiltonian(k_all))
lo, hi = E_all[:, 17].max(), E_all[:, 18].min()
inside = (efermi > lo) & (efermi < hi)
assert inside.sum() >= 2
for formula in ("proper", "conventional"):
    v = res[8, formula].values[inside]
    assert np.ptp(v) <= 1e-9 * np.abs(v).max()
print(f"in-gap window on the 8³ mesh: {lo:.3f} .. {hi:.3f} eV; all checks passed")
