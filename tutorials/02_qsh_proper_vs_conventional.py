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
# # 2. Quantum spin Hall: proper vs conventional spin current
#
# The BHZ model of a HgTe quantum well (Bernevig, Hughes & Zhang, Science 314, 1757 (2006)) in
# its inverted regime is two time-reversed Chern insulators, one per Kramers pseudospin
# s_z = ±1. Three spin-Hall formulas are available in tbspin (docs/conventions.md):
#
# * **proper** (conserved) spin current, Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. 2:
#   Σ_m f_m Σ_{n≠m} s_nn Ω_mn (the spin of the *other* band n weights each interband term);
# * **conventional**: Kubo formula with the spin current ½{s_z, v};
# * **s·Ω**: Σ_m f_m s_mm Ω_m (the paper's Eq. 9), a diagnostic.
#
# When s_z is conserved all three are the same number, (C↑ − C↓) e/4π = 4 e/8π in the gap.
# When it is not, they separate — and the proper one, built from band-diagonal spin, depends on
# the basis chosen inside each Kramers pair: physically, on the direction of an infinitesimal
# magnetization m that lifts the degeneracy. tbspin makes that choice explicit with the
# `gauge=` operator and records it in every result.

# %%
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tbspin  # noqa: E402
from tbspin.models import bhz  # noqa: E402

OUT = Path(os.environ.get("TBSPIN_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="tbspin_tut02_"))
OUT.mkdir(parents=True, exist_ok=True)
print("figures go to", OUT)

# %% [markdown]
# ## s_z conserved (Δ = 0)
#
# `bhz(M=-0.05)`: HgTe parameters of König et al. (2008) with a 50 meV inverted mass, so the
# gap is [−50, +50] meV at Γ and the curvature lives within |M|/A ≈ 0.014 Å⁻¹ of Γ: a 60×60
# mesh of the a = 10 Å grid resolves it (step 0.010 Å⁻¹). Every band is doubly degenerate.

# %%
model = bhz(M=-0.05)
mesh = 80
efermi = np.linspace(-0.3, 0.3, 121)
kgrid = tbspin.make_mesh(model, mesh).cartesian(model)
E = np.linalg.eigvalsh(model.hamiltonian(kgrid))
print("max splitting inside the Kramers pairs:", np.abs(E[:, 1] - E[:, 0]).max(), "eV")
gap = (E[:, 1].max(), E[:, 2].min())
print(f"gap: [{gap[0]:.4f}, {gap[1]:.4f}] eV")

formulas = ("proper", "conventional", "smm_omega")
# (errors=False, shift=0.0: the formulas are compared point by point on ONE plain mesh; by
# default the mesh's k-points would be randomly shifted sub-meshes with an error bar)
res0 = {f: tbspin.spin_hall(model, spin="z", current="x", efield="y", efermi=efermi, mesh=mesh,
                            shift=0.0, formula=f, errors=False) for f in formulas}
print("unit:", res0["proper"].unit, "| gauge:", res0["proper"].gauge)
i0 = np.argmin(np.abs(efermi))
for f in formulas:
    print(f"  {f:13s} σ^z_xy(E_F = 0) = {res0[f].values[i0]:.6f} e/8π")
# the two pseudospin blocks separately: Chern numbers of the occupied bands, with s_z = ±1
c_total = tbspin.chern_number(model, bands=2, mesh=mesh)
print(f"total Chern number of the two occupied bands: {c_total:+.2e}")

fig, ax = plt.subplots(figsize=(5, 3.5))
for f, ls in zip(formulas, ("-", "--", ":"), strict=True):
    ax.plot(efermi, res0[f].values, ls, lw=1.5, label=f)
ax.axvspan(*gap, color="0.9", label="gap")
ax.set_xlabel(r"$E_F$ (eV)")
ax.set_ylabel(r"$\sigma^z_{xy}$ ($e/8\pi$)")
ax.set_title(r"BHZ, $M=-50$ meV, $s_z$ conserved")
ax.legend(fontsize="small")
fig.savefig(OUT / "02_bhz_shc_vs_ef.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## The basis inside Kramers pairs
#
# Even with s_z conserved, the proper formula needs s_nn of each band, and inside a degenerate
# pair that depends on the basis. With `gauge="z"` (the default for spin z) the pair is split
# into s_z = ±1 states; with `gauge="x"` into s_x eigenstates, whose s_z expectation is zero —
# so the proper σ^z_xy vanishes. The conventional (Kubo) formula sums over the whole pair and
# does not care. The physical meaning of the gauge: a magnetization m → 0 along that axis. We
# check it with the Kubo method at m = 10 μeV (pairs split by 2|m|, far above the degeneracy
# tolerance 1 μeV, far below every other scale).

# %%
probe = np.array([-0.2, -0.1, 0.0, 0.12])  # valence band, gap, conduction band (off band edges)
kw = dict(spin="z", current="x", efield="y", efermi=probe, mesh=mesh, shift=0.0, errors=False)
gauge_z = tbspin.spin_hall(model, gauge="z", **kw).values
gauge_x = tbspin.spin_hall(model, gauge="x", **kw).values
m_small = 1e-5
kubo_mz = tbspin.spin_hall(model.with_zeeman([0, 0, m_small]), method="kubo", **kw).values
kubo_mx = tbspin.spin_hall(model.with_zeeman([m_small, 0, 0]), method="kubo", **kw).values
conv_mx = tbspin.spin_hall(model.with_zeeman([m_small, 0, 0]), formula="conventional",
                           **kw).values
print("E_F (eV)          ", probe)
print("proper, gauge z   ", np.round(gauge_z, 6))
print("kubo, m ∥ z 10 μeV", np.round(kubo_mz, 6))
print("proper, gauge x   ", np.round(gauge_x, 6))
print("kubo, m ∥ x 10 μeV", np.round(kubo_mx, 6))
print("conventional, m∥x ", np.round(conv_mx, 6))

# %% [markdown]
# ## Spin mixing (Δ ≠ 0)
#
# König et al. (JPSJ 77, 031007 (2008)) add a bulk-inversion-asymmetry term Δ τ_y⊗σ_y that
# mixes the two pseudospin blocks; s_z is no longer conserved. Two things happen:
#
# 1. inversion is broken, so the Kramers pairs split everywhere except at the
#    time-reversal-invariant momenta (Γ, X, Y, M);
# 2. the model keeps the combination of a two-fold rotation about z and time reversal, which
#    maps k → k and s_z → −s_z: every non-degenerate band has ⟨s_z⟩ = 0 exactly.
#
# Hence proper and s·Ω, built from band-diagonal s_z, vanish, while the conventional formula
# (interband ½{s_z, v}) stays near 4 e/8π without being quantized. We use a mesh shifted by half
# a step so that no k-point sits on a TRIM; on an unshifted mesh the one degenerate Γ point
# contributes an artefact of weight 1/N², which we show explicitly.
#
# Degeneracy tolerance: near Γ the splitting grows linearly with k, and the mesh points closest
# to Γ are split by less than tbspin's default `degen_tol` (0.1 meV). Those pairs would be
# treated as degenerate and rotated to s_z eigenstates — a basis choice the model does not
# have there. We pass `degen_tol=1e-6` (eV), below every splitting on the mesh, so every state
# is taken as the non-degenerate eigenstate it is.

# %%
delta = 0.01
mix = bhz(M=-0.05, spin_mixing=delta)
kr = np.random.default_rng(7).uniform(-0.3, 0.3, (200, 2))
Em, Um = np.linalg.eigh(mix.hamiltonian(kr))
sz_diag = np.einsum("kam,ab,kbm->km", Um.conj(), mix.spin("z"), Um).real
split = np.abs(Em[:, 1] - Em[:, 0])
print(f"Δ = {delta} eV: Kramers splitting at random k: min {split.min() * 1e3:.2f} meV; "
      f"max |⟨s_z⟩| = {np.abs(sz_diag).max():.1e}")
Eg = np.linalg.eigvalsh(mix.hamiltonian(np.zeros((1, 2))))[0]
print(f"at Γ: splitting {abs(Eg[1] - Eg[0]):.1e} eV (Kramers theorem)")

tol = dict(degen_tol=1e-6)
res1 = {f: tbspin.spin_hall(mix, spin="z", current="x", efield="y", efermi=efermi, mesh=mesh,
                            shift=0.5, formula=f, errors=False, **tol) for f in formulas}
k_half = tbspin.make_mesh(mix, mesh, shift=0.5).cartesian(mix)
e_half = np.linalg.eigvalsh(mix.hamiltonian(k_half))
min_split = np.abs(e_half[:, 1::2] - e_half[:, 0::2]).min()
print(f"smallest pair splitting on the shifted mesh: {min_split * 1e6:.1f} μeV")
for f in formulas:
    print(f"  {f:13s} σ^z_xy(E_F = 0) = {res1[f].values[i0]:.6f} e/8π")
# conventional: converged with the mesh (80 vs 120)
conv120 = tbspin.spin_hall(mix, efermi=[0.0], mesh=120, shift=0.5, errors=False,
                           formula="conventional", **tol).values[0]
print(f"  conventional at mesh 120: {conv120:.6f} e/8π")
# proper with an in-plane m ∥ x (gauge x): still zero (m_x keeps ⟨s_z⟩ = 0)
kubo_mix_mx = tbspin.spin_hall(mix.with_zeeman([m_small, 0, 0]), efermi=[0.0], mesh=mesh,
                               shift=0.5, errors=False, **tol).values[0]
print(f"  proper, m ∥ x = 10 μeV: {kubo_mix_mx:.2e} e/8π")
# the unshifted mesh puts one degenerate k-point on Γ: its contribution falls as 1/N²
with warnings.catch_warnings():
    warnings.simplefilter("ignore", tbspin.GaugeWarning)
    gamma_art = {n: tbspin.spin_hall(mix, efermi=[0.0], mesh=n, shift=0.0, gauge="z",
                                     errors=False, **tol).values[0]
                 for n in (40, 80)}
print("  unshifted mesh, gauge z (Γ point only):", gamma_art,
      f"ratio {gamma_art[40] / gamma_art[80]:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for f, ls in zip(formulas, ("-", "--", ":"), strict=True):
    axes[0].plot(efermi, res1[f].values, ls, lw=1.5, label=f)
axes[0].set_xlabel(r"$E_F$ (eV)")
axes[0].set_ylabel(r"$\sigma^z_{xy}$ ($e/8\pi$)")
axes[0].set_title(rf"BHZ with $\Delta$ = {delta * 1e3:.0f} meV")
axes[0].legend(fontsize="small")
axes[1].plot(np.linalg.norm(kr, axis=1), split * 1e3, ".", ms=3)
axes[1].set_xlabel(r"$|k|$ (Å$^{-1}$)")
axes[1].set_ylabel("Kramers splitting (meV)")
axes[1].set_title("pairs split away from Γ")
fig.savefig(OUT / "02_bhz_spin_mixing.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## What the small-m limit does at Δ ≠ 0
#
# With m ∥ z the symmetry protecting ⟨s_z⟩ = 0 is gone, and near each TRIM (where the Kramers
# splitting closes, linearly in k) the bands are s_z-polarized within |k| ≲ m/v: the proper
# integrand there is a Berry-curvature "monopole" of finite total weight however small m is.
# The m → 0⁺ limit along z is therefore concentrated at the TRIMs and needs meshes that resolve
# m/v; it is *not* what `gauge="z"` at m = 0 on a finite mesh returns (a single k-point,
# weight 1/N², shown above). Along x the limit is zero. Work at the physical m of your system.

# %% [markdown]
# ## Checks

# %%
# exact result with s_z conserved: |σ^z_xy| = (C↑ − C↓) e/4π = 4 e/8π in the gap, and the
# three formulas coincide at every E_F (docs/conventions.md; BHZ 2006)
in_gap = (efermi > gap[0] + 1e-3) & (efermi < gap[1] - 1e-3)
assert np.allclose(np.abs(res0["proper"].values[in_gap]), 4.0, atol=1e-4)
for f in ("conventional", "smm_omega"):
    assert np.allclose(res0[f].values, res0["proper"].values, atol=1e-8)
# time reversal: the total Chern number of the occupied Kramers pairs is 0
assert abs(c_total) < 1e-6
# Kramers pairs everywhere at Δ = 0 (inversion and time reversal)
assert np.abs(E[:, 1] - E[:, 0]).max() < 1e-10
# the gauge inside the pairs is the direction of an infinitesimal m (PRB 108, 195434):
# independent Kubo calculations with m = 10 μeV reproduce the gauge-fixed m = 0 results
assert np.allclose(gauge_z, kubo_mz, rtol=1e-3, atol=1e-6)
assert np.allclose(gauge_x, kubo_mx, atol=1e-6)
assert abs(gauge_z[2]) > 3.99 and abs(gauge_x[2]) < 1e-9  # the two gauges really differ
# the conventional formula does not see the basis: with m ∥ x it is still 4 e/8π in the gap
assert abs(abs(conv_mx[2]) - 4.0) < 1e-3
assert np.allclose(conv_mx, res0["conventional"].values[np.searchsorted(efermi, probe - 1e-9)], atol=1e-4)
# Δ ≠ 0: Kramers theorem at Γ; splitting elsewhere; C2z·T gives ⟨s_z⟩ = 0 (computed above)
assert abs(Eg[1] - Eg[0]) < 1e-10 and split.min() > 1e-4
assert np.abs(sz_diag).max() < 1e-9
# hence proper = s·Ω = 0 off the TRIMs, while the conventional formula stays finite and is
# no longer quantized (value converged between meshes 80 and 120)
# (with degen_tol below the smallest splitting on the mesh, checked here)
assert min_split > tol["degen_tol"]
assert np.abs(res1["proper"].values).max() < 1e-9
assert np.abs(res1["smm_omega"].values).max() < 1e-9
assert abs(res1["conventional"].values[i0] - conv120) < 1e-4
assert 3.5 < abs(conv120) < 4.5 and abs(abs(conv120) - 4.0) > 1e-3
assert abs(kubo_mix_mx) < 1e-9
# the Γ-point artefact of an unshifted mesh scales as 1/N² (one point of N² carries it)
assert abs(gamma_art[40] / gamma_art[80] - 4.0) < 0.2
for name in ("02_bhz_shc_vs_ef.png", "02_bhz_spin_mixing.png"):
    assert (OUT / name).stat().st_size > 0
print("all checks passed")
