"""Stage 2 — the Brillouin zone: uniform meshes (``kmesh``), paths (``kpath``), FFT Bloch sums on
whole meshes (``fourier``; on lower triangles, ``triangle``; of shifted sub-meshes, ``family``),
band gaps, inversions and Z₂ parities (``spectrum``)."""
