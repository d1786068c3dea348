"""Declarations of the materials table (:mod:`tbspin.reproduce.materials`): one record per
material with its file, spin order, Fermi level, structure, projections, headline component,
tolerances, discretization and literature values. Nothing here computes anything.

Sources: ``../shared/data/README.md`` (files, lattices, spin orders, Fermi levels), the
WannierTools inputs next to the files (``wt.in``: E_F, projectors), the cited papers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

#: (ħ/e) S/cm: the 3D spin Hall unit of the table (literature values use it)
SHC_UNIT_3D = "(hbar/e) S/cm"
#: sheet spin Hall conductance of a 2D material: e/4π (a QSH insulator with conserved s_z: 2)
SHC_UNIT_2D = "e/4pi"
AHC_UNIT_3D = "S/cm"
#: A symmetrization that moves some band by more than this (eV) is not applied: the orbitals of
#: the fit are then not the ones its labels claim, and the "symmetric" model would be another
#: material (the JSON records the refused report and the breaking of the raw fit).
MAX_BAND_SHIFT = 1.0


@dataclasses.dataclass(frozen=True)
class Discretization:
    """How one material is sampled (a ``tol`` run at E_F per formula, a fixed-mesh curve)."""

    start_mesh: int  #: first base mesh of the ``tol`` runs (per periodic direction)
    budget_k: int  #: k-point evaluations allowed per ``tol`` run
    curve_mesh: int  #: mesh of the E_F curves (default sub-mesh error bars)
    curve_points: int  #: E_F values of the curve (odd: E_F itself is the middle one)
    window: float = 0.5  #: half-width of the curve (eV)
    headline_tol: float = 0.02  #: relative target of the headline component
    other_tol: float = 0.05  #: relative target of the other components
    #: the proper ``tol`` run samples gap-refined meshes (``refine_gap``, eV) from this base
    #: mesh instead (:mod:`tbspin.sampling.gaptree`); None: variance-driven refinement
    proper_gap: tuple[int, float] | None = None
    #: with ``proper_gap``: base mesh of the proper E_F curve, one gap-refined pass (16 shifts
    #: of a tree of up to 16 leaves per base cell: 256 × base² evaluations in 2D); None:
    #: ``curve_mesh``
    proper_curve_mesh: int | None = None


@dataclasses.dataclass(frozen=True)
class Material:
    """One row block of the materials table.

    Attributes
    ----------
    key, name, kind : str
        Short key (CLI ``--only``), display name, what it is.
    folder, hr : str
        Folder in ``../shared/data`` and the ``_hr.dat`` archive in it.
    side_files : tuple of str
        Other input files read with it (checksummed in the provenance).
    spin_order : str
        Spinor order of the Wannier functions.
    efermi : float
        DFT Fermi level (eV).
    lattice : tuple or None
        Lattice vectors (Å, rows) when no side file gives them.
    atoms : tuple of (symbol, fractional position) or None
        Structure when no side file gives it (Fe).
    magmom : tuple or None
        Moment per atom (μ_B, Cartesian): magnetic space group.
    projections : tuple of str or None
        Projection lines when no ``.win`` gives them.
    exchange : tuple or None
        Exchange vector (eV) declared on the model (``magnetization``): its axis is the gauge
        operator m̂·s inside degenerate bands.
    headline : tuple of (observable, component)
        The component converged to ``headline_tol``: ("shc", "zxy") = σ^z_xy in both
        formulas, ("ahc", "xy") = σ_xy.
    why_headline : str
    floor : float
        Absolute error target (table unit) for components that vanish or nearly do.
    two_d : bool
        Periodic in x, y only (mesh (N, N); sheet conductance).
    ahc : bool
        Time reversal broken: the AHC vector too.
    n_occupied : int or None
        Insulators: number of bands below the gap; the band edges of the (symmetrized) model
        are reported to say whether E_F lies in the gap.
    literature : mapping
        Literature values quoted in the table (label → text).
    """

    key: str
    name: str
    kind: str
    folder: str
    hr: str
    side_files: tuple[str, ...]
    spin_order: str
    efermi: float
    lattice: tuple[tuple[float, float, float], ...] | None
    atoms: tuple[tuple[str, tuple[float, float, float]], ...] | None
    magmom: tuple[float, float, float] | None
    projections: tuple[str, ...] | None
    headline: tuple[str, str]
    why_headline: str
    floor: float
    two_d: bool
    ahc: bool
    literature: Mapping[str, str]
    full: Discretization
    quick: Discretization
    exchange: tuple[float, float, float] | None = None
    n_occupied: int | None = None  #: insulators: bands below the gap (band edges reported)

    @property
    def shc_unit(self) -> str:
        return SHC_UNIT_2D if self.two_d else SHC_UNIT_3D

    def settings(self, quick: bool) -> Discretization:
        return self.quick if quick else self.full

    def with_budget_k(self, budget_k: int | None) -> Material:
        """This material with ``budget_k`` k-point evaluations per ``tol`` run (None: its own)."""
        if budget_k is None:
            return self
        return dataclasses.replace(self, full=dataclasses.replace(self.full, budget_k=budget_k),
                                   quick=dataclasses.replace(self.quick, budget_k=budget_k))

    def identity(self) -> str:
        """Its declaration without the k-point budgets, which decide how far a run goes, not
        what its passes compute: a table stopped by its budget goes on from its journals when
        run again with a larger one (``budget_k=``, CLI ``--budget-k``)."""
        return repr(self.with_budget_k(0))

    def tol_identity(self) -> str:
        """:meth:`identity` without what only the E_F curves use (their meshes, points and
        window): the key of the ``tol`` runs' journals, so that a table re-run with other
        curves replays its ``tol`` runs instead of recomputing them."""
        def runs(d: Discretization) -> Discretization:
            return dataclasses.replace(d, budget_k=0, curve_mesh=0, curve_points=0, window=0.0,
                                       proper_curve_mesh=None)

        return repr(dataclasses.replace(self, full=runs(self.full), quick=runs(self.quick)))


_QUICK = Discretization(start_mesh=4, budget_k=1500, curve_mesh=4, curve_points=5,
                        headline_tol=0.3, other_tol=0.5)

MATERIALS: dict[str, Material] = {
    "pt": Material(
        key="pt", name="Pt", kind="fcc metal (Fm-3m), s p d", folder="pt_wanniertools",
        hr="wannier90_hr.dat.tar.gz", side_files=("wannier90.win",), spin_order="block",
        efermi=11.3158, lattice=None, atoms=None, magmom=None, projections=None,
        headline=("shc", "zxy"),
        why_headline="cubic: the whole tensor is σ ε_lij, σ^z_xy is the one number (Guo 2008)",
        floor=10.0, two_d=False, ahc=False,
        literature={"conventional σ^z_xy": "≈ 2200 (ħ/e) S/cm, Guo et al., PRL 100, 096401 "
                                           "(2008) (first principles, 2000 at low T)",
                    "tbspin 0.2 (symmetrized, one component)": "proper 640 ± 10, "
                                                               "conventional 2232 ± 10"},
        # the star-averaged proper σ^z_xy needs 2–4 M k-points for 2 % (measured, tenth session)
        full=Discretization(start_mesh=16, budget_k=8_000_000, curve_mesh=32, curve_points=41),
        quick=_QUICK),
    "fe": Material(
        key="fe", name="Fe", kind="bcc ferromagnet, m ∥ z, p d", folder="fe_wanniertools",
        hr="wannier90_hr.dat.tar.gz", side_files=(), spin_order="block", efermi=9.1839,
        lattice=((1.435, 1.435, -1.435), (-1.435, 1.435, 1.435), (1.435, -1.435, 1.435)),
        atoms=(("Fe", (0.0, 0.0, 0.0)),), magmom=(0.0, 0.0, 2.2),
        projections=("Fe: p;d",),  # wt.in PROJECTORS: Fe pz px py dz2 dxz dyz dx2-y2 dxy
        headline=("ahc", "xy"),
        why_headline="the anomalous Hall σ_xy of bcc Fe m ∥ z is the classic benchmark "
                     "(Yao 2004); the magnetic group allows no other AHC component",
        floor=10.0, two_d=False, ahc=True,
        literature={"AHC σ_xy": "751 S/cm computed, 1032 S/cm measured: Yao et al., PRL 92, "
                                "037204 (2004)"},
        full=Discretization(start_mesh=16, budget_k=3_000_000, curve_mesh=32, curve_points=41),
        quick=_QUICK,
        # the fit's on-site exchange term (tbspin's magnetization check): −748 meV · s_z
        exchange=(0.0, 0.0, -0.748)),
    "bi2se3": Material(
        key="bi2se3", name="Bi2Se3", kind="3D topological insulator (R-3m), Bi p + Se p",
        folder="bi2se3_wanniertools", hr="wannier90_hr.dat.tar.gz",
        side_files=("wannier90.win", "POSCAR"), spin_order="block", efermi=4.4195,
        lattice=None, atoms=None, magmom=None, projections=None,
        headline=("shc", "yzx"),
        why_headline="σ^y_zx is the component of the paper (Fig. 1, PRB 108, 195434) and the "
                     "one tbspin 0.2 computed on this file (proper −417 ± 15)",
        floor=5.0, two_d=False, ahc=False,
        literature={"proper σ^y_zx (tbspin 0.2, unsymmetrized hr file)": "−417 ± 15 (ħ/e) S/cm",
                    "in the gap": "not quantized in 3D; the paper's Bi2Se3 model gives a "
                                  "finite proper σ^y_zx in the bulk gap"},
        full=Discretization(start_mesh=12, budget_k=6_000_000, curve_mesh=20, curve_points=41),
        quick=_QUICK, n_occupied=18),
    "wse2": Material(
        key="wse2", name="1T'-WSe2", kind="2D quantum spin Hall insulator (P2_1/m), 28 Å slab "
        "cell, W s d + Se p", folder="wse2_1tp_wanniertools", hr="wannier90_hr.dat.tar.gz",
        side_files=("wannier90.win",), spin_order="block", efermi=-2.96, lattice=None,
        atoms=None, magmom=None, projections=None, headline=("shc", "zxy"),
        why_headline="σ^z_xy is the spin Hall conductance a QSH insulator with conserved s_z "
                     "quantizes to 2 × e/4π = e/2π",
        floor=0.02, two_d=True, ahc=False,
        literature={"QSH with conserved s_z": "|σ^z_xy| = 2 e/4π (e/2π); s_z is not conserved "
                                              "with SOC in 1T'-WSe2: expect a value near, "
                                              "not at, 2"},
        # proper: gap-refined from 80² with 0.06 eV; the pilot bounds the gap and the s_z
        # splitting over each cell (benchmarks/README.md, eighteenth session: 0.4–0.6 % from
        # one 80² tree of 1.1 M evaluations, against 7–9 % from the value at the pilot point)
        # curves: the conventional ones on 144² sub-meshes (20 736 k-points), the proper ones
        # one gap-refined 48² pass (589 824 evaluations; nineteenth session)
        full=Discretization(start_mesh=24, budget_k=6_000_000, curve_mesh=144, curve_points=41,
                            proper_gap=(80, 0.06), proper_curve_mesh=48),
        quick=_QUICK, n_occupied=28),  # counted: 28 bands below −2.96 eV (not 36)
}


def select(only: str | None) -> list[Material]:
    """The materials named in ``only`` ("pt,fe"; None: all), in table order."""
    from tbspin.errors import ParameterError

    if only is None or only.strip() in ("", "all"):
        return list(MATERIALS.values())
    keys = [k.strip().lower() for k in only.split(",") if k.strip()]
    bad = [k for k in keys if k not in MATERIALS]
    if bad:
        raise ParameterError(f"unknown material(s) {bad}; choose from {sorted(MATERIALS)}")
    return [m for m in MATERIALS.values() if m.key in keys]
