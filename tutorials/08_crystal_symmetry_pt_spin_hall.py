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
# # 8. A real crystal: Pt's spin Hall tensor with its space group
#
# Tutorial 7 integrated an imported Wannier Hamiltonian component by component over the full
# Brillouin zone. For a crystal, symmetry does three jobs at once, and this tutorial walks
# through them on fcc Pt (the 18-function WannierTools fit in `../shared/data/pt_wanniertools`,
# found by `tbspin.io.shared_data`; `TBSPIN_SHARED_DATA=/path` names another data folder, and
# the script skips with a message when the fit is absent):
#
# 1. **What the fit breaks.** A Wannier fit is only approximately symmetric. `tbspin.crystal`
#    reads the structure from the `.win` beside the `_hr.dat`, finds the space group with spglib
#    and measures, per operation, how far H_R breaks it.
# 2. **Restoring it.** `tbspin.crystal.symmetrize` averages H_R over the group (orbital
#    representations from the `.win` projections, SU(2) spinor rotations, time reversal). The
#    report says what moved.
# 3. **Using it.** The point group fixes the shape of σ^l_ij (cubic: one number), and
#    `symmetry=group` integrates over the irreducible wedge only and rebuilds the whole tensor.
#
# Then the physics: the conventional and the proper (Liu, Cullen & Culcer) σ^z_xy of Pt.

# %%
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tbspin  # noqa: E402
from tbspin.crystal import (  # noqa: E402
    space_group,
    spin_hall_shape,
    structure_of,
    symmetrize,
    symmetry_breaking,
)
from tbspin.io.shared_data import absent_reason, find_shared_data  # noqa: E402

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut08_"))
OUT.mkdir(parents=True, exist_ok=True)
FIT, FILES = "pt_wanniertools", ("wannier90_hr.dat.tar.gz", "wannier90.win")
BASE = find_shared_data(FIT, required=FILES)
if BASE is None:
    print(f"SKIPPED: the Wannier90 {absent_reason(FIT, required=FILES)}.")
    fig = plt.figure(figsize=(4, 1))
    fig.text(0.5, 0.5, "data absent: tutorial 8 skipped", ha="center")
    fig.savefig(OUT / "08_pt_spin_hall.png")
    sys.exit(0)
DATA = BASE / FIT
print("data:", DATA, "| figures go to", OUT)
UNIT = "(hbar/e) S/cm"  # the unit of the spin Hall literature on metals


def first(values: np.ndarray) -> float:
    """The first E_F's value of a one-component result (1D for a single component, 2D for a
    component list or a wedge run)."""
    return float(np.ravel(values)[0])


EF = 11.3158  # eV, the DFT Fermi level of this fit (data README)

# %% [markdown]
# ## The fit, its structure and its space group
#
# The `.win` next to the `_hr.dat` gives the lattice, the atom (one Pt at the origin) and the
# projections (s, p, d: 9 functions per spin, 18 in all, "block" spin order).

# %%
model = tbspin.LatticeModel.from_wannier90(DATA / "wannier90_hr.dat.tar.gz", spin_order="block")
structure = structure_of(model)
group = space_group(structure)
print(model)
print(structure)
print(group, "|", group.order, "elements with time reversal")

# %% [markdown]
# ## What the fit breaks
#
# For every operation g: max |H_R − D(g) H_{g⁻¹R} D(g)†| over the hoppings (meV), and the
# splitting of the Kramers pairs time reversal and inversion together would make exactly
# degenerate.

# %%
breaking = symmetry_breaking(model, group, n_k=5)
worst = breaking.worst()
print(f"worst operation {worst.name}: max {worst.max_mev:.1f} meV; Kramers pairs split by up "
      f"to {breaking.kramers_splitting_mev:.1f} meV")

# %% [markdown]
# The fit splits Kramers pairs by ~150 meV: as large as the spin–orbit splittings that
# drive the spin Hall effect. Averaging over the 96 elements restores the symmetry; the report
# says how much the bands moved.

# %%
t0 = time.perf_counter()
pt, report = symmetrize(model, group)
print(report)
print(f"({time.perf_counter() - t0:.1f} s)")

# %% [markdown]
# ## The shape of the tensor
#
# σ^l_ij (spin l axial, current i and field j polar, even under time reversal) in the point
# group m-3m: one independent number, σ^l_ij = σ ε_lij.

# %%
shape = spin_hall_shape(group)
print(shape)

# %% [markdown]
# ## The whole tensor: full mesh against the irreducible wedge
#
# A plain 12³ mesh (`errors=False`: no error bar, to compare the same k-points) over the full
# zone, then the same mesh reduced to its irreducible k-points with weights, and the tensor
# rebuilt with the point group.

# %%
kw = dict(spin="all", current="all", efield="all", efermi=EF, formula="conventional")
t0 = time.perf_counter()
full = tbspin.spin_hall(pt, mesh=12, errors=False, **kw)
t_full = time.perf_counter() - t0
t0 = time.perf_counter()
wedge = tbspin.spin_hall(pt, mesh=12, errors=False, symmetry=group, **kw)
t_wedge = time.perf_counter() - t0
T_full, T_wedge = full.tensor()[0], wedge.tensor()[0]
print(f"full mesh {t_full:.2f} s, wedge {t_wedge:.2f} s; largest difference "
      f"{np.abs(T_full - T_wedge).max() / np.abs(T_full).max():.1e} (relative)")
print("σ^z_xy on 12³:", full.to(UNIT)[0, [tuple(c) for c in full.components].index((2, 0, 1))].round(1), UNIT)

# %% [markdown]
# ## Converging the conventional value
#
# The wedge makes dense meshes cheap. Guo, Murakami, Chen & Nagaosa (PRL 100, 096401 (2008))
# computed σ^z_xy ≈ 2200 (ħ/e) S/cm for Pt at its Fermi level. Each mesh is evaluated at 41
# Fermi energies over ±0.5 eV at once (one diagonalization per k-point serves them all); the
# middle one is the DFT E_F, and the 48³ curve goes into the figure below.

# %%
efermi = EF + np.linspace(-0.5, 0.5, 41)
conv, curves = {}, {}
for n in (24, 36, 48):
    r = tbspin.spin_hall(pt, spin="z", current="x", efield="y", efermi=efermi, mesh=n,
                         formula="conventional", symmetry=group)
    curves[n] = np.asarray(r.to(UNIT)).reshape(len(efermi), -1)[:, 0]
    conv[n] = float(curves[n][len(efermi) // 2])
    print(f"{n}³ wedge: σ^z_xy = {conv[n]:8.1f} {UNIT} ({conv[n] / 2200 - 1:+.1%} from 2200)")

# %% [markdown]
# ## The proper spin Hall conductivity
#
# The proper (conserved) current weights each pair of bands by the spin s_nn of one of them.
# In a symmetrized Pt every band is a Kramers pair, so the formula needs a basis inside each
# pair: tbspin's default is the measured spin component (s_z here; `result.gauge` says so).
# Where two occupied pairs nearly touch, the integrand spikes (~1/Δε²): a 16³ mesh's error bar
# (its k-points as 8 shifted sub-meshes) shows how far one mesh is from a number.

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", tbspin.ConvergenceWarning)  # this is the point shown
    small = tbspin.spin_hall(pt, spin="z", current="x", efield="y", efermi=EF, mesh=16,
                             formula="proper", seed=1)
print(f"16³: {first(small.to(UNIT)):.0f} ± {first(small.errors_to(UNIT)):.0f} {UNIT}; "
      f"gauge: {small.gauge}")

# %% [markdown]
# `tol=` samples randomly shifted meshes until the standard error is below the tolerance and
# then checks the stop on new shifts; `symmetry=group` averages every sample over its star.
# 10 % takes a few hundred thousand k-points here (the materials table's 2 % run: ~3 M).

# %%
t0 = time.perf_counter()
proper = tbspin.spin_hall(pt, spin="z", current="x", efield="y", efermi=EF, mesh=12,
                          formula="proper", tol=0.1, seed=1, symmetry=group)
samp = proper.extras["sampling"]
p_val, p_err = first(proper.to(UNIT)), first(proper.errors_to(UNIT))
print(f"proper σ^z_xy = {p_val:.0f} ± {p_err:.0f} {UNIT} ({samp['n_k']:,} k-points, "
      f"{time.perf_counter() - t0:.0f} s, converged {samp['converged']}, "
      f"confirmed {samp['confirmed']})")
print(f"proper / conventional (48³) = {p_val / conv[48]:.3f} ± {p_err / conv[48]:.3f}")

# %% [markdown]
# The proper current is about 0.3 of the conventional one, with the same sign: most of Pt's
# conventional spin current is the non-conserved part (the torque dipole of Shi, Zhang, Xiao &
# Niu, PRL 96, 076604 (2006)). `docs/materials.md` has the converged numbers (2 %) and curves.

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.plot(efermi - EF, curves[48], color="tab:gray", label="conventional (wedge, 48³)")
ax.errorbar([0.0], [p_val], yerr=[2 * p_err], fmt="o", color="tab:green",
            label="proper, tol = 10 % (± 2 errors)")
ax.plot([0.0], [2200], "kx", label="Guo et al. 2008 (conventional)")
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("$E_F - E_F^{DFT}$ (eV)")
ax.set_ylabel(r"$\sigma^z_{xy}$ $(\hbar/e)$ S/cm")
ax.set_title("Pt, symmetrized Wannier fit (Fm-3m + T)")
ax.legend(fontsize=9)
fig.savefig(OUT / "08_pt_spin_hall.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
# fcc Pt: space group Fm-3m (No. 225), 48 operations, 96 with time reversal (spglib)
assert group.number == 225 and group.order == 96
# the raw fit breaks the symmetry by more than round-off; the average restores it exactly
assert breaking.kramers_splitting_mev > 1.0 and report.kramers_after < 1e-9
assert report.commutation_after < 1e-10
# cubic shape (the published tables of the m-3m point group, e.g. Seemann et al., PRB 92,
# 155138 (2015)): one free number, σ^l_ij = σ ε_lij
eps = np.zeros((3, 3, 3))
for (a, b, c), s in (((0, 1, 2), 1), ((1, 2, 0), 1), ((2, 0, 1), 1),
                     ((0, 2, 1), -1), ((2, 1, 0), -1), ((1, 0, 2), -1)):
    eps[a, b, c] = s
assert shape.n_independent == 1 and np.array_equal(~shape.zero, eps != 0)
# the computed tensor has that shape to round-off, full mesh and wedge alike
scale = np.abs(T_full).max()
assert np.abs(T_full - T_full[2, 0, 1] * eps).max() < 1e-10 * scale
# the wedge is an exact rewriting of the full-mesh sum (same k-points, weights by star)
assert np.abs(T_full - T_wedge).max() < 1e-10 * scale
# conventional σ^z_xy within 5 % of Guo et al.'s 2200 (ħ/e) S/cm on 48³ (the mesh series to
# 160³ in benchmarks/README.md settles at 2246-2249)
assert abs(conv[48] / 2200 - 1) < 0.05
# the proper run met its tolerance, confirmed on new shifts, and agrees within 4 errors with
# the converged 651.6 ± 9.1 (ħ/e) S/cm of the materials table (tol = 2 %, docs/materials.md)
assert samp["converged"] and samp["confirmed"] and p_err <= 0.1 * abs(p_val)
assert abs(p_val - 651.6) <= 4 * np.hypot(p_err, 9.1)
# smaller than the conventional value, same sign
assert p_val - 4 * p_err > 0 and p_val + 4 * p_err < conv[48]
print("all checks passed")
