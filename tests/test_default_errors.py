"""Issue 27: every Brillouin-zone number comes with an error bar by default.

Without ``tol`` the k-points of the requested mesh are evaluated as M randomly shifted
sub-meshes (tbspin.sampling.submesh); value ± error is their mean ± Student-t standard error and
a ConvergenceWarning says when the estimate is not converged. ``errors=False`` is the plain mesh
of before, bit for bit.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from real_fits import HR_ARCHIVE, data_folder
from scipy.stats import t as student_t

import tbspin
from tbspin import units
from tbspin.bz.kmesh import Mesh, make_mesh
from tbspin.engine.integrate import Plan, default_chunk_size, integrate
from tbspin.errors import ConvergenceWarning, ParameterError
from tbspin.models import bhz, cubic_ti, haldane
from tbspin.observables import berry_curvature_kernel
from tbspin.results.conductivity import ConductivityResult
from tbspin.sampling.submesh import (
    MAX_SUB,
    MIN_SUB,
    OUTLIER_ALPHA,
    draw_shifts,
    split_mesh,
    submesh_integral,
    unconverged,
)

SHC_2D = units.conversion_factor("shc", 2)[0]  # raw → e/8π
LAT_BI2SE3 = np.array([[-2.069, -3.583614, 0], [2.069, -3.583614, 0], [0, 2.389075, 9.546667]])


def _quiet(call, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return call(**kw)


# ---------------------------------------------------------------------- the split rule
def _meshes() -> list[tuple[int, ...]]:
    """Odd, even, prime, tiny, anisotropic meshes in 1D, 2D, 3D, with flat (n_i = 1) axes."""
    out: list[tuple[int, ...]] = [(n,) for n in range(2, 70)]
    out += [(a, b) for a in (1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 31, 64, 127, 128, 240)
            for b in (1, 2, 3, 5, 7, 11, 12, 24, 37, 50)]
    out += [(a, b, c) for a in (1, 2, 3, 5, 6, 7, 13) for b in (1, 2, 4, 9, 11)
            for c in (1, 2, 3, 10, 21, 31)]
    out += [(n,) * 3 for n in range(2, 42)]
    return [n for n in out if math.prod(n) >= 2]


def test_sub_meshes_tile_the_mesh_exactly() -> None:
    """Property test over ~1400 meshes: the member sizes add up to exactly the plain mesh's
    k-points (the same cost), each direction is split into parts of ⌊n_i/k_i⌋ or ⌈n_i/k_i⌉
    that sum to n_i, the members are every combination of one part per direction (at most 2^p
    distinct sizes), flat directions stay one point, M is in [MIN_SUB, MAX_SUB] once there are
    MIN_SUB points (else one member per point), and the split is as even as the mesh allows:
    the same k on every wide direction whenever each is at least that k (2 in 3D, 3 in 2D, 8
    in 1D)."""
    for n in _meshes():
        sp = split_mesh(n)
        assert sum(math.prod(s) for s in sp.sizes) == math.prod(n) == sp.n_k, n
        assert len(sp.sizes) == sp.n_sub == math.prod(len(p) for p in sp.parts)
        assert len(set(sp.sizes)) <= 2 ** len(n)
        for x, part in zip(n, sp.parts, strict=True):
            k = len(part)
            assert sum(part) == x and set(part) <= {x // k, -(-x // k)}, (n, sp.parts)
            assert min(part) >= 1 and (x > 1 or part == (1,))
        assert sorted(sp.sizes) == sorted(itertools.product(*sp.parts))
        wide = [x for x in n if x > 1]
        ks = [len(p) for x, p in zip(n, sp.parts, strict=True) if x > 1]
        if math.prod(n) < MIN_SUB:
            assert sp.n_sub == math.prod(n) and set(sp.sizes) == {(1,) * len(n)}
            continue
        assert MIN_SUB <= sp.n_sub <= MAX_SUB, n
        even_k = {1: 8, 2: 3, 3: 2}[len(wide)]
        if min(wide) >= even_k:
            assert ks == [even_k] * len(wide), (n, sp.parts)
    assert split_mesh((20, 20, 20)).sizes == ((10, 10, 10),) * 8  # even 3D: 8 of (n/2)³
    pt = split_mesh((21, 21, 21))
    assert pt.parts == ((10, 11),) * 3 and pt.label() == "(10+11)x(10+11)x(10+11)"
    assert split_mesh((12, 12)).label() == "4x4" and split_mesh((40, 40, 1)).label() == \
        "(13+13+14)x(13+13+14)x1"
    with pytest.raises(ParameterError, match="errors=False"):
        split_mesh((1,))
    with pytest.raises(ParameterError, match="≥ 1"):
        split_mesh((4, 0))


class _TrigKernel:
    """X(κ) = Σ_c a_c cos(2π c·κ + φ_c) on one band far below E_F (a trigonometric polynomial
    in reduced coordinates κ): its zone integral is a_0 (the constant term) / V_cell."""

    def __init__(self, model: tbspin.LatticeModel, freqs, amps, phases) -> None:
        self.recip_to_red = model.lattice[list(model.periodic)].T / (2 * np.pi)
        self.freqs, self.amps, self.phases = (np.asarray(x, float) for x in (freqs, amps, phases))

    def __call__(self, k):
        kap = k @ self.recip_to_red
        X = np.cos(2 * np.pi * kap @ self.freqs.T + self.phases) @ self.amps
        return np.full((len(k), 1), -10.0), X[:, None]


def test_every_member_is_a_full_zone_grid_and_an_unbiased_estimate() -> None:
    """Exact integrals of trigonometric polynomials, through the family engine run of the
    default error bar (9 members of 2 or 3 points per direction for a 7² mesh, 9 members of
    (2|3)×3×1 for an 8·9·1 mesh of a 3D model). (i) Frequencies below every member's
    resolution (|c_i| < s_i): each member total is the exact integral for any shift (a member
    that covered part of the zone, or had unequal weights, would not be). (ii) Frequencies at
    the members' resolution (c_i = s_i: aliased onto the constant by a grid of s_i points):
    a member total depends on its shift, and averaged over 600 seeds it is the exact integral
    within 4 standard errors of that average, member by member (an unshifted member would be
    off by the full amplitude, 25 standard errors)."""
    for model, n, c in ((haldane(), (7, 7), 3), (cubic_ti(), (8, 9, 1), 4)):
        sp = split_mesh(n)
        p = len(n)
        ef = np.array([0.0])
        exact = 0.7 / model.cell_measure
        fine = np.eye(p)[[i for i, part in enumerate(sp.parts) if min(part) > 1]]
        low = _TrigKernel(model, np.vstack([np.zeros(p), fine, fine.sum(0)]),
                          [0.7, 1.3, -0.4, 0.9][:len(fine) + 2], np.arange(len(fine) + 2) * 0.3)
        r = submesh_integral(model, low, n, ef, 0.0, seed=5, chunk_size=7, progress=False)
        np.testing.assert_allclose(r.samples[:, 0], exact, rtol=1e-12)
        hi_freq = np.zeros((2, p))
        hi_freq[0, 0], hi_freq[1, 1] = 2, c  # aliased by parts of 2 (and of c) points
        high = _TrigKernel(model, np.vstack([np.zeros(p), hi_freq]), [0.7, 1.0, 1.0], [0, 0.4, 1.1])
        runs = np.array([submesh_integral(model, high, n, ef, 0.0, seed=s, chunk_size=50,
                                          progress=False).samples[:, 0] for s in range(600)])
        spread = runs.std(axis=0, ddof=1)
        aliased = spread > 1e-9 * abs(exact)
        assert aliased.any() and not aliased.all()  # the aliased members vary with the shift
        err = np.abs(runs.mean(axis=0) - exact)
        assert (err <= 4 * spread / np.sqrt(len(runs)) + 1e-12 * abs(exact)).all(), err / spread


# ---------------------------------------------------------------------- what the default is
@pytest.mark.parametrize("n, label", [(12, "4x4"), (13, "(4+4+5)x(4+4+5)")])
def test_default_is_the_mean_of_shifted_sub_meshes_with_student_errors(n: int, label: str
                                                                       ) -> None:
    """Recomputed independently: M uniform meshes with the recorded sizes and shifts through
    the engine, their equal-weight mean and t_{0.975, M−1}/z_{0.975} · s/√M (scipy's
    quantiles); for 13² the nine members have three sizes and all 169 k-points."""
    h = haldane(t2=0.1, phi=np.pi / 2)
    r = _quiet(tbspin.anomalous_hall, model=h, efermi=[0.0, -1.5], mesh=n, seed=7,
               progress=False)
    samp = r.extras["sampling"]
    sp = split_mesh((n, n))
    m = sp.n_sub
    assert (samp["n_sub"], samp["sub_mesh"], samp["seed"]) == (m, label, 7)
    assert [tuple(x) for x in samp["sub_meshes"]] == list(sp.sizes)
    assert samp["n_k"] == n * n and samp["seed_given"] == 7
    assert ("every combination" in r.extras["errors"]) is ("(" in label)
    kern = berry_curvature_kernel(h, component="xy")
    shifts = draw_shifts(7, m, 2)
    np.testing.assert_array_equal(shifts, samp["shifts"])
    rows = []
    for s, u in zip(sp.sizes, shifts, strict=True):
        mesh = Mesh(n=s, shift=tuple(u))
        plan = Plan(mesh=mesh, chunk_size=default_chunk_size(h, "kubo", mesh=mesh),
                    efermi=np.array([0.0, -1.5]), temperature=0.0)
        rows.append(integrate(h, kern, plan, progress=False)[0])
    rows = np.array(rows)
    t = student_t.ppf(0.975, m - 1) / student_t.ppf(0.975, 1e9)
    np.testing.assert_allclose(r.raw, rows.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(r.raw_errors, t * rows.std(axis=0, ddof=1) / np.sqrt(m), rtol=1e-10)
    assert "sub-meshes" in r.extras["errors"] and "error (1 sigma)" in r.table()


def test_errors_false_is_the_plain_mesh_bit_for_bit() -> None:
    """errors=False: the Γ-centred (or shifted) mesh through the engine, no error bar, and the
    result says so; a recorded seed reruns the default bit for bit, whatever the workers."""
    h = haldane(t2=0.1, phi=np.pi / 2)
    r = tbspin.anomalous_hall(h, efermi=0.0, mesh=10, shift=0.25, errors=False, progress=False)
    mesh = make_mesh(h, 10, 0.25)
    plan = Plan(mesh=mesh, chunk_size=default_chunk_size(h, "kubo", mesh=mesh),
                efermi=np.array([0.0]), temperature=0.0)
    raw, _ = integrate(h, berry_curvature_kernel(h, component="xy"), plan, progress=False)
    np.testing.assert_array_equal(r.raw, raw)
    assert r.raw_errors is None and r.errors is None
    assert "errors=False" in r.extras["errors"] and "# errors: not estimated" in r.table()
    a = _quiet(tbspin.anomalous_hall, model=h, efermi=0.0, mesh=12, progress=False)
    b = _quiet(tbspin.anomalous_hall, model=h, efermi=0.0, mesh=12, progress=False,
               seed=a.extras["sampling"]["seed"], workers=2)
    assert a.extras["sampling"]["seed_given"] is None
    np.testing.assert_array_equal(a.raw, b.raw)
    np.testing.assert_array_equal(a.raw_errors, b.raw_errors)


def test_options_that_cannot_act_are_refused() -> None:
    h = haldane()
    kw = dict(efermi=0.0, mesh=8, progress=False)
    with pytest.raises(ParameterError, match="errors=False"):
        tbspin.anomalous_hall(h, shift=0.5, **kw)
    with pytest.raises(ParameterError, match="errors=False"):
        tbspin.anomalous_hall(h, checkpoint="x.ck", **kw)
    with pytest.raises(ParameterError, match="seed"):
        tbspin.anomalous_hall(h, seed=1, errors=False, **kw)
    with pytest.raises(ParameterError, match="tol"):
        tbspin.anomalous_hall(h, tol=0.1, errors=False, **kw)
    with pytest.raises(ParameterError, match="True or False"):
        tbspin.anomalous_hall(h, errors="yes", **kw)


def test_tensor_results_carry_errors_per_component_and_round_trip(tmp_path: Path) -> None:
    """A whole SHC tensor from one pass gets one error per component; components that vanish
    by symmetry (σ^x_xy, σ^y_xy of BHZ, s_z conserved) raise no alarm; JSON and NPZ keep the
    errors and the seed."""
    b = bhz(M=-0.1)
    r = tbspin.spin_hall(b, efermi=0.0, mesh=32, spin="all", current="x", efield="y", seed=2,
                         progress=False)
    assert r.raw.shape == r.raw_errors.shape == (1, 3)
    assert r.extras["sampling"]["unconverged"] == []
    for path in r.save(tmp_path / "t"):
        back = (ConductivityResult.from_json if path.suffix == ".json"
                else ConductivityResult.from_npz)(path)
        np.testing.assert_array_equal(back.raw_errors, r.raw_errors)
        assert back.extras["sampling"]["seed"] == 2


# ---------------------------------------------------------------------- the warning
def test_outlier_check_has_its_false_alarm_rate_and_finds_a_far_shift() -> None:
    """Gaussian estimates: the one-far-shift test fires in about OUTLIER_ALPHA of the trials
    (Bonferroni bound, so at most that); one sample 30 spreads away is always found."""
    rng = np.random.default_rng(3)
    alarms = 0
    for _ in range(4000):
        x = rng.normal(10.0, 0.01, size=(8, 3))
        alarms += any("far" in w for w in unconverged(x, x.mean(0), np.full(3, 1e-3), 1))
    assert alarms / 4000 <= 1.5 * OUTLIER_ALPHA
    x = rng.normal(10.0, 0.01, size=(8, 1))
    x[5] += 0.3
    why = unconverged(x, x.mean(0), np.full(1, 1e-3), 1)
    assert len(why) == 1 and "shift 5" in why[0]
    assert unconverged(x, x.mean(0), np.full(1, 2.0), 1)[0].startswith("relative standard error")


def test_unconverged_default_warns_naming_the_fixes_and_converged_stays_quiet() -> None:
    b = bhz(M=-0.1)
    kw = dict(efermi=0.0, spin="z", current="x", efield="y", progress=False)
    with pytest.warns(ConvergenceWarning, match=r"not converged.*tol=.*larger mesh.*symmetriz"):
        r = tbspin.spin_hall(b, mesh=8, seed=0, **kw)
    assert r.extras["sampling"]["unconverged"]
    h = haldane(t2=0.1, phi=np.pi / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        r = tbspin.anomalous_hall(h, efermi=0.0, mesh=96, seed=0, progress=False)
    assert r.errors[0] < 0.01 * abs(r.values[0])


# ---------------------------------------------------------------------- acceptance 2: coverage
def _coverage(call, exact: float, trials: int = 120) -> tuple[float, float, float]:
    """Fraction of trials whose true error is within 2 reported errors, the median relative
    error, and the fraction of the misses that came with a ConvergenceWarning."""
    hits, rel, missed, warned = 0, [], 0, 0
    for s in range(trials):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = call(seed=1000 + s)
        ok = abs(r.raw[0] - exact) <= 2 * r.raw_errors[0]
        hits += ok
        missed += not ok
        warned += (not ok) and any(issubclass(x.category, ConvergenceWarning) for x in w)
        rel.append(r.raw_errors[0] / abs(exact))
    return hits / trials, float(np.median(rel)), warned / max(missed, 1)


def test_default_error_bar_coverage_on_exact_answers() -> None:
    """Issue 27 acceptance 2, at default settings (no tol, no errors option): the true error
    within 2× the reported error in ≥ 90 % of 120 trials, on meshes where the error is a few %
    (so that the test means something). Exact answers: the Haldane Chern insulator's C/2π
    (C from the Fukui–Hatsugai–Suzuki lattice Chern number), BHZ's quantized 4 e/8π (spin
    Chern number 2 × e/8π·2); the metal (Haldane at E_F = −1.5 eV) against two fine plain
    meshes (480² Γ-centred and 481² half-shifted) whose difference bounds the reference."""
    h = haldane(t2=0.1, phi=np.pi / 2)
    C = round(tbspin.chern_number(h, bands=1, mesh=60))
    assert abs(C) == 1
    cov, rel, _ = _coverage(lambda seed: tbspin.anomalous_hall(
        h, efermi=0.0, mesh=12, seed=seed, progress=False), C / (2 * np.pi))
    assert cov >= 0.9 and rel > 1e-2, (cov, rel)

    b = bhz(M=-0.1)
    cov, rel, _ = _coverage(lambda seed: tbspin.spin_hall(
        b, efermi=0.0, mesh=24, spin="z", current="x", efield="y", seed=seed, progress=False),
        4 / SHC_2D)
    assert cov >= 0.9 and rel > 1e-2, (cov, rel)

    ref = [tbspin.anomalous_hall(h, efermi=-1.5, mesh=n, shift=s, errors=False,
                                 progress=False).raw[0] for n, s in ((480, 0.0), (481, 0.5))]
    cov, rel, _ = _coverage(lambda seed: tbspin.anomalous_hall(
        h, efermi=-1.5, mesh=16, seed=seed, progress=False), ref[0])
    assert abs(ref[0] - ref[1]) < 0.01 * rel * abs(ref[0])  # negligible in quadrature
    assert cov >= 0.9 and rel > 1e-2, (cov, rel)


def test_misses_on_a_too_coarse_mesh_are_not_silent() -> None:
    """BHZ on 8² = 16 sub-meshes of 2²: the spin Hall ring is hit by few points, the sub-mesh
    totals are heavy-tailed and ± 2 errors cover less often (≈ 0.8, below the 0.9 of
    converged-ish meshes) — but every miss comes with a ConvergenceWarning."""
    b = bhz(M=-0.1)
    cov, rel, warned = _coverage(lambda seed: tbspin.spin_hall(
        b, efermi=0.0, mesh=8, spin="z", current="x", efield="y", seed=seed, progress=False),
        4 / SHC_2D, trials=60)
    assert rel > 0.1 and warned == 1.0, (cov, rel, warned)


# ---------------------------------------------------------------------- acceptance 1: Bi2Se3
@pytest.fixture(scope="module")
def bi2se3(tmp_path_factory: pytest.TempPathFactory) -> tbspin.LatticeModel:
    src = data_folder("bi2se3_wanniertools") / HR_ARCHIVE
    dest = tmp_path_factory.mktemp("bi2se3")
    with tarfile.open(src) as tar:
        tar.extractall(dest, filter="data")
    from tbspin.io.wannier90 import read_wannier90

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_wannier90(next(dest.rglob("*_hr.dat")), lattice=LAT_BI2SE3,
                              spin_order="block")


@pytest.mark.parametrize("mesh", [10, 12, 14])
def test_bi2se3_proper_shc_error_bars_cover_the_converged_value(bi2se3, mesh: int) -> None:
    """Issue 27 acceptance 1: the shared Bi₂Se₃ `_hr.dat` (block spinors, README lattice),
    proper σ^y_zx at E_F = 4.4195 eV, workers=1, no tol: the plain meshes gave −884/−355/−679
    with no hint. Every default error bar covers the converged −420 ± 15 (ħ/e) S/cm (the tol
    runs quoted in the issue) within 3σ (+ the reference's own ± 15), and each run warns.
    Three seeds per mesh (measured on 20 seeds: coverage 1.0 and warnings 1.0 at 10³, 12³,
    14³ and 20³)."""
    for seed in (0, 1, 2):
        with pytest.warns(ConvergenceWarning, match="not converged"):
            r = tbspin.spin_hall(bi2se3, spin="y", current="z", efield="x", efermi=4.4195,
                                 mesh=mesh, workers=1, seed=seed, progress=False)
        v, e = r.to("(hbar/e) S/cm")[0], r.errors_to("(hbar/e) S/cm")[0]
        assert abs(v - (-420.0)) <= 3 * e + 15.0, (mesh, seed, v, e)
        assert r.extras["sampling"]["n_k"] == mesh**3  # even meshes: 8 sub-meshes of (n/2)³


# ---------------------------------------------------------------------- CLI
def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run([sys.executable, "-m", "tbspin.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def test_cli_prints_value_and_error_and_refuses_what_cannot_act(tmp_path: Path) -> None:
    base = ("ahc", "--model", "haldane", "--efermi", "0", "--no-progress", "--mesh", "12")
    p = _cli(*base, "--seed", "4", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "# errors: 9 randomly shifted 4x4 sub-meshes (144 k-points, seed 4)" in p.stdout
    assert "error (1 sigma)" in p.stdout
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["raw_errors"] is not None and d["extras"]["sampling"]["seed"] == 4
    p = _cli(*base, "--no-errors", cwd=tmp_path)
    assert p.returncode == 0 and "# errors: not estimated" in p.stdout
    for extra in (("--shift", "0.5"), ("--checkpoint", str(tmp_path / "c")),
                  ("--no-errors", "--seed", "1"), ("--no-errors", "--tol", "0.1")):
        p = _cli(*base, *extra, cwd=tmp_path)
        assert p.returncode == 2 and "--" in p.stderr, (extra, p.stderr)
