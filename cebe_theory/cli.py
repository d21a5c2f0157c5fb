"""Command line for the tabular side: ``cebe-theory ...`` or ``python -m cebe_theory ...``.

Subcommands:

``error-sweep``
    ``max |Q_CE - Q_BE|`` against ``dc`` on a Cliffwalking CMDP, with the fitted log-log slope.
``bounds``
    Theorems 1-4 evaluated with every constant, against the measured errors (tables and a figure).
``reproduce``
    every tabular figure and table into a folder (default ``figures/``), the bound report included.

Bad input (a slip probability outside (0, 1), gamma outside [0, 1), an unknown family, a malformed
grid, ...) prints one line ``cebe-theory: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]

PROGRAM = "cebe-theory"


from cebe_theory.cli_support import OneLineParser as _Parser  # noqa: E402
from cebe_theory.cli_support import UsageError  # noqa: E402


def _grid(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid must look like ROWSxCOLS (e.g. 5x6), got {text!r}") from None
    if rows < 1 or cols < 3:
        raise argparse.ArgumentTypeError(f"grid needs at least 1 row and 3 columns, got {text!r}")
    return rows, cols


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from cebe_theory.cebe import TRANSITION_VARIANTS
    from cebe_theory.cliffwalking import REWARD_FAMILIES
    from cebe_theory.sweep import POLICIES

    parser = _Parser(prog=PROGRAM, description="Exact CEBE on tabular contextual MDPs (arXiv 2507.07348).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sweep = commands.add_parser("error-sweep", help="sup-norm CEBE error against dc on Cliffwalking")
    sweep.add_argument("--cmdp", choices=("cliffwalking", "windy"), default="cliffwalking",
                       help="the paper's Cliffwalking (context p) or the windy variant (context w, T nonlinear)")
    sweep.add_argument("--grid", type=_grid, default=(5, 6), metavar="ROWSxCOLS", help="grid size (default 5x6)")
    sweep.add_argument("--family", default="inverse", help=f"reward family: {', '.join(REWARD_FAMILIES)} (default inverse)")
    sweep.add_argument("--c0", type=_finite, default=None, help="base context (default 0.1 for p, -0.2 for w)")
    sweep.add_argument("--dc", type=_finite, nargs="+", default=None, help="explicit dc values (overrides --log-range)")
    sweep.add_argument("--log-range", type=_finite, nargs=2, default=(-8.0, -3.0), metavar=("LOW", "HIGH"),
                       help="dc = exp(x) for x evenly spaced in [LOW, HIGH] (default -8 -3)")
    sweep.add_argument("--num", type=int, default=100, help="number of dc values for --log-range (default 100)")
    sweep.add_argument("--variant", choices=TRANSITION_VARIANTS, default="projection", help="how CEBE rows return to the simplex")
    sweep.add_argument("--policy", choices=POLICIES, default="uniform", help="fixed uniform policy, or each MDP's optimal one")
    sweep.add_argument("--gamma", type=_finite, default=0.9, help="discount in [0, 1) (default 0.9)")
    sweep.add_argument("--fit-points", type=int, default=10, help="smallest dc used for the slope (default 10)")
    sweep.add_argument("--json", action="store_true", help="print dc, error and fitted slope as JSON on stdout")
    sweep.add_argument("--csv", default=None, metavar="PATH", help="also write the sweep as a CSV file")

    bounds = commands.add_parser("bounds", help="Theorems 1-4: every constant, the bound, the measured error")
    bounds.add_argument("--out", default="figures/bounds", help="output folder (default figures/bounds)")
    bounds.add_argument("--quick", action="store_true", help="8 dc per sweep instead of 24 (a few seconds)")

    reproduce = commands.add_parser("reproduce", help="write every tabular figure and table into a folder")
    reproduce.add_argument("--out", default="figures", help="output folder (default figures/)")
    reproduce.add_argument("--points", type=int, default=100, help="dc values per sweep (default 100, as the paper)")
    return parser


def _run_error_sweep(args) -> int:
    from cebe_theory.cliffwalking import cliffwalking, windy_cliffwalking
    from cebe_theory.sweep import error_sweep, log_grid

    if args.fit_points < 2:
        raise ValueError(f"--fit-points must be at least 2, got {args.fit_points}")
    rows, cols = args.grid
    if args.cmdp == "cliffwalking":
        cmdp, default_c0 = cliffwalking(rows, cols, args.family), 0.1
    else:
        cmdp, default_c0 = windy_cliffwalking(rows, cols, args.family), -0.2
    c0 = default_c0 if args.c0 is None else args.c0
    dc = np.array(args.dc) if args.dc is not None else log_grid(args.log_range[0], args.log_range[1], args.num)
    started = time.perf_counter()
    sweep = error_sweep(cmdp, [c0], dc, gamma=args.gamma, policy=args.policy,
                        transition_variant=args.variant, fit_points=args.fit_points)
    elapsed = time.perf_counter() - started
    if args.csv:
        sweep.to_frame().to_csv(args.csv, index=False)
    if args.json:
        result = sweep.to_dict() | {"cmdp": args.cmdp, "grid": [rows, cols], "family": args.family, "seconds": elapsed}
        print(json.dumps(result))
        return 0
    symbol = cmdp.context_symbols[0]
    print(f"{cmdp!r}, {symbol}0 = {c0:g}, gamma = {sweep.gamma:g}, policy = {args.policy}, variant = {args.variant}")
    print(f"{'dc':>12} {'sup_error':>14} projection_acts")
    for step, error, acts in zip(sweep.dc, sweep.sup_error, sweep.projection_acts):
        print(f"{step:12.5e} {error:14.6e} {'yes' if acts else ''}")
    print(f"fitted slope on the {sweep.fit_points} smallest dc: {sweep.fitted_slope:.4f}   ({len(dc)} points, {elapsed:.2f} s)")
    return 0


def _run_reproduce(args) -> int:
    from cebe_theory.bounds import write_bounds_report
    from cebe_theory.figures import reproduce

    if args.points < 10:
        raise ValueError(f"--points must be at least 10 (the slope is fitted on 10 points), got {args.points}")
    started = time.perf_counter()
    paths = reproduce(args.out, points=args.points)
    paths += write_bounds_report(Path(args.out) / "bounds")
    for path in paths:
        print(path)
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "error-sweep":
            return _run_error_sweep(args)
        if args.command == "bounds":
            from cebe_theory.bounds import bounds_command

            return bounds_command(args.out, quick=args.quick)
        return _run_reproduce(args)
    except (UsageError, ValueError) as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
