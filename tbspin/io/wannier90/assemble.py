"""``read_wannier90``: one call from Wannier90 files to a :class:`~tbspin.LatticeModel`.

Steps (each a function below): find the Hamiltonian file and its side files; read H_R (and r_R);
find the lattice (``lattice=``, ``_tb.dat``, ``.win``, else a ``POSCAR`` next to the file);
check Hermiticity (:func:`tbspin.model.hoppings.hermiticity_violation`); apply the Wigner–Seitz
shifts; find the orbital positions; attach spin operators (:mod:`tbspin.model.spin`) and check the
spinor order; build the model through the one ``LatticeModel`` constructor, the position matrix
through ``with_position_matrix``; record provenance in ``metadata``.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np

from tbspin.errors import ParameterError, WannierFormatError
from tbspin.io.wannier90.readers import Wannier90Data, read_hr, read_tb
from tbspin.io.wannier90.side_files import (
    Win,
    read_centres,
    read_poscar,
    read_win,
    read_wout_centres,
    read_wsvec,
)
from tbspin.io.wannier90.text import COMPRESSED, HERMITIAN_WARN, WannierWarning, sha256
from tbspin.io.wannier90.wsdistance import apply_ws_distance
from tbspin.model.hoppings import hermiticity_violation
from tbspin.model.lattice import LatticeModel
from tbspin.model.spin import SpinOrderWarning, check_spin_order, spin_operators, validate_spin_order
from tbspin.types import ArrayLike, ComplexArray, FloatArray, IntArray, PathLike

__all__ = ["read_wannier90"]

log = logging.getLogger(__name__)

_KINDS = (("_hr.dat", "hr"), ("_tb.dat", "tb"))
_ENDINGS = ("", *COMPRESSED)
LATTICE_HELP = ("pass lattice= (3×3, rows a1, a2, a3 in Å) in Python, or on the command line "
                "--lattice a1x,a1y,a1z,a2x,a2y,a2z,a3x,a3y,a3z")


# ---------------------------------------------------------------------- files
def _kind_of(name: str) -> tuple[str, str] | None:
    """(seed name, kind) when ``name`` is ``seed_hr.dat`` / ``seed_tb.dat`` (maybe compressed)."""
    for suffix, kind in _KINDS:
        for end in _ENDINGS:
            if name.endswith(suffix + end):
                return name[: -len(suffix + end)], kind
    return None


def _resolve(path: PathLike, use_position_matrix: bool) -> tuple[Path, str, str]:
    """Return (main file, kind 'hr'|'tb', seed prefix path string).

    ``path`` is a ``seed_hr.dat``/``seed_tb.dat`` file (plain, ``.gz`` or ``.tar.gz``), a prefix
    ``dir/seed``, or a folder holding exactly one seed.
    """
    p = Path(path)
    found = _kind_of(p.name)
    if found is not None:
        if not p.is_file():
            raise WannierFormatError("file not found" if not p.exists() else
                                     "is not a regular file", path=str(p))
        return p, found[1], str(p.with_name(found[0]))
    if p.is_dir():
        seeds = sorted({s for f in p.iterdir() if (s := _kind_of(f.name)) and f.is_file()})
        names = sorted({s for s, _ in seeds})
        if not names:
            raise WannierFormatError("folder holds no seedname_hr.dat or seedname_tb.dat "
                                     "(plain, .gz or .tar.gz)", path=str(p))
        if len(names) > 1:
            raise WannierFormatError(f"folder holds several Wannier90 seednames {names}: give "
                                     "the _hr.dat/_tb.dat file or the prefix dir/seedname",
                                     path=str(p))
        p = p / names[0]
    preferred = ("tb", "hr") if use_position_matrix else ("hr", "tb")
    for kind in preferred:
        suffix = dict((k, s) for s, k in _KINDS)[kind]
        for end in _ENDINGS:
            f = Path(f"{p}{suffix}{end}")
            if f.is_file():
                return f, kind, str(p)
    raise WannierFormatError(
        f"no Wannier90 Hamiltonian for prefix {str(p)!r}: neither {p.name}_hr.dat nor "
        f"{p.name}_tb.dat (plain, .gz or .tar.gz) exists in {p.parent}",
        path=f"{p}_hr.dat")


def _side_file(path: Path) -> Path | None:
    """``path`` if it is a file, None if absent; anything else there is an error (a directory
    or a dangling link would otherwise be skipped silently and change the model)."""
    if path.is_file():
        return path
    if os.path.lexists(path):
        what = "a directory" if path.is_dir() else "not a readable regular file"
        raise WannierFormatError(
            f"{what} where tbspin looks for the side file {path.name}: remove or rename it "
            "(or pass the matching option, e.g. use_ws_distance=False)", path=str(path))
    return None


# ---------------------------------------------------------------------- lattice
def _lattice(
    lattice: ArrayLike | None, data: Wannier90Data, main: Path, win: Win | None, seed: str,
    used: list[tuple[str, Path]],
) -> tuple[FloatArray, int, str, Win | None]:
    """(lattice (d, d) Å, d, where it came from, POSCAR content if read)."""
    sources: list[tuple[str, FloatArray]] = []
    if data.lattice is not None:
        sources.append((str(main), data.lattice))
    if win is not None and win.lattice is not None:
        sources.append((str(win.path), win.lattice))
    if len(sources) == 2 and not np.allclose(sources[0][1], sources[1][1], atol=1e-5, rtol=1e-6):
        raise WannierFormatError(
            f"lattice vectors differ between {sources[0][0]} and {sources[1][0]} "
            f"(max difference {np.max(np.abs(sources[0][1] - sources[1][1])):.2e} Å)",
            path=sources[1][0])
    if lattice is not None:
        lat = np.array(lattice, dtype=float)
        d = lat.shape[0] if lat.ndim == 2 else 0
        if lat.ndim != 2 or lat.shape != (d, d) or d not in (1, 2, 3) or \
                not np.all(np.isfinite(lat)):
            raise ParameterError(f"lattice= must be a finite (d, d) array with d in 1..3, got "
                                 f"shape {lat.shape}")
        if sources and not np.allclose(sources[0][1][:d, :d], lat, atol=1e-5, rtol=1e-6):
            raise WannierFormatError(
                f"lattice= {lat.tolist()} differs from the lattice in {sources[0][0]} "
                f"{sources[0][1].tolist()}; drop one of them", path=sources[0][0])
        return lat, d, "argument", None
    if sources:
        return sources[0][1], 3, sources[0][0], None
    poscar_path = _side_file(Path(seed).with_name("POSCAR"))
    if poscar_path is not None:
        poscar = read_poscar(poscar_path)
        assert poscar.lattice is not None
        used.append(("poscar", poscar_path))
        return poscar.lattice, 3, str(poscar_path), poscar
    where = Path(seed)
    raise WannierFormatError(
        f"no lattice vectors: an _hr.dat file holds none, {where.name}.win is missing or has "
        f"no unit_cell_cart block, and there is no POSCAR in {where.parent}; {LATTICE_HELP} "
        "(or put the .win, a POSCAR or the _tb.dat next to the file)", path=str(main))


# ---------------------------------------------------------------------- Hermiticity
def _check_hermiticity(data: Wannier90Data, tol: float) -> float:
    """Raise/warn on H_R != H_{-R}^dagger; return the worst violation (eV)."""
    worst, Rv, m, n = hermiticity_violation(data.R, data.H)
    b = int(np.nonzero(np.all(data.R == np.array(Rv), axis=1))[0][0]) if Rv is not None else 0
    line = int(data.block_line[b]) if len(data.block_line) else None
    if worst == np.inf:
        raise WannierFormatError(
            f"R={Rv} is listed but -R is not: the Hamiltonian cannot be Hermitian",
            path=str(data.path), line=line)
    N = data.num_wann
    partner = ""
    if data.entry_line.size and Rv is not None:  # the lines of both elements compared
        line = int(data.entry_line[b, m * N + n])
        minus = np.nonzero(np.all(data.R == -np.array(Rv), axis=1))[0]
        if minus.size:
            partner = f" (line {line}) vs line {int(data.entry_line[minus[0], n * N + m])}"
    where = (f"|H_R[m,n] - conj(H_-R[n,m])| = {worst:.3e} eV at R={Rv}, m={m + 1}, "
             f"n={n + 1}{partner}")
    if worst > tol:
        raise WannierFormatError(f"Hamiltonian is not Hermitian: {where} "
                                 f"(hermitian_tol={tol:g} eV)", path=str(data.path), line=line)
    if worst > HERMITIAN_WARN:
        warnings.warn(f"{data.path}: small non-Hermiticity {where}; using (H_R + H_-R^†)/2",
                      WannierWarning, stacklevel=3)
    return worst


# ---------------------------------------------------------------------- positions
def _positions(
    positions: ArrayLike | None, data: Wannier90Data, main: Path, seed: str, d: int,
    win: Win | None, used: list[tuple[str, Path]],
    sites: tuple[FloatArray, Win | None, str | None] | None = None,
) -> tuple[FloatArray, str]:
    """Orbital positions (N, d) Cartesian Å and where they came from; ``sites`` = (lattice,
    POSCAR, spin order) for the projection-site fallback."""
    N = data.num_wann
    if positions is not None:
        pos = np.array(positions, dtype=float)
        if pos.shape != (N, d) or not np.all(np.isfinite(pos)):
            raise ParameterError(f"positions= must be a finite ({N}, {d}) array (Cartesian Å), "
                                 f"got shape {pos.shape}")
        return pos, "argument"
    centres = _side_file(Path(seed + "_centres.xyz"))
    if centres is not None:
        used.append(("centres", centres))
        if win is not None and win.keywords.get("translate_home_cell", "").lower().strip(
                ".") in ("true", "t"):
            warnings.warn(
                f"{win.path} sets translate_home_cell: the centres in {centres} were moved into "
                "the home cell and may not match the R labels of the Hamiltonian; Berry-phase "
                "quantities depend on this", WannierWarning, stacklevel=3)
        return read_centres(centres, N)[:, :d], str(centres)
    wout = _side_file(Path(seed + ".wout"))
    if wout is not None:
        used.append(("wout", wout))
        return read_wout_centres(wout, N)[:, :d], f"{wout} (final state)"
    if data.r is not None:
        zero = np.nonzero(~np.any(data.R != 0, axis=1))[0]
        if len(zero) == 0:
            raise WannierFormatError("no R = 0 block", path=str(main))
        diag = np.diagonal(data.r[zero[0]], axis1=1, axis2=2).T  # (N, 3)
        return np.real(diag)[:, :d] * data.ndegen[zero[0]], f"{main} (diagonal of r at R=0)"
    if win is not None and sites is not None and d == 3:
        # no centres file: the sites of the .win projections (atoms of the .win or POSCAR)
        from ...crystal.basis import projection_centres

        lat, poscar, order = sites
        atoms = win if win.atom_positions is not None else poscar
        if atoms is not None and atoms.atom_positions is not None:
            pc = projection_centres(win.path, lat, atoms.atom_symbols, atoms.atom_positions,
                                    order, N)
            if pc is not None:
                return pc, f"{win.path} (projection sites)"
    warnings.warn(
        f"no Wannier centres for {main} ({Path(seed).name}_centres.xyz and .wout missing, "
        "positions= not given): all orbitals are put at the origin, so the Bloch phase ignores "
        "their positions (band energies are unaffected; Berry curvature and conductivities are "
        "not)", WannierWarning, stacklevel=3)
    return np.zeros((N, d)), "none (origin)"


# ---------------------------------------------------------------------- spin
def _declared_spinors(win: Win | None) -> bool | None:
    """What the .win says about spinors (Wannier90's default is .false.); None without .win."""
    if win is None:
        return None
    return win.keywords.get("spinors", "false").lower().strip(".") in ("true", "t")


def _spin(
    spin_order: str | None, data: Wannier90Data, H: ComplexArray, main: Path, win: Win | None,
    R: IntArray,
) -> tuple[dict[str, ComplexArray], dict[str, float] | None]:
    """Spin operators for ``spin_order`` (empty without it) and the spin-mixing numbers."""
    if spin_order is None:
        return {}, None
    N = data.num_wann
    if N % 2:
        raise ParameterError(
            f"spin_order={spin_order!r} needs pairs of spinor Wannier functions, but {main} has "
            f"num_wann={N} (odd): these cannot be spinors; drop spin_order")
    declared = _declared_spinors(win)
    if declared is False:
        assert win is not None
        warnings.warn(
            f"spin_order={spin_order!r} was given, but {win.path} does not set spinors = .true. "
            "(Wannier90's default is .false.): are these spinor Wannier functions?",
            SpinOrderWarning, stacklevel=3)
    given, other = check_spin_order(H, spin_order, R=R, source=str(main), stacklevel=4,
                                    judge_spinors=declared is None)
    alt = "block" if spin_order == "interleaved" else "interleaved"
    return spin_operators(N, spin_order), {spin_order: given, alt: other}


# ---------------------------------------------------------------------- the one call
def read_wannier90(
    path: PathLike,
    *,
    spin_order: str | None = None,
    lattice: ArrayLike | None = None,
    positions: ArrayLike | None = None,
    use_ws_distance: bool | str = "auto",
    use_position_matrix: bool = False,
    hermitian_tol: float = 1e-4,
    name: str | None = None,
) -> LatticeModel:
    """Build a :class:`~tbspin.LatticeModel` from Wannier90 output.

    Parameters
    ----------
    path : path-like
        ``dir/seedname`` (prefix), a ``seedname_hr.dat`` / ``seedname_tb.dat`` file (also
        ``.gz`` or a ``.tar.gz`` holding only it), or a folder with one seedname. Side files
        ``seedname_wsvec.dat``, ``seedname_centres.xyz``, ``seedname.win``, ``seedname.wout``
        and ``POSCAR`` are looked up next to it.
    spin_order : {"interleaved", "block"}, optional
        Spinor order of the Wannier functions (:mod:`tbspin.model.spin`); attaches ``sx, sy, sz``
        (units of ħ/2). Required for any spin observable. A :class:`tbspin.model.spin.SpinOrderWarning`
        says when the other order separates spin clearly better (spin mixing, or for magnets the
        on-site pairing of the spin partners), when neither measure can verify the order, or
        when the file shows no sign of spinors.
    lattice : (d, d) array_like, optional
        Lattice vectors (rows, Å). Needed when neither ``_tb.dat``, ``.win`` (``unit_cell_cart``)
        nor a ``POSCAR`` next to the file gives them; if a side file has a lattice too, both must
        agree. With d < 3 the model is d-dimensional (the file's R must then vanish along the
        dropped directions).
    positions : (N, d) array_like, optional
        Orbital positions (Cartesian Å); default: ``_centres.xyz``, else the final centres of
        ``.wout``, else the diagonal of r_{R=0} from ``_tb.dat``, else the sites of the ``.win``
        projections (atoms from the ``.win`` or ``POSCAR``), else the origin (with a warning).
    use_ws_distance : bool or "auto"
        Apply the ``_wsvec.dat`` shifts: "auto" when the file exists, True requires it.
    use_position_matrix : bool
        Prefer ``_tb.dat`` for a prefix, and let Berry connections include its full position
        matrix r_R (:meth:`tbspin.LatticeModel.wannier_connection`); otherwise the diagonal
        tight-binding approximation is used (the matrix is still kept for ``write_tb``).
    hermitian_tol : float
        Largest accepted |H_R − H_{−R}†| (eV); larger raises WannierFormatError.
    name : str, optional
        Model name (default: the seedname).

    Returns
    -------
    LatticeModel
        ``metadata["source"]`` = {"reader": "wannier90", "files": [{"role", "path", "sha256"}],
        "spin_order"}; ``metadata["parameters"]`` = the reader options; plus ``header``,
        ``num_wann``, ``ws_distance`` (applied or not), ``lattice_from``, ``positions_from``,
        ``position_operator``, ``hermiticity_violation`` (eV), ``spin_mixing`` (both orders,
        with ``spin_order``), atoms (from ``.win`` or ``POSCAR``) and ``spinors`` (``.win``).

    Raises
    ------
    WannierFormatError
        Malformed or missing files (message names file and line), non-Hermitian H, a side-file
        path that is a directory, no lattice anywhere (the message says how to pass one).
    ParameterError
        Bad ``spin_order`` (or ``spin_order`` with an odd num_wann), ``lattice``, ``positions``,
        ``use_ws_distance`` or ``hermitian_tol``.
    """
    if spin_order is not None:
        validate_spin_order(spin_order)
    if use_ws_distance not in (True, False, "auto"):
        raise ParameterError(
            f"use_ws_distance must be True, False or 'auto', got {use_ws_distance!r}")
    if not (isinstance(hermitian_tol, (int, float)) and 0 <= hermitian_tol < np.inf):
        raise ParameterError(f"hermitian_tol must be a finite number >= 0 (eV), got "
                             f"{hermitian_tol!r}")
    main, kind, seed = _resolve(path, use_position_matrix)
    if use_position_matrix and kind != "tb":
        raise WannierFormatError(
            "use_position_matrix=True needs the position matrix of seedname_tb.dat",
            path=str(Path(seed + "_tb.dat")))
    data = read_tb(main) if kind == "tb" else read_hr(main)
    N = data.num_wann
    used: list[tuple[str, Path]] = [(kind, main)]
    win_path = _side_file(Path(seed + ".win"))
    win = read_win(win_path) if win_path is not None else None
    if win_path is not None:
        used.append(("win", win_path))
    ws_path = _side_file(Path(seed + "_wsvec.dat")) if use_ws_distance is not False else None
    if use_ws_distance is True and ws_path is None:
        raise WannierFormatError("use_ws_distance=True but the file is missing",
                                 path=seed + "_wsvec.dat")

    lat, d, lattice_from, poscar = _lattice(lattice, data, main, win, seed, used)
    worst = _check_hermiticity(data, hermitian_tol)

    R, H, r = data.R, data.H, data.r
    applied = use_ws_distance is not False and ws_path is not None
    if applied:
        assert ws_path is not None
        R, H, r = apply_ws_distance(R, H, read_wsvec(ws_path, N), r)
        used.append(("wsvec", ws_path))
    if d < 3:
        extra = np.any(R[:, d:] != 0, axis=1)
        if extra.any():
            raise WannierFormatError(
                f"lattice= is {d}-dimensional but the file has hoppings along the dropped "
                f"direction(s) (R={tuple(int(x) for x in R[extra][0])})", path=str(main))
        R = R[:, :d]

    pos, pos_source = _positions(positions, data, main, seed, d, win, used,
                                 sites=(lat, poscar, spin_order))
    operators, mixing = _spin(spin_order, data, H, main, win, R)

    metadata = _metadata(
        data, used, spin_order, mixing, win, poscar,
        parameters=dict(spin_order=spin_order,
                        lattice=None if lattice is None else lat.tolist(),
                        positions=None if positions is None else pos.tolist(),
                        use_ws_distance=use_ws_distance, use_position_matrix=use_position_matrix,
                        hermitian_tol=float(hermitian_tol), name=name),
        ws_distance=applied, lattice_from=lattice_from, positions_from=pos_source,
        hermiticity_violation=worst,
        position_operator="full" if use_position_matrix else "diagonal")
    # Hermitian part: each hopping once at R with weight 1/2 and once, conjugated, at -R;
    # contiguous positions: LatticeModel's einsum path (and the last bit of H(k)) depends on it
    log.info("read %s: num_wann=%d, %d R vectors, ws_distance=%s", main, N, len(R), applied)
    model = LatticeModel(
        lattice=lat, positions=np.ascontiguousarray(pos, dtype=float),
        R=np.concatenate([R, -R]),
        hoppings=np.concatenate([H, H.conj().transpose(0, 2, 1)]) * 0.5,
        operators=operators, name=name or Path(seed).name, metadata=metadata,
    )
    if r is not None:
        model = _attach_position_matrix(model, R, r[:, :d], use_position_matrix)
    return model


def _attach_position_matrix(
    model: LatticeModel, R: IntArray, r: ComplexArray, use: bool
) -> LatticeModel:
    """The model with the file's position matrix (typed field ``LatticeModel.position_matrix``);
    Berry connections use it only with ``use`` (``use_position_matrix=True``), else the diagonal
    tight-binding approximation (the matrix is kept for ``write_tb``)."""
    return model.with_position_matrix(R, r, use=use)


def _metadata(
    data: Wannier90Data, used: list[tuple[str, Path]], spin_order: str | None,
    mixing: dict[str, float] | None, win: Win | None, poscar: Win | None,
    parameters: dict[str, object], **facts: object,
) -> dict[str, object]:
    """Provenance: source files with checksums, reader options, what was found where."""
    md: dict[str, object] = {
        "source": {
            "reader": "wannier90",
            "files": [{"role": role, "path": str(p), "sha256": sha256(p)} for role, p in used],
            "spin_order": spin_order,
        },
        "parameters": parameters,
        "header": data.header,
        "num_wann": data.num_wann,
        "spin_order": spin_order,
        **facts,
    }
    if mixing is not None:
        md["spin_mixing"] = mixing
    for side in (win, poscar):
        if side is not None and side.atom_positions is not None and "atoms" not in md:
            md["atoms"] = {"symbols": list(side.atom_symbols),
                           "positions": np.asarray(side.atom_positions).tolist(),
                           "from": str(side.path)}
    declared = _declared_spinors(win) if win is not None and "spinors" in win.keywords else None
    if declared is not None:
        md["spinors"] = declared
    return md
