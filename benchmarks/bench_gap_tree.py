"""Gap-refined passes against plain randomized meshes of the same cost, on the proper spin Hall
headlines of the materials table (symmetrized fits, E_F in the gap).

The proper σ of a symmetrized Wannier fit is heavy-tailed: its variance sits in 1/Δ² peaks of
occupied pairs at avoided crossings (``bench_proper_tail.py``). :mod:`tbspin.sampling.gaptree`
splits, before sampling, the cells where a pilot ``eigvalsh`` finds two bands with occupied
weight closer than ``--gap`` (halved per level), or where the gauge operator's splitting inside
an occupied Kramers pair may fall below ``--gauge-split`` × ‖G‖ in the cell (halved per level;
0: off), and samples the fixed tree with M = 16 shifts; unless ``--no-plain``, each such pass is
followed by a plain randomized mesh (:func:`randomized_mesh`, M = 16) with the same number of
integrand evaluations. Printed: value ± error (and relative), evaluations, pilot points, cells
split by the gauge criterion, seconds.

Usage: ``python benchmarks/bench_gap_tree.py --material wse2 --gap 0.06 --levels 6
--meshes 80 80 [--gauge-split 0.1] [--seed 100] [--no-plain] [--workers 2]`` (Bi₂Se₃:
``--material bi2se3 --gap 0.1 --levels 5 --meshes 12 16 20``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
from common import symmetrized_proper

from tbspin import units
from tbspin.sampling import gap_refined, randomized_mesh
from tbspin.sampling.gaptree import GAUGE_SPLIT


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--material", default="wse2", choices=["wse2", "bi2se3"])
    ap.add_argument("--gap", type=float, default=0.06)
    ap.add_argument("--levels", type=int, default=6)
    ap.add_argument("--gauge-split", type=float, default=GAUGE_SPLIT,
                    help="level-0 threshold of the gauge criterion (share of |G|; 0: off)")
    ap.add_argument("--seed", type=int, default=100, help="seed of the first tree")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain comparison mesh")
    ap.add_argument("--meshes", type=int, nargs="+", default=[80, 80])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    mat, model, kern = symmetrized_proper(args.material)
    unit = "e/4pi" if model.n_periodic == 2 else "(hbar/e) S/cm"
    f = units.conversion_factor("shc", model.n_periodic, unit)[0]

    def show(label, r, seconds, extra=""):
        v, e = f * r.values[0], abs(f) * r.errors[0]
        print(f"  {label}: {v:.4g} ± {e:.3g} {unit} ({e / abs(v):.1%}), {r.n_k} evaluations"
              f"{extra}, {seconds:.0f} s", flush=True)

    for i, n in enumerate(args.meshes):
        print(f"{mat.name}, base mesh {n}, gap {args.gap} eV, gauge split {args.gauge_split}, "
              f"{args.levels} levels, seed {args.seed + i}:", flush=True)
        t = time.perf_counter()
        r = gap_refined(kern, model, mat.efermi, mesh=n, gap=args.gap, levels=args.levels,
                        gauge_split=args.gauge_split, n_shifts=16, seed=args.seed + i,
                        workers=args.workers)
        h = r.history[0]
        show("gap-refined", r, time.perf_counter() - t,
             f" + {h['pilot_points']} pilot ({h['gauge_splits']} cells split by the gauge "
             f"criterion), leaves {r.refinement}")
        if args.no_plain:
            continue
        m = int(round((r.n_k / 16) ** (1 / model.n_periodic)))
        t = time.perf_counter()
        p = randomized_mesh(kern, model, mat.efermi, mesh=m, n_shifts=16, seed=200 + i,
                            workers=args.workers)
        show(f"randomized {m}^{model.n_periodic}", p, time.perf_counter() - t)


if __name__ == "__main__":
    main()
