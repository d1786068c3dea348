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
# # 4. Importing a Wannier90 Hamiltonian: graphene
#
# Wannier90's `seedname_hr.dat` lists H_R[m, n] = ⟨m, 0|H|n, R⟩ for every lattice vector R
# (each entry divided by its Wigner–Seitz degeneracy), but no lattice vectors: they must come
# from the `.win` file or be given with `lattice=`. We read the graphene p_z Hamiltonian of the
# WannierTools example (`../shared/data/graphene_wanniertools/Graphene_hr.dat` relative to the
# repository root, found by `tbspin.io.shared_data`; `TBSPIN_SHARED_DATA=/path` names another
# data folder; lattice and C positions from that data folder's README / `wt.in`), plot the
# bands along Γ–K–M–Γ, find the Dirac point at K, and write the model back with `write_hr`.
#
# If the data folder is not there (e.g. a bare checkout), the tutorial first writes a small
# graphene model with `write_hr` and reads that file instead, so it always runs.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tbspin  # noqa: E402
from tbspin.bz.kpath import make_kpath  # noqa: E402
from tbspin.io.shared_data import absent_reason, find_shared_data  # noqa: E402
from tbspin.io.wannier90 import read_hr, write_hr  # noqa: E402

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut04_"))
OUT.mkdir(parents=True, exist_ok=True)
print("figures go to", OUT)

# the graphene fit in the shared data folder (TBSPIN_SHARED_DATA overrides the folder: the test
# suite points it to an empty place to exercise the fallback below); None when absent
FIT, FIT_FILE = "graphene_wanniertools", "Graphene_hr.dat"
DATA = find_shared_data(FIT, required=(FIT_FILE,))

# %% [markdown]
# ## Lattice (Å) and the file
#
# From the data README (WannierTools `wt.in`): a₁ = (2.137711, −1.234208, 0),
# a₂ = (0, 2.468416, 0), a₃ = (0, 0, 10); C at reduced (⅓, ⅔, ½) and (⅔, ⅓, ½); the DFT Fermi
# level is E_F = −1.2533 eV.

# %%
lattice = np.array([[2.137711, -1.234208, 0.0], [0.0, 2.468416, 0.0], [0.0, 0.0, 10.0]])
frac = np.array([[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]])
positions = frac @ lattice
E_FERMI_DFT = -1.2533  # eV, WannierTools example (wt.in)

real_data = DATA is not None
if DATA is not None:
    hr_file = DATA / FIT / FIT_FILE
else:
    # fallback: nearest-neighbour graphene (t = −2.8 eV, Castro Neto et al., RMP 81, 109
    # (2009)), on-site at the DFT Fermi level, written in Wannier90 format
    print(f"{absent_reason(FIT, required=(FIT_FILE,))}: writing a nearest-neighbour "
          "graphene _hr.dat instead")
    t = -2.8
    hop = {(0, 0, 0): np.diag([E_FERMI_DFT, E_FERMI_DFT]).astype(complex)}
    # the three B images nearest to A: H_R[A, B] = t and the Hermitian partner H_{-R}[B, A]
    cells = [(i, j, 0) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    dist = [np.linalg.norm(positions[1] + np.array(R) @ lattice - positions[0]) for R in cells]
    for i in np.argsort(dist)[:3]:
        R = cells[i]
        hop.setdefault(R, np.zeros((2, 2), complex))[0, 1] += t
        hop.setdefault(tuple(-x for x in R), np.zeros((2, 2), complex))[1, 0] += t
    fallback = tbspin.LatticeModel(lattice=lattice, positions=positions, hoppings=hop,
                                   name="graphene-nn")
    hr_file = write_hr(fallback, OUT / "graphene_nn_hr.dat", header="tbspin tutorial fallback")

raw = read_hr(hr_file)
print(f"{hr_file}: num_wann = {raw.num_wann}, {len(raw.R)} R vectors, "
      f"degeneracies {sorted(set(raw.ndegen.tolist()))}")
model = tbspin.LatticeModel.from_wannier90(hr_file, lattice=lattice, positions=positions)
print(model)
print("hermiticity violation in the file:", model.metadata.get("hermiticity_violation"), "eV")

# %% [markdown]
# ## Bands along Γ–K–M–Γ
#
# The path comes from ase's special points of the 2D hexagonal lattice spanned by a₁, a₂.

# %%
path = make_kpath(lattice[:2], "GKMG", npoints=301)
bands = np.linalg.eigvalsh(model.hamiltonian(path.k))
iK = int(np.argmin(np.abs(path.x - path.special_x[1])))
kK = path.k[iK]
eK = bands[iK]
print(f"K = {np.round(kK, 5)} Å⁻¹, energies there {np.round(eK, 4)} eV, "
      f"gap {abs(eK[1] - eK[0]) * 1e3:.2f} meV")

# Dirac cone: half the splitting at δ = 0.01 Å⁻¹ from K, averaged over 12 directions → ħ v_F
delta = 0.01
ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
ring = kK + delta * np.column_stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)])
e_ring = np.linalg.eigvalsh(model.hamiltonian(ring))
hbar_vf = float(np.mean(e_ring[:, 1] - e_ring[:, 0]) / (2 * delta))  # eV Å
vf = hbar_vf * tbspin.units.E_CHARGE / tbspin.units.HBAR / tbspin.units.ANGSTROM_PER_M  # m/s
print(f"ħ v_F = {hbar_vf:.2f} eV Å, v_F = {vf:.3e} m/s")

# the whole zone: where is the gap smallest?
n = 60
g = np.arange(n) / n
kred = np.stack(np.meshgrid(g, g, [0.0], indexing="ij"), -1).reshape(-1, 3)
e_mesh = np.linalg.eigvalsh(model.hamiltonian(kred @ model.reciprocal))
kmin_red = kred[np.argmin(e_mesh[:, 1] - e_mesh[:, 0])]
print("smallest gap on a 60×60 mesh at reduced k =", np.round(kmin_red, 4))

fig, ax = plt.subplots(figsize=(5, 4))
ax.plot(path.x, bands - E_FERMI_DFT, "k-")
for xs in path.special_x:
    ax.axvline(xs, color="0.6", lw=0.5)
ax.axhline(0.0, color="tab:red", lw=0.6, ls="--")
ax.set_xticks(path.special_x, path.labels)
ax.set_xlim(path.x[0], path.x[-1])
ax.set_ylabel(r"$E - E_F$ (eV)")
ax.set_title("graphene p$_z$ Wannier bands" if real_data else "graphene (fallback model)")
fig.savefig(OUT / "04_graphene_bands.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## Round trip through `write_hr`
#
# `write_hr` writes every R with weight 1 and 17 significant digits, so reading it back gives
# the same H_R (the file has no lattice: pass `lattice=` and `positions=` again).

# %%
out_hr = write_hr(model, OUT / "graphene_roundtrip_hr.dat")
back = tbspin.LatticeModel.from_wannier90(out_hr, lattice=lattice, positions=positions)
diff = np.abs(back.hamiltonian(path.k) - model.hamiltonian(path.k)).max()
print(f"{out_hr.name}: max |ΔH(k)| along the path = {diff:.1e} eV")

# %% [markdown]
# ## Checks

# %%
# Dirac point at K: graphene's two p_z bands touch at the zone corner (Wallace 1947);
# the Wannier fit breaks C3 slightly, so "touch" means a few meV here
assert abs(eK[1] - eK[0]) < 5e-3
assert path.labels[1] == "K"
# independent search over the whole zone finds the minimum at a corner, K or K' (⅓,⅓)/(⅔,⅔)
# for this 120° basis
assert any(np.allclose(kmin_red[:2], c) for c in ([1 / 3, 1 / 3], [2 / 3, 2 / 3]))
assert np.allclose(np.mod(np.linalg.solve(model.reciprocal[:2, :2].T, kK[:2]), 1.0),
                   kmin_red[:2], atol=1e-6) or np.allclose(
    np.mod(-np.linalg.solve(model.reciprocal[:2, :2].T, kK[:2]), 1.0), kmin_red[:2], atol=1e-6)
# undoped graphene: the Dirac point is the Fermi level of the DFT calculation (wt.in E_F)
assert abs(0.5 * (eK[0] + eK[1]) - E_FERMI_DFT) < 0.05
# Fermi velocity of a DFT (LDA/GGA) band structure: v_F ≈ 0.85e6 m/s (Trevisanutto et al.,
# PRL 101, 226405 (2008)); experiment and GW give ≈ 1.1e6 m/s
if real_data:
    assert 0.75e6 < vf < 0.95e6
else:  # nearest-neighbour model: ħ v_F = (3/2)|t| d_CC exactly (Castro Neto et al. 2009)
    d_cc = np.linalg.norm(lattice[0]) / np.sqrt(3)
    assert abs(hbar_vf - 1.5 * 2.8 * d_cc) < 2e-3 * hbar_vf
# write_hr → read: identical Hamiltonian (17 significant digits)
assert diff < 1e-12
assert (OUT / "04_graphene_bands.png").stat().st_size > 0
print("all checks passed")
