"""A model's crystal structure: lattice, atoms, species (and magnetic moments).

Storage
-------
:class:`tbspin.LatticeModel` is immutable and fingerprinted on its Hamiltonian. The structure is
a companion object kept in ``model.metadata["atoms"]`` ({"symbols", "positions" (Cartesian Å),
"from", optional "magmoms"}): :func:`tbspin.io.read_wannier90` already fills it from the
``.win`` (``atoms_cart``/``atoms_frac``) or a ``POSCAR`` next to the Hamiltonian file, and
:func:`with_structure` attaches one (from an :class:`ase.Atoms`, a file, or a
:class:`CrystalStructure`). Metadata is provenance and not in the fingerprint: the structure
decides *which* symmetry is imposed; once imposed, the symmetrized hoppings (which are
fingerprinted) carry it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tbspin.errors import MissingDependencyError, ModelError, ParameterError
from tbspin.types import ArrayLike, FloatArray, PathLike

if TYPE_CHECKING:
    from tbspin.model.lattice import LatticeModel

__all__ = ["CrystalStructure", "structure_of", "with_structure", "read_structure"]


@dataclasses.dataclass(frozen=True, eq=False)
class CrystalStructure:
    """Lattice vectors (rows, Å), atomic positions (Cartesian Å), species, optional moments.

    Attributes
    ----------
    lattice : (3, 3) float array
    positions : (n_atoms, 3) float array
        Cartesian, Å.
    symbols : tuple of str
        Chemical symbols (or any species labels used by the ``.win`` projections).
    magmoms : (n_atoms, 3) float array or None
        Magnetic moments (μ_B, Cartesian axial vectors) for magnetic space groups.
    source : str
        Where the structure came from.
    """

    lattice: FloatArray
    positions: FloatArray
    symbols: tuple[str, ...]
    magmoms: FloatArray | None = None
    source: str = "argument"

    def __post_init__(self) -> None:
        lat = np.array(self.lattice, dtype=float)
        pos = np.array(self.positions, dtype=float).reshape(-1, 3)
        if lat.shape != (3, 3) or abs(np.linalg.det(lat)) < 1e-8:
            raise ModelError(f"structure ({self.source}): lattice must be 3 linearly "
                             f"independent vectors (3×3), got shape {lat.shape}")
        if len(self.symbols) != len(pos) or len(pos) == 0:
            raise ModelError(f"structure ({self.source}): {len(self.symbols)} symbols for "
                             f"{len(pos)} positions")
        if not np.all(np.isfinite(pos)):
            raise ModelError(f"structure ({self.source}): positions contain NaN or Inf")
        mag = None
        if self.magmoms is not None:
            mag = np.array(self.magmoms, dtype=float)
            if mag.ndim == 1 and mag.shape == (len(pos),):  # collinear along z
                mag = np.stack([np.zeros_like(mag), np.zeros_like(mag), mag], axis=1)
            if mag.shape != (len(pos), 3) or not np.all(np.isfinite(mag)):
                raise ParameterError(f"magmoms must be ({len(pos)},) or ({len(pos)}, 3) finite "
                                     f"values, got shape {mag.shape}")
        object.__setattr__(self, "lattice", lat)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "symbols", tuple(str(s) for s in self.symbols))
        object.__setattr__(self, "magmoms", mag)

    @property
    def fractional(self) -> FloatArray:
        """Positions in units of the lattice vectors (n_atoms, 3)."""
        return np.linalg.solve(self.lattice.T, self.positions.T).T

    @property
    def species_numbers(self) -> list[int]:
        """One integer per distinct symbol (spglib's ``types``)."""
        order = list(dict.fromkeys(self.symbols))
        return [order.index(s) + 1 for s in self.symbols]

    def with_magmoms(self, magmoms: ArrayLike | None) -> CrystalStructure:
        """A copy with magnetic moments (μ_B; (n,) collinear along z or (n, 3))."""
        return dataclasses.replace(self, magmoms=None if magmoms is None else np.asarray(magmoms))

    @classmethod
    def from_ase(cls, atoms: Any, *, source: str = "ase.Atoms") -> CrystalStructure:
        """From an :class:`ase.Atoms` (initial magnetic moments become ``magmoms``)."""
        mag = None
        if atoms.has("initial_magmoms"):
            mag = np.asarray(atoms.get_initial_magnetic_moments(), dtype=float)
        return cls(lattice=np.array(atoms.cell[:]), positions=atoms.get_positions(),
                   symbols=tuple(atoms.get_chemical_symbols()), magmoms=mag, source=source)

    def to_ase(self) -> Any:
        """The structure as an :class:`ase.Atoms` (periodic in all directions)."""
        try:
            from ase import Atoms
        except ImportError:
            raise MissingDependencyError("to_ase needs ASE (pip install ase)") from None
        atoms = Atoms(symbols=list(self.symbols), positions=self.positions, cell=self.lattice,
                      pbc=True)
        if self.magmoms is not None:
            atoms.set_initial_magnetic_moments(self.magmoms)
        return atoms

    def as_metadata(self) -> dict[str, Any]:
        """The ``metadata["atoms"]`` entry of a model."""
        md: dict[str, Any] = {"symbols": list(self.symbols), "positions": self.positions.tolist(),
                              "lattice": self.lattice.tolist(), "from": self.source}
        if self.magmoms is not None:
            md["magmoms"] = self.magmoms.tolist()
        return md


def read_structure(path: PathLike) -> CrystalStructure:
    """A structure from a Wannier90 ``.win`` (``unit_cell_cart`` + ``atoms_cart``/``atoms_frac``)
    or any file ASE reads (``POSCAR``, CIF, ...).

    Raises
    ------
    WannierFormatError
        A ``.win`` without lattice or atoms, or a file ASE cannot read.
    """
    from tbspin.errors import WannierFormatError
    from tbspin.io.wannier90.side_files import read_poscar, read_win

    p = Path(path)
    if p.suffix.lower() == ".win":
        win = read_win(p)
        if win.lattice is None or win.atom_positions is None:
            raise WannierFormatError("needs unit_cell_cart and atoms_cart/atoms_frac blocks for "
                                     "a crystal structure", path=str(p))
        return CrystalStructure(lattice=win.lattice, positions=win.atom_positions,
                                symbols=tuple(win.atom_symbols), source=str(p))
    if "poscar" in p.name.lower() or "contcar" in p.name.lower() or p.suffix == ".vasp":
        win = read_poscar(p)
        assert win.lattice is not None and win.atom_positions is not None
        return CrystalStructure(lattice=win.lattice, positions=win.atom_positions,
                                symbols=tuple(win.atom_symbols), source=str(p))
    try:
        from ase.io import read
    except ImportError:
        raise MissingDependencyError(f"reading {p} needs ASE (pip install ase)") from None
    try:
        atoms = read(str(p))
    except Exception as exc:  # ASE raises assorted types
        raise WannierFormatError(f"ASE cannot read a structure ({exc})", path=str(p)) from None
    if isinstance(atoms, list):
        atoms = atoms[-1]
    return CrystalStructure.from_ase(atoms, source=str(p))


def structure_of(model: LatticeModel) -> CrystalStructure:
    """The crystal structure a model carries (``metadata["atoms"]``; module docstring).

    Raises
    ------
    ModelError
        The model has no structure: the message says how to attach one.
    """
    atoms = model.metadata.get("atoms")
    if not isinstance(atoms, dict) or "positions" not in atoms:
        raise ModelError(
            f"model {model.name!r} carries no crystal structure: attach one with "
            "tbspin.crystal.with_structure(model, atoms_or_path) (ase.Atoms, .win or POSCAR)")
    if model.dim != 3:
        raise ModelError(f"crystal symmetry needs a 3D lattice; model {model.name!r} is "
                         f"{model.dim}D")
    lattice = np.asarray(atoms.get("lattice", model.lattice), dtype=float)
    if not np.allclose(lattice, model.lattice, atol=1e-4):
        raise ModelError(f"model {model.name!r}: the structure's lattice differs from the "
                         "model's lattice vectors")
    return CrystalStructure(lattice=np.asarray(model.lattice), positions=atoms["positions"],
                            symbols=tuple(atoms["symbols"]), magmoms=atoms.get("magmoms"),
                            source=str(atoms.get("from", "metadata")))


def with_structure(
    model: LatticeModel, structure: CrystalStructure | Any | PathLike,
    *, magmoms: ArrayLike | None = None,
) -> LatticeModel:
    """A copy of ``model`` carrying ``structure`` (a :class:`CrystalStructure`, an
    :class:`ase.Atoms`, or the path of a ``.win``/``POSCAR``/any ASE-readable file).

    The lattice must equal the model's (within 1e-4 Å); ``magmoms`` (μ_B) are attached for
    magnetic space groups. The fingerprint does not change (module docstring).
    """
    if isinstance(structure, (str, Path)):
        st = read_structure(structure)
    elif isinstance(structure, CrystalStructure):
        st = structure
    elif hasattr(structure, "get_chemical_symbols"):
        st = CrystalStructure.from_ase(structure)
    else:
        raise ParameterError("structure must be a CrystalStructure, an ase.Atoms or a file path, "
                             f"got {type(structure).__name__}")
    if model.dim != 3 or not np.allclose(st.lattice, model.lattice, atol=1e-4):
        raise ParameterError(f"structure ({st.source}): its lattice differs from the lattice "
                             f"of model {model.name!r}")
    if magmoms is not None:
        st = st.with_magmoms(magmoms)
    md = dict(model.metadata)
    md["atoms"] = st.as_metadata()
    return model.replace(metadata=md)
