"""Runs inside WannierBerri's own virtual environment (started by bench_wannierberri.py and
bench_materials_wb.py).

Usage: python wannierberri_runner.py '<json arguments>'; prints one JSON line (times, values).
Never imported by tbspin; WannierBerri is not a dependency of tbspin.

Arguments (JSON object): ``num_wann``, ``seedname`` (``<seedname>_hr.dat`` is read), ``lattice``
(rows, Å), ``quantity`` ("ahc" or "shc"), ``efermi`` (eV), ``cpus``, ``nk`` (mesh per
direction), ``nkfft`` (FFT grid per direction, NKdiv = nk / nkfft; default nk), ``repeat``,
``tmp`` (a folder for WannierBerri's output files); optional ``centers`` (Wannier centres,
Cartesian Å; default all at the origin), ``structure`` ({"positions": fractional, "labels",
"magmoms" or null}: the point group is then set from it with spglib,
``set_pointgroup_from_structure``) and ``symmetry`` (bool: run with WannierBerri's
``use_irred_kpt``/``symmetrize``; default true when a structure is given, which is
WannierBerri's own default).
"""

import json
import os
import sys
import time

import numpy as np
import wannierberri as wb
from wannierberri import calculators as calc

args = json.loads(sys.argv[1])
nw = args["num_wann"]
centers = np.array(args.get("centers") or np.zeros((nw, 3)), dtype=float)
t0 = time.perf_counter()
system = wb.system.System_R.from_hr_file(args["seedname"], wannier_centers_cart=centers,
                                         real_lattice=np.array(args["lattice"]))
if args["quantity"] == "shc":
    system.set_spin_pairs([(i, i + nw // 2) for i in range(nw // 2)])
structure = args.get("structure")
use_symmetry = bool(args.get("symmetry", structure is not None))
n_sym = 1
if structure is not None:
    system.set_structure(positions=np.array(structure["positions"], dtype=float),
                         atom_labels=structure["labels"],
                         magnetic_moments=(None if structure.get("magmoms") is None
                                           else np.array(structure["magmoms"], dtype=float)))
    system.set_pointgroup_from_structure()
    n_sym = int(system.pointgroup.size)
t_read = time.perf_counter() - t0
ef = np.array(args["efermi"])
if args["quantity"] == "ahc":
    c = calc.static.AHC(Efermi=ef, kwargs_formula={"external_terms": False})
else:
    c = calc.static.SHC(Efermi=ef, kwargs_formula={"spin_current_type": "simple",
                                                    "external_terms": False})
parallel = args["cpus"] > 1
if parallel:
    import ray
    ray.init(num_cpus=args["cpus"], include_dashboard=False, log_to_driver=False)
nkfft = args.get("nkfft") or args["nk"]  # FFT grid per direction; NKdiv = nk / nkfft of them
times = []
for _ in range(args["repeat"]):
    t0 = time.perf_counter()
    # the grid is part of the timed work: with a point group it builds the irreducible K-points
    grid = wb.Grid(system, NKdiv=args["nk"] // nkfft, NKFFT=nkfft)
    res = wb.run(system, grid=grid, calculators={"q": c}, print_Kpoints=False, adpt_num_iter=0,
                 parallel=parallel, use_irred_kpt=use_symmetry, symmetrize=use_symmetry,
                 fout_name=os.path.join(args["tmp"], "wb"))
    times.append(time.perf_counter() - t0)
data = res.results["q"].data
print(json.dumps({"times": times, "read": t_read, "data": np.asarray(data).real.tolist(),
                  "version": wb.__version__, "n_symmetries": n_sym}))
