"""File input/output: Wannier90 readers and writers, atomic result files."""
