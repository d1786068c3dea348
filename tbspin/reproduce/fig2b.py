"""Fig. 2b of Liu, Cullen & Culcer (2023); the computation lives in :mod:`tbspin.reproduce.fig2`."""

from tbspin.reproduce.fig2 import run_fig2b as run

__all__ = ["run"]
