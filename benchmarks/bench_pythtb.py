"""Issue 11 (c): 2D Chern number, tbspin vs PythTB, on the same model and mesh.

Model: the Haldane model of the catalogue (``tbspin.models.haldane``, M = 0.2, 2 bands), exported
to PythTB with ``LatticeModel.to_pythtb``. PythTB: ``wf_array(model, [n, n])``,
``solve_on_grid([0, 0])``, ``berry_flux([0]) / 2π`` (plaquette Berry phases, Fukui et al.).
tbspin: ``tbspin.chern_number(model, bands=1, mesh=n)`` (Kubo Berry curvature summed over the
mesh). Medians of ``--repeat`` runs, one BLAS thread.

Run:  .venv/bin/python benchmarks/bench_pythtb.py [--n 50 100 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
import pythtb
from common import load, median_time

import tbspin
from tbspin.models import haldane


def pythtb_chern(tb: pythtb.tb_model, n: int) -> float:
    wf = pythtb.wf_array(tb, [n, n])
    wf.solve_on_grid([0.0, 0.0])
    return float(wf.berry_flux([0]) / (2 * np.pi))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = haldane(M=0.2)
        tb = model.to_pythtb()
        print(f"Haldane model (M = 0.2), lower band; PythTB {pythtb.__version__}")
        print(f"{'mesh':>9s} {'PythTB (s)':>11s} {'C':>9s} {'tbspin (s)':>11s} {'C':>9s} "
              f"{'speed-up':>8s} load")
        for n in args.n:
            t_py, c_py = median_time(lambda n=n: pythtb_chern(tb, n), args.repeat)
            t_tb, c_tb = median_time(lambda n=n: tbspin.chern_number(model, bands=1, mesh=n),
                                     args.repeat)
            print(f"{n:4d}x{n:<4d} {t_py:11.3f} {c_py:9.5f} {t_tb:11.3f} {c_tb:9.5f} "
                  f"{t_py / t_tb:8.1f} {load()}", flush=True)


if __name__ == "__main__":
    main()
