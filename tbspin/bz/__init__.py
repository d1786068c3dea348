"""Stage 2 — the Brillouin zone: uniform meshes (``kmesh``), paths (``kpath``), FFT Bloch sums on
whole meshes (``fourier``), band gaps, inversions and Z₂ parities (``spectrum``)."""
