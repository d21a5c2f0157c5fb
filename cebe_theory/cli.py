"""Command line for the tabular side: ``cebe-theory ...`` or ``python -m cebe_theory ...``.

Subcommands:

``error-sweep``
    ``max |Q_CE - Q_BE|`` against ``dc`` on a Cliffwalking CMDP, with the fitted log-log slope.
``bounds``
    Theorems 1-4 evaluated with every constant, against the measured errors (tables and a figure);
    exit status 1 if a bound whose conditions hold is below a measured error.
``reproduce``
    every tabular figure and table into a folder (default ``figures/``), the bound report included.

Every flag and path is checked before any work (a file path's folder must exist; an output folder must be
creatable and writable). Bad input prints one line ``cebe-theory: error: ...`` naming the flag or path and
exits with status 2: the CLI catches the project's :class:`~cebe_theory.errors.InputError` alone (argparse's
errors included) and ``OSError`` only around writing the user's paths, so any other error shows its
traceback.

``error-sweep --grid`` is the one command whose size the user chooses. Before the grid is built, its memory
and time are estimated (:func:`~cebe_theory.cliffwalking.error_sweep_cost`, calibrated by measurement) and
compared with the memory available (:func:`~cebe_theory.cli_support.available_memory`): a grid that would
not fit is refused in one line naming the grid, the estimate and the available memory (status 2) unless
``--force`` is given; a sweep estimated to take over a minute says so on stderr before it starts.
(``bounds`` and ``reproduce`` build the paper's fixed 5 x 6 grids.)

Ctrl-C stops any command with one line ``cebe-theory: interrupted`` and exit status 130; inside a large sparse
solve it takes effect when that solve returns (seconds at 1000 x 1000).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from cebe_cli import InputError, OneLineParser, UsageError
from cebe_cli import finite_number as _finite
from cebe_cli import output_folder as _output_folder
from cebe_cli import write_user_file as _write
from cebe_theory.bounds_report import bounds_report
from cebe_theory.cebe import TRANSITION_VARIANTS
from cebe_theory.cli_support import available_memory, duration_text, size_text
from cebe_theory.cliffwalking import REWARD_FAMILIES, cliffwalking, error_sweep_cost, windy_cliffwalking
from cebe_theory.figures import reproduce
from cebe_theory.open_stochastic import write_stochastic_cse
from cebe_theory.sweep import POLICIES, error_sweep, log_grid

__all__ = ["main", "build_parser"]

PROGRAM = "cebe-theory"
# The base context of each CMDP when --c0 is not given: the paper's p0 = 0.1, and w0 = -0.2 for the windy one.
DEFAULT_CONTEXT0 = {"cliffwalking": 0.1, "windy": -0.2}
DEFAULT_FIT_POINTS = 10  # the paper fits the slope on the 10 smallest dc
ANNOUNCE_SECONDS = 60  # a sweep estimated to take longer says so (and how long) before it starts


def _package_version() -> str:
    try:
        return version("cebe")
    except PackageNotFoundError:
        return "unknown (package not installed)"


def _grid(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid must look like ROWSxCOLS (e.g. 5x6), got {text!r}") from None
    if rows < 1 or cols < 3:
        raise argparse.ArgumentTypeError(f"grid needs at least 1 row and 3 columns, got {text!r}")
    return rows, cols


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROGRAM, description="Exact CEBE on tabular contextual MDPs (arXiv 2507.07348).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    sweep = commands.add_parser("error-sweep", help="sup-norm CEBE error against dc on Cliffwalking")
    sweep.add_argument("--cmdp", choices=tuple(DEFAULT_CONTEXT0), default="cliffwalking",
                       help="the paper's Cliffwalking (context p) or the windy variant (context w, T nonlinear)")
    sweep.add_argument("--grid", type=_grid, default=(5, 6), metavar="ROWSxCOLS", help="grid size (default 5x6)")
    sweep.add_argument("--family", default="inverse", help=f"reward family: {', '.join(REWARD_FAMILIES)} (default inverse)")
    sweep.add_argument("--c0", type=_finite, default=None, help="base context (default 0.1 for p, -0.2 for w)")
    sweep.add_argument(
        "--dc", type=_finite, nargs="+", default=None, help="explicit nonzero dc values (overrides --log-range)"
    )
    sweep.add_argument("--log-range", type=_finite, nargs=2, default=(-8.0, -3.0), metavar=("LOW", "HIGH"),
                       help="dc = exp(x) for x evenly spaced in [LOW, HIGH] (default -8 -3)")
    sweep.add_argument("--num", type=int, default=100, help="number of dc values for --log-range (default 100)")
    sweep.add_argument(
        "--variant", choices=TRANSITION_VARIANTS, default="projection", help="how CEBE rows return to the simplex"
    )
    sweep.add_argument("--policy", choices=POLICIES, default="uniform", help="fixed uniform policy, or each MDP's optimal one")
    sweep.add_argument("--gamma", type=_finite, default=0.9, help="discount in [0, 1) (default 0.9)")
    sweep.add_argument("--fit-points", type=int, default=None,
                       help="smallest dc used for the slope (2 to the number of dc; default 10, or every dc if fewer)")
    sweep.add_argument("--json", action="store_true", help="print dc, error and fitted slope as JSON on stdout")
    sweep.add_argument(
        "--csv", default=None, metavar="PATH", help="also write the sweep as a CSV file (its folder must exist)"
    )
    sweep.add_argument("--force", action="store_true",
                       help="build the grid even if its estimated memory exceeds the memory available")

    bounds = commands.add_parser("bounds", help="Theorems 1-4: every constant, the bound, the measured error")
    bounds.add_argument("--out", default="figures/bounds", help="output folder (default figures/bounds)")
    bounds.add_argument("--quick", action="store_true", help="8 dc per sweep instead of 24 (a few seconds)")

    reproduce_parser = commands.add_parser("reproduce", help="write every tabular figure and table into a folder")
    reproduce_parser.add_argument("--out", default="figures", help="output folder (default figures/)")
    reproduce_parser.add_argument(
        "--points", type=int, default=100, help="dc values per sweep (at least 10; default 100, as the paper)"
    )
    stochastic = commands.add_parser("stochastic-cse", help="open question 1 on the tabular side: moving a stochastic "
                                     "sample to another context (estimators against dc)")
    stochastic.add_argument("--out", required=True, help="output folder, e.g. results/open/stochastic-tabular")
    return parser


def _run_stochastic_cse(args) -> int:
    out = _output_folder(args.out, "--out")
    paths: list[Path] = []
    _write(out, "--out", lambda folder: paths.extend(write_stochastic_cse(folder)))
    for path in paths:
        print(path)
    return 0


# ----------------------------------------------------------------------------------------- paths
def _output_file(path: str, flag: str) -> Path:
    """Check that ``path``'s folder exists and is writable, and that ``path`` is not a folder."""
    file = Path(path)
    folder = file.parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist")
    if file.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, expected a file name")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{flag} {path}: the folder {folder} is not writable")
    return file


# ----------------------------------------------------------------------------------------- error-sweep
def _sweep_inputs(args):
    """Validate every error-sweep flag against its range; return ``(cmdp, c0, dc, fit_points, csv path or None)``."""
    if args.family not in REWARD_FAMILIES:
        raise UsageError(f"--family: unknown reward family {args.family!r}; choose one of {', '.join(REWARD_FAMILIES)}")
    if not 0.0 <= args.gamma < 1.0:
        raise UsageError(f"--gamma must be in [0, 1), got {args.gamma:g}")
    csv = _output_file(args.csv, "--csv") if args.csv else None
    rows, cols = args.grid
    _check_grid_cost(rows, cols, len(args.dc) if args.dc is not None else args.num, args.policy, force=args.force)
    build = cliffwalking if args.cmdp == "cliffwalking" else windy_cliffwalking
    cmdp = build(rows, cols, args.family)
    c0 = DEFAULT_CONTEXT0[args.cmdp] if args.c0 is None else args.c0
    cmdp.check_context([c0], name="--c0")
    (low,), (high,) = cmdp.context_box
    symbol = cmdp.context_symbols[0]
    allowed = f"nonzero, with {symbol}0 + dc in ({low:g}, {high:g}), i.e. dc in ({low - c0:.4g}, {high - c0:.4g})"
    if args.dc is not None:
        dc, flag = np.array(args.dc), "--dc"
        bad = [value for value in args.dc if value == 0 or not low < c0 + value < high]
        if bad:
            raise UsageError(f"--dc {bad[0]:g} is not allowed: each dc must be {allowed}")
    else:
        if args.num < 2:
            raise UsageError(f"--num must be at least 2, got {args.num}")
        low_exponent, high_exponent = args.log_range
        if not low_exponent < high_exponent:
            raise UsageError(f"--log-range needs LOW < HIGH, got {low_exponent:g} {high_exponent:g}")
        dc, flag = log_grid(low_exponent, high_exponent, args.num), "--log-range"
        if not c0 + dc.max() < high:
            raise UsageError(
                f"--log-range {low_exponent:g} {high_exponent:g} reaches dc = {dc.max():.4g}; each dc must be {allowed}"
            )
    if args.fit_points is None:
        fit_points = min(DEFAULT_FIT_POINTS, dc.size)
    elif not 2 <= args.fit_points <= dc.size:
        raise UsageError(
            f"--fit-points must be between 2 and the number of dc values ({dc.size}, from {flag}), got {args.fit_points}"
        )
    else:
        fit_points = args.fit_points
    return cmdp, c0, dc, fit_points, csv


def _check_grid_cost(rows: int, cols: int, n_dc: int, policy: str, *, force: bool) -> None:
    """Refuse a grid whose estimated peak memory exceeds the memory available (unless ``force``), before it is
    built; announce on stderr a sweep estimated to take more than ``ANNOUNCE_SECONDS``."""
    cost = error_sweep_cost(rows, cols, n_dc, policy)
    estimate = (f"--grid {rows}x{cols} ({cost.n_states:,} states) needs about {size_text(cost.peak_bytes)} of memory and "
                f"roughly {duration_text(cost.seconds)} for {n_dc} dc values with the {policy} policy")
    available = available_memory()
    if available is not None and cost.peak_bytes > available.bytes and not force:
        raise UsageError(f"{estimate}, but {size_text(available.bytes)} is available ({available.source}); "
                         "choose a smaller grid, or pass --force to build it anyway")
    if cost.seconds > ANNOUNCE_SECONDS:
        print(f"{PROGRAM}: note: {estimate} (an estimate); Ctrl-C stops it", file=sys.stderr, flush=True)


def _run_error_sweep(args) -> int:
    cmdp, c0, dc, fit_points, csv = _sweep_inputs(args)
    started = time.perf_counter()
    sweep = error_sweep(cmdp, [c0], dc, gamma=args.gamma, policy=args.policy,
                        transition_variant=args.variant, fit_points=fit_points)
    elapsed = time.perf_counter() - started
    if csv is not None:
        _write(csv, "--csv", lambda path: sweep.to_frame().to_csv(path, index=False))
    if args.json:
        result = sweep.to_dict() | {"cmdp": args.cmdp, "grid": list(args.grid), "family": args.family, "seconds": elapsed}
        print(json.dumps(result))
        return 0
    symbol = cmdp.context_symbols[0]
    print(f"{cmdp!r}, {symbol}0 = {c0:g}, gamma = {sweep.gamma:g}, policy = {args.policy}, variant = {args.variant}")
    print(f"{'dc':>12} {'sup_error':>14} projection_acts")
    for step, error, acts in zip(sweep.dc, sweep.sup_error, sweep.projection_acts):
        print(f"{step:12.5e} {error:14.6e} {'yes' if acts else ''}")
    if dc.size < 2:
        print(f"no fitted slope: it needs at least 2 dc values   ({elapsed:.2f} s)")
    else:
        print(
            f"fitted slope on the {sweep.fit_points} smallest dc: {sweep.fitted_slope:.4f}   ({len(dc)} points, "
            f"{elapsed:.2f} s)"
        )
    return 0


# ----------------------------------------------------------------------------------------- bounds, reproduce
def _write_report(out: Path, flag: str, *, quick: bool) -> tuple[list[Path], int, int]:
    report = bounds_report(quick=quick)
    paths: list[Path] = []
    _write(out, flag, lambda folder: paths.extend(report.write(folder)))
    return paths, report.violations(), report.other_reading_violations()


def _run_bounds(args) -> int:
    out = _output_folder(args.out, "--out")
    paths, violations, other = _write_report(out, "--out", quick=args.quick)
    for path in paths:
        print(path)
    print(f"with R read the other way (bound_other_reading): {other} rows below the measured error")
    print("no bound violated where its conditions hold" if violations == 0 else f"{violations} VIOLATIONS: see the tables")
    return 0 if violations == 0 else 1


def _run_reproduce(args) -> int:
    if args.points < 10:
        raise UsageError(f"--points must be at least 10 (the slope is fitted on 10 points), got {args.points}")
    out = _output_folder(args.out, "--out")
    bounds_folder = _output_folder(str(out / "bounds"), "--out")
    started = time.perf_counter()
    paths: list[Path] = []
    _write(out, "--out", lambda folder: paths.extend(reproduce(folder, points=args.points)))
    paths += _write_report(bounds_folder, "--out", quick=False)[0]
    for path in paths:
        print(path)
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C (SIGINT) stops a long sweep with one line whatever disposition was inherited: a shell starts background
    # jobs and `nohup` children with SIGINT ignored, where Python would never raise KeyboardInterrupt and `kill -INT`
    # would do nothing (cebe-deep's sweeps do the same).  The disposition is put back on return.
    restore = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if restore:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        args = build_parser().parse_args(argv)
        run = {"error-sweep": _run_error_sweep, "bounds": _run_bounds, "reproduce": _run_reproduce,
               "stochastic-cse": _run_stochastic_cse}[args.command]
        return run(args)
    except InputError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return 130
    finally:
        if restore:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
