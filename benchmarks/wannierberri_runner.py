"""Runs inside WannierBerri's own virtual environment (started by bench_wannierberri.py).

Usage: python wannierberri_runner.py '<json arguments>'; prints one JSON line (times, values).
Never imported by tbspin; WannierBerri is not a dependency of tbspin.
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
t0 = time.perf_counter()
system = wb.system.System_R.from_hr_file(args["seedname"], wannier_centers_cart=np.zeros((nw, 3)),
                                         real_lattice=np.array(args["lattice"]))
if args["quantity"] == "shc":
    system.set_spin_pairs([(i, i + nw // 2) for i in range(nw // 2)])
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
grid = wb.Grid(system, NKdiv=args["nk"] // nkfft, NKFFT=nkfft)
times = []
for _ in range(args["repeat"]):
    t0 = time.perf_counter()
    res = wb.run(system, grid=grid, calculators={"q": c}, print_Kpoints=False, adpt_num_iter=0,
                 parallel=parallel, fout_name=os.path.join(args["tmp"], "wb"))
    times.append(time.perf_counter() - t0)
data = res.results["q"].data
print(json.dumps({"times": times, "read": t_read, "data": np.asarray(data).real.tolist(),
                  "version": wb.__version__}))
