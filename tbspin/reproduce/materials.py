"""The materials table: proper and conventional spin Hall tensors (and the AHC of magnets) of
real Wannier90 fits, each symmetry-independent component with its error bar, in one command.

``tbspin reproduce materials [--only pt,fe] [--quick] [--out DIR] [--budget-seconds S]
[--scheduler ADDR] [--workers N]`` or :func:`run_table`.

Per material (declarations in :mod:`tbspin.reproduce._materials_decl`):

1. read the fit (files checksummed), attach its crystal structure (magnetic moments for Fe);
2. symmetrize H_R over the whole (magnetic) space group (:func:`tbspin.crystal.symmetrize`),
   unless that moves some band by more than ``MAX_BAND_SHIFT`` (then the raw fit is used and
   the refused report is kept: the orbitals are not what the projections say);
3. the symmetry-independent components of σ^l_ij per formula from
   :func:`tbspin.crystal.spin_hall_shape` (proper: the antisymmetric part in (i, j), which the
   proper formula enforces), and of the AHC from :func:`tbspin.crystal.ahc_shape`;
4. one whole-tensor ``tol`` run per formula at E_F (every non-vanishing component from one
   eigensystem per k-point), the tolerance decided in :func:`run_tolerance` only;
5. a curve over E_F ± 0.5 eV on a fixed mesh with the default sub-mesh error bars (a formula
   whose ``tol`` run is gap-refined: one gap-refined pass of the curve mesh, error bars from
   its 16 shifts);
6. the proper/conventional ratio per component.

A material whose record in the output folder is complete (same inputs, same settings) is read
back, not recomputed. A ``budget_seconds`` shared by the table ends the runs with a
ConvergenceWarning and still writes the partial table (:mod:`tbspin.reproduce._materials_out`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tbspin.errors import ConvergenceWarning, ParameterError
from tbspin.io.wannier90.text import sha256
from tbspin.reproduce._materials_decl import AHC_UNIT_3D, MAX_BAND_SHIFT, Material, select

__all__ = ["run_table", "run_tolerance", "load_material", "symmetry_step", "independent",
           "compute_material", "Budget"]

_XYZ = "xyz"
#: fixed seed of every random shift of the table (reruns reproduce it)
SEED = 24


# ---------------------------------------------------------------------- inputs
def data_folder(data: Path | str | None = None) -> Path:
    """The folder of the Wannier90 fits: ``data``, else ``$TBSPIN_SHARED_DATA``, else
    ``../shared/data`` next to the repository (or its worktree): :mod:`tbspin.io.shared_data`.
    Raises OutputError naming every place looked when it is absent."""
    from tbspin.errors import OutputError
    from tbspin.io.shared_data import require_shared_data

    try:
        return require_shared_data(data=data)
    except OutputError as err:
        raise OutputError(f"the Wannier90 fits: {err}; pass data=... (CLI --data)") from None


def load_material(mat: Material, data: Path) -> tuple[Any, dict[str, str]]:
    """The fit of ``mat`` with its crystal structure, and {input path: sha256}."""
    from tbspin.crystal import CrystalStructure, with_structure
    from tbspin.io.wannier90 import read_wannier90

    folder = data / mat.folder
    files = [folder / mat.hr] + [folder / f for f in mat.side_files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ParameterError(f"{mat.name}: input files missing: {missing}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no centres file, translate_home_cell: recorded below
        model = read_wannier90(folder / mat.hr, spin_order=mat.spin_order,
                               lattice=None if mat.lattice is None else np.array(mat.lattice))
    if mat.atoms is not None:
        st = CrystalStructure(lattice=np.asarray(model.lattice),
                              positions=np.array([p for _, p in mat.atoms], dtype=float),
                              symbols=tuple(s for s, _ in mat.atoms),
                              magmoms=None if mat.magmom is None else
                              np.array([mat.magmom] * len(mat.atoms), dtype=float),
                              source=f"declaration ({mat.key})")
        model = with_structure(model, st)
    if mat.exchange is not None:
        model = model.replace(magnetization=np.array(mat.exchange))
    return model, {str(f): sha256(f) for f in files}


# ---------------------------------------------------------------------- symmetry
def symmetry_step(mat: Material, model: Any) -> tuple[Any, Any, dict[str, object]]:
    """(model to integrate, its space group, report): the group-averaged fit, unless that
    moves bands by more than ``MAX_BAND_SHIFT`` eV (then the raw fit, reason recorded)."""
    from tbspin.crystal import space_group, structure_of, symmetrize, symmetry_breaking

    group = space_group(structure_of(model))
    proj = None if mat.projections is None else list(mat.projections)
    new, rep = symmetrize(model, group, projections=proj)
    info: dict[str, object] = {
        "group": str(group), "number": group.number, "n_elements": rep.n_elements,
        "magnetic": group.magnetic, "projections": proj or "from the .win",
        "kramers_splitting_before_eV": rep.kramers_before,
        "kramers_splitting_after_eV": rep.kramers_after,
        "max_band_shift_eV": rep.band_shift_max, "max_hopping_change_eV": rep.max_change,
        "worst_violation_before": str(rep.violation_before),
        "commutation_after_eV": rep.commutation_after, "report": str(rep)}
    if group.magnetic:
        info["kramers_note"] = ("magnetic: T is not an element, the 'Kramers splitting' of "
                                "adjacent bands is mostly the exchange splitting")
    if rep.band_shift_max > MAX_BAND_SHIFT:
        brk = symmetry_breaking(model, group, projections=proj, n_k=10)
        info.update(applied=False, breaking=str(brk), reason=(
            f"symmetrizing moves bands by up to {rep.band_shift_max:.3g} eV "
            f"(> {MAX_BAND_SHIFT} eV): the Wannier functions of this fit are not the "
            f"orbitals {proj or 'of the .win'} (e.g. on-site couplings the group forbids); "
            "the raw fit is integrated and the computed tensor is checked against the shape"))
        return model, group, info
    info["applied"] = True
    return new, group, info


def band_edges(model: Any, n_occupied: int, n: int = 24, chunk: int = 2000
               ) -> dict[str, float]:
    """Valence maximum and conduction minimum (eV) of ``model`` on a Γ-centred n^p mesh."""
    p = model.n_periodic
    g = np.arange(n) / n
    kred = np.stack(np.meshgrid(*([g] * p), indexing="ij"), -1).reshape(-1, p)
    k = kred @ np.asarray(model.reciprocal)[:p]
    vb, cb = -np.inf, np.inf
    for s in range(0, len(k), chunk):
        E = np.linalg.eigvalsh(model.hamiltonian(k[s:s + chunk]))
        vb, cb = max(vb, float(E[:, n_occupied - 1].max())), min(cb, float(E[:, n_occupied].min()))
    return {"n_occupied": n_occupied, "valence_max_eV": vb, "conduction_min_eV": cb,
            "gap_eV": cb - vb, "mesh": n}


# ---------------------------------------------------------------------- components
def _label(obs: str, idx: Sequence[int]) -> str:
    return "".join(_XYZ[i] for i in idx)


def _tex(obs: str, idx: Sequence[int]) -> str:
    if obs == "ahc":
        return f"σ_{_label(obs, idx)}"
    return f"σ^{_XYZ[idx[0]]}_{_XYZ[idx[1]]}{_XYZ[idx[2]]}"


def independent(projector: np.ndarray, rank: int, *, antisymmetric: bool, in_plane: bool,
                prefer: Sequence[int] | None = None
                ) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """(representatives, computed): one representative component per independent component of
    the tensors in the range of ``projector`` (shape (3^rank, 3^rank)), and every component
    that does not vanish there.

    ``antisymmetric``: intersect with tensors antisymmetric in the last two indices (the
    proper formula). ``in_plane``: only components with the last two (polar) indices along x, y
    (a 2D material has no current or field along z). ``prefer``: the representative chosen
    first when it can be one (the headline).
    """
    n = 3 ** rank
    Q = np.asarray(projector, float)
    if antisymmetric:
        swap = np.zeros((n, n))
        for c, idx in enumerate(np.ndindex(*(3,) * rank)):
            t = idx[:-2] + (idx[-1], idx[-2])
            swap[np.ravel_multi_index(t, (3,) * rank), c] = 1.0
        Q = Q @ (0.5 * (np.eye(n) - swap))
    u, s, _ = np.linalg.svd(Q)
    basis = u[:, s > 0.5]  # (n, d)
    idxs = list(np.ndindex(*(3,) * rank))
    ok = [c for c, idx in enumerate(idxs) if not in_plane or max(idx[-2:]) < 2]
    support = [c for c in ok if np.abs(basis[c]).max() > 1e-6]
    order = sorted(support, key=lambda c: (tuple(idxs[c]) != tuple(prefer or ()), c))
    free: list[int] = []
    for c in order:
        trial = basis[free + [c]]
        if np.linalg.matrix_rank(trial, tol=1e-6) > len(free):
            free.append(c)
    return [tuple(idxs[c]) for c in free], [tuple(idxs[c]) for c in support]


# ---------------------------------------------------------------------- THE tolerance
@dataclasses.dataclass(frozen=True)
class Tolerance:
    """What a ``tol`` run is asked for, and the per-component targets of the table."""

    tol: list[float]  #: passed to the run: one relative target per computed component
    abs_floor: list[float]  #: passed to the run (canonical unit): floor on |value| per component
    targets: dict[str, float]  #: relative target per component label
    floor: float  #: absolute target (table unit)
    note: str


def run_tolerance(mat: Material, observable: str, labels: Sequence[str], quick: bool,
                  canonical_per_table_unit: float, computed: Sequence[str] | None = None
                  ) -> Tolerance:
    """THE place where the tolerance of a ``tol`` run is decided (one per run).

    The table asks the headline component for ``headline_tol`` (2 %) and every other one for
    ``other_tol`` (5 %), or the material's absolute ``floor`` (table unit) when it vanishes:
    error ≤ max(target × |value|, floor). The engine's per-component rule is error ≤ tol_c ×
    max(|value|, abs_floor_c), so tol_c = target and abs_floor_c = floor / target (canonical
    unit). ``computed``: labels of the components the run computes, in order (default
    ``labels``); components beyond the representatives (a raw, unsymmetrized fit computes every
    allowed one) get ``other_tol``.
    """
    st = mat.settings(quick)
    head_obs, head = mat.headline
    targets = {lab: (st.headline_tol if (observable == head_obs and lab == head)
                     else st.other_tol) for lab in labels}
    order = list(labels if computed is None else computed)
    tol = [targets.get(lab, st.other_tol) for lab in order]
    floor = [mat.floor * canonical_per_table_unit / t for t in tol]
    return Tolerance(tol=tol, abs_floor=floor, targets=targets, floor=mat.floor,
                     note="per component: error <= max(target x |value|, floor); "
                          "headline 2 %, others 5 %")


# ---------------------------------------------------------------------- budget
class Budget:
    """Wall-clock seconds shared by the table (None: unlimited)."""

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
            raise ParameterError(f"budget_seconds must be a positive number, got {seconds!r}")
        self.seconds = seconds
        self.t0 = time.perf_counter()

    @property
    def left(self) -> float | None:
        return None if self.seconds is None else self.seconds - (time.perf_counter() - self.t0)

    @property
    def exhausted(self) -> bool:
        left = self.left
        return left is not None and left <= 0

    def share(self, runs_left: int) -> float | None:
        """Seconds for the next run when ``runs_left`` runs (this one included) remain."""
        left = self.left
        return None if left is None else max(left, 1e-3) / max(runs_left, 1)


# ---------------------------------------------------------------------- one material
def _unit(mat: Material, obs: str) -> str:
    return AHC_UNIT_3D if obs == "ahc" else mat.shc_unit


def _factor(kind: str, dim: int, unit: str | None = None) -> float:
    from tbspin import units

    return float(units.conversion_factor(kind, dim, unit)[0])


def _runs(mat: Material, model: Any, group: Any) -> list[dict[str, Any]]:
    """The runs of a material: observable, formula, representatives, computed components."""
    from tbspin.crystal import ahc_shape, spin_hall_shape

    out = []
    two_d = model.n_periodic == 2
    head_obs, head = mat.headline
    shc = spin_hall_shape(group)
    for formula in ("proper", "conventional"):
        pref = tuple(_XYZ.index(a) for a in head) if head_obs == "shc" else None
        reps, comps = independent(shc.projector, 3, antisymmetric=formula == "proper",
                                  in_plane=two_d, prefer=pref)
        if formula == "proper":  # i == j vanishes identically: not a component of the run
            comps = [c for c in comps if c[1] != c[2]]
        out.append(dict(observable="shc", formula=formula, reps=reps, comps=comps,
                        shape=str(shc)))
    if mat.ahc:
        ah = ahc_shape(group)
        reps1, _ = independent(ah.projector, 1, antisymmetric=False, in_plane=False)
        pairs: list[tuple[int, ...]] = [((k + 1) % 3, (k + 2) % 3) for (k,) in reps1]
        out.append(dict(observable="ahc", formula="berry", reps=pairs, comps=pairs,
                        shape=str(ah)))
    return out


def _collect(messages: list[str]) -> list[str]:
    """The warnings of one run for the record, each once with its number of repeats (the
    engine already sums the gauge warning of all chunks into one line per run and gauge
    operator; its totals are the run's ``gauge_unlifted``, :mod:`tbspin.bands.gauge_tally`)."""
    plain: dict[str, int] = {}
    for m in messages:
        plain[m] = plain.get(m, 0) + 1
    return [m if n == 1 else f"{m} (×{n})" for m, n in plain.items()]


def _call(model: Any, run: dict[str, Any], efermi: Any, **kw: Any) -> Any:
    from tbspin.observables.api import compute

    formula = None if run["observable"] == "ahc" else run["formula"]
    return compute(model, run["observable"], efermi=efermi, components=run["comps"],
                   formula=formula, progress=False, **kw)


def compute_material(mat: Material, data: Path, *, quick: bool, budget: Budget,
                     runs_after: int = 0, client: object | None = None,
                     workers: int | None = None, journals: Path | None = None
                     ) -> dict[str, Any]:
    """The table record of one material (module docstring); ``runs_after``: ``tol`` runs of
    the materials still to come (they share the budget); ``journals``: folder of the ``tol``
    runs' checkpoints (``<key>-<observable>-<formula>.json`` and its chunk log), so a killed or
    budget-stopped table goes on from its last finished chunk when run again."""
    t0 = time.perf_counter()
    st = mat.settings(quick)
    model, inputs = load_material(mat, data)
    model, group, sym = symmetry_step(mat, model)
    runs = _runs(mat, model, group)
    dim = model.n_periodic
    rec: dict[str, Any] = {
        "key": mat.key, "name": mat.name, "kind": mat.kind, "run_id": uuid.uuid4().hex,
        "inputs_sha256": inputs, "spin_order": mat.spin_order, "efermi_eV": mat.efermi,
        "structure": dict(model.metadata.get("atoms", {})), "symmetry": sym,
        "headline": list(mat.headline), "why_headline": mat.why_headline,
        "literature": dict(mat.literature), "settings": dataclasses.asdict(st),
        "quick": quick, "seed": SEED, "periodic_dimensions": dim,
        "entries": [], "tol_runs": {}, "curves": {}, "warnings": [], "k_points": 0}
    if mat.n_occupied is not None:
        edges = band_edges(model, mat.n_occupied, 8 if quick else 24)
        edges["efermi_in_gap"] = edges["valence_max_eV"] < mat.efermi < edges["conduction_min_eV"]
        rec["band_edges"] = edges
    if dim == 2:
        area = float(np.linalg.norm(np.cross(model.lattice[0], model.lattice[1])))
        rec["slab_thickness_A"] = float(abs(np.linalg.det(model.lattice))) / area
    complete = True
    for n, run in enumerate(runs):
        obs, formula = run["observable"], run["formula"]
        kind = obs
        unit = _unit(mat, obs)
        per_unit = _factor(kind, dim) / _factor(kind, dim, unit)
        labels = [_label(obs, c) for c in run["reps"]]
        # a symmetrized fit: only the representatives, each the star average of its orbit at
        # every sampled k (compute(..., symmetry=group)); a raw fit: every allowed component
        stars = bool(sym.get("applied"))
        comps = run["reps"] if stars else run["comps"]
        tl = run_tolerance(mat, obs, labels, quick, abs(per_unit),
                           computed=[_label(obs, c) for c in comps])
        if budget.exhausted:
            complete = False
            rec["warnings"].append(f"{obs} {formula}: not run, budget exhausted")
            continue
        secs = budget.share(len(runs) - n + runs_after)
        t1 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            gap = st.proper_gap if formula == "proper" else None
            r = _call(model, dict(run, comps=comps), [mat.efermi],
                      mesh=st.start_mesh if gap is None else gap[0],
                      refine_gap=None if gap is None else gap[1],
                      tol=tl.tol, abs_floor=tl.abs_floor, budget=secs, budget_k=st.budget_k,
                      seed=SEED, client=client, workers=workers,
                      symmetry=group if stars else None,
                      checkpoint=None if journals is None
                      else journals / f"{mat.key}-{obs}-{formula}.json")
        samp = r.extras.get("sampling", {})
        rec["warnings"] += _collect([f"{obs} {formula}: {w.message}" for w in caught])
        converged = bool(samp.get("converged", False))
        complete &= converged
        rec["k_points"] += int(samp.get("n_k", 0))
        rec["tol_runs"][f"{obs}:{formula}"] = {
            "tol": tl.tol, "abs_floor_table_unit": tl.floor, "targets": tl.targets,
            "policy": tl.note, "budget_seconds": secs, "budget_k": st.budget_k,
            "n_k": samp.get("n_k"), "mesh": samp.get("mesh"), "converged": converged,
            "refine_gap": samp.get("refine_gap"), "gauge_split": samp.get("gauge_split"),
            "confirmed": samp.get("confirmed"), "seconds": round(time.perf_counter() - t1, 2),
            "resume": samp.get("resume"),
            "components_computed": [_label(obs, c) for c in comps],
            "star_average": (dict(r.extras.get("symmetry", {}), group=str(group))
                             if stars else None),
            "gauge": r.gauge, "gauge_unlifted": r.extras.get("gauge_unlifted"),
            "shape": run["shape"], "run_id": r.run_id}
        vals, errs = r.to(unit)[0], r.errors_to(unit)
        errs = np.zeros_like(vals) if errs is None else errs[0]
        for c, lab in zip(run["reps"], labels, strict=True):
            j = [tuple(x) for x in r.components].index(tuple(c))
            v, e = float(vals[j]), float(errs[j])
            target = max(tl.targets[lab] * abs(v), tl.floor)
            rec["entries"].append({
                "observable": obs, "formula": formula, "component": lab,
                "symbol": _tex(obs, c), "value": v, "error": e, "unit": unit,
                "target_relative": tl.targets[lab], "target_absolute": target,
                "met": bool(e <= target), "headline": (obs, lab) == tuple(mat.headline)})
        rec["tensor_symmetry_residual"] = rec.get("tensor_symmetry_residual", {})
        rec["tensor_symmetry_residual"][f"{obs}:{formula}"] = (
            None if stars else _residual(r, run, unit, group))  # star runs are symmetric
        if budget.exhausted:
            continue
        ef = mat.efermi + np.linspace(-st.window, st.window, st.curve_points)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # a gap-refined formula: its curve is one gap-refined pass of the curve mesh (the
            # tree built for the highest E_F; plain sub-meshes miss the peaks its tol run
            # refines, and their error bars are as wide as the curve: benchmarks/README.md)
            c = _call(model, run, ef, seed=SEED, client=client, workers=workers,
                      **(dict(mesh=st.curve_mesh) if gap is None else dict(
                          mesh=st.proper_curve_mesh or st.curve_mesh, refine_gap=gap[1])))
        n_curve = int(c.extras.get("n_k", np.prod(c.mesh)))
        rec["k_points"] += n_curve
        cv, ce = c.to(unit), c.errors_to(unit)
        samp_c = c.extras.get("sampling", {})
        rec["curves"][f"{obs}:{formula}"] = {
            "efermi_eV": ef.tolist(), "mesh": list(c.mesh), "unit": unit,
            # what reruns a gap-refined curve: its threshold, gauge criterion and seed
            "refine_gap": None if gap is None else gap[1],
            "gauge_split": samp_c.get("gauge_split"), "seed": samp_c.get("seed"),
            "k_points": n_curve,
            "error_method": ("default sub-mesh estimate (M randomly shifted sub-meshes)"
                             if gap is None else str(c.extras["errors"])),
            "components": {lab: {"values": cv[:, [tuple(x) for x in c.components].index(
                tuple(cc))].tolist(), "errors": (np.zeros(len(ef)) if ce is None else ce[
                    :, [tuple(x) for x in c.components].index(tuple(cc))]).tolist()}
                for cc, lab in zip(run["reps"], labels, strict=True)},
            "warnings": sorted({str(w.message)[:160] for w in caught})}
    if budget.exhausted and len(rec["curves"]) < len(runs):
        complete = False
    rec["ratios"] = _ratios(rec["entries"])
    rec["status"] = "complete" if complete else "partial"
    rec["seconds"] = round(time.perf_counter() - t0, 2)
    return rec


def _residual(r: Any, run: dict[str, Any], unit: str, group: Any) -> float | None:
    """max |T − P T| over the computed components (table unit): how far the computed tensor
    breaks the symmetry (sampling noise on a symmetrized fit)."""
    from tbspin.crystal import ahc_shape, spin_hall_shape

    vals = r.to(unit)[0]
    if run["observable"] == "ahc":
        full = np.zeros(3)
        for c, (i, j) in enumerate(r.components):
            full[3 - i - j] = vals[c] if (j - i) % 3 == 1 else -vals[c]
        return float(np.abs(full - ahc_shape(group).project(full)).max())
    T = np.zeros((3, 3, 3))
    for c, idx in enumerate(r.components):
        T[tuple(idx)] = vals[c]
        if run["formula"] == "proper":
            T[idx[0], idx[2], idx[1]] = -vals[c]
    P = spin_hall_shape(group).project(T)
    mask = np.zeros((3, 3, 3), bool)
    for idx in r.components:
        mask[tuple(idx)] = True
    return float(np.abs(T - P)[mask].max()) if mask.any() else None


def _ratios(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """proper/conventional per SHC component present in both, error by propagation."""
    prop = {e["component"]: e for e in entries if e["formula"] == "proper"}
    conv = {e["component"]: e for e in entries if e["formula"] == "conventional"}
    out = []
    for lab in prop:
        if lab not in conv or conv[lab]["value"] == 0:
            continue
        p, c = prop[lab], conv[lab]
        ratio = p["value"] / c["value"]
        rel = np.hypot(p["error"] / p["value"] if p["value"] else 0.0, c["error"] / c["value"])
        out.append({"component": lab, "symbol": p["symbol"], "ratio": ratio,
                    "error": abs(ratio) * float(rel)})
    return out


# ---------------------------------------------------------------------- the table
def _settings_key(mat: Material, quick: bool, inputs: dict[str, str] | None,
                  identity: str | None = None) -> str:
    blob = json.dumps({"material": identity or mat.identity(), "quick": quick, "seed": SEED,
                       "max_band_shift": MAX_BAND_SHIFT, "inputs": inputs}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _inputs_of(mat: Material, folder: Path) -> dict[str, str]:
    """{input path: sha256} of the material's files that exist."""
    files = [folder / mat.folder / f for f in (mat.hr, *mat.side_files)]
    return {str(f): sha256(f) for f in files if f.is_file()}


def _key_of(mat: Material, folder: Path, quick: bool) -> str:
    """The key of a material's record (inputs and settings)."""
    return _settings_key(mat, quick, _inputs_of(mat, folder))


def run_table(out: Path | str = "results/materials", *, only: str | None = None,
              quick: bool = False, budget_seconds: float | None = None,
              budget_k: int | None = None, client: object | None = None,
              workers: int | None = None, data: Path | str | None = None) -> dict[str, Any]:
    """Compute (or read back) the materials table and write it into ``out``.

    Parameters
    ----------
    out : path
        Output folder: ``materials.md``, ``materials.csv``, ``materials.json`` (provenance),
        ``<key>.json`` (one record per material: a complete one is read back) and
        ``<key>.png``; ``journals/<settings>/`` holds the checkpoints of the ``tol`` runs (a
        killed or budget-stopped run goes on from its last finished chunk on the next call with
        the same inputs and settings).
    only : str, optional
        Comma-separated keys (pt, fe, bi2se3, wse2); default all.
    quick : bool
        Tiny meshes and loose tolerances (tests), not converged.
    budget_seconds : float, optional
        Wall time of the whole table; when it ends the runs stop with a ConvergenceWarning
        and the partial table is written.
    budget_k : int, optional
        k-point evaluations per ``tol`` run, instead of each material's own (a rerun with a
        larger one continues the journals of a budget-stopped table).
    client : dask.distributed.Client, optional
        Passed straight to every observable call.
    workers : int, optional
        Local workers of every call (the result does not depend on it).
    data : path, optional
        Folder of the Wannier90 fits (default ``../shared/data`` of the repository).

    Returns
    -------
    dict
        The content of ``materials.json``.
    """
    from tbspin.reproduce._common import prepare_output
    from tbspin.reproduce._materials_out import read_material, write_material, write_table

    mats = [m.with_budget_k(budget_k) for m in select(only)]
    folder = data_folder(data)
    out = prepare_output(Path(out))
    budget = Budget(budget_seconds)
    records: list[dict[str, Any]] = []
    settings = _table_settings(only, quick, budget_seconds, budget_k, workers, client)
    n_runs = [2 + int(m.ahc) for m in mats]
    for i, mat in enumerate(mats):
        inputs = _inputs_of(mat, folder)  # hashed once: the record's and the journals' key
        key = _settings_key(mat, quick, inputs)
        done = read_material(out, mat.key, key)
        if done is not None:
            done["reused"] = True
            records.append(done)
            continue
        if budget.exhausted:
            rec: dict[str, Any] = {"key": mat.key, "name": mat.name, "kind": mat.kind,
                                   "status": "not run", "entries": [], "ratios": [],
                                   "settings_key": key, "warnings": ["budget exhausted"]}
        else:
            # other settings of the tol runs: other journals (the curves' do not count,
            # Material.tol_identity)
            journals = out / "journals" / _settings_key(mat, quick, inputs,
                                                        mat.tol_identity())[:16]
            journals.mkdir(parents=True, exist_ok=True)
            rec = compute_material(mat, folder, quick=quick, budget=budget,
                                   runs_after=sum(n_runs[i + 1:]), client=client,
                                   workers=workers, journals=journals)
            rec["settings_key"] = key
        records.append(rec)
        write_material(out, rec)
        write_table(out, records, settings)
    records = _with_earlier(out, records, mats, folder, quick)
    summary = write_table(out, records, settings)
    unfinished = [r["name"] for r in records if r.get("status") != "complete"]
    if unfinished:
        warnings.warn(f"materials table: {', '.join(unfinished)} not complete (budget or "
                      f"tolerance not reached); the partial table is in {out}",
                      ConvergenceWarning, stacklevel=2)
    return summary


def _with_earlier(out: Path, records: list[dict[str, Any]], mats: list[Material],
                  folder: Path, quick: bool) -> list[dict[str, Any]]:
    """This call's records plus those of the materials it did not select that an earlier call
    with the same inputs and settings left in ``out`` (complete or not, marked
    ``"from_earlier_call"``), in table order: ``--only bi2se3`` extends the table, it does not
    shrink it to one material."""
    from tbspin.reproduce._materials_out import read_material

    mine = {r["key"]: r for r in records}
    chosen = {m.key for m in mats}
    table = []
    for mat in select(None):
        if mat.key in chosen:
            table.append(mine[mat.key])
            continue
        rec = read_material(out, mat.key, _key_of(mat, folder, quick),
                            complete=False)
        if rec is not None:
            rec["reused"] = True
            rec["from_earlier_call"] = True
            table.append(rec)
    return table


def _table_settings(only: str | None, quick: bool, budget_seconds: float | None,
                    budget_k: int | None, workers: int | None, client: object | None
                    ) -> dict[str, object]:
    return {"only": only, "quick": quick, "budget_seconds": budget_seconds,
            "budget_k": budget_k, "workers": workers,
            "scheduler": None if client is None else str(getattr(client, "scheduler", client)),
            "seed": SEED, "max_band_shift_eV": MAX_BAND_SHIFT}
