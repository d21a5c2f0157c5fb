"""Peak memory and time of ``error-sweep`` on large Cliffwalking grids, against the estimate the CLI checks.

``cebe-theory error-sweep --grid RxC`` refuses a grid whose estimated peak memory exceeds the memory available
(:func:`cebe_theory.cliffwalking.error_sweep_cost`). This script measures what the estimate stands for: for
each grid, a fresh process builds the CMDP and runs a 2-dc sweep; its peak resident memory above what the
imports left resident (``ru_maxrss`` against ``VmRSS``, Linux) and its set-up and per-dc times are printed
next to the estimate. The estimate should stay above every measured peak; if it does not, update the constants
of ``error_sweep_cost`` and the table in the comment above it.

Run: ``python benchmarks/theory_grid_cost.py`` (about a minute of CPU, three on a loaded 2-core machine, where the
times also come out up to 3x the estimate's; ``--large`` adds 1000 x 1000: 4 GiB and several minutes).
"""

import argparse
import json
import subprocess
import sys

from cebe_theory.cliffwalking import error_sweep_cost

MEASURE = """
import json, resource, sys, time
from cebe_theory import cli, cliffwalking, error_sweep, log_grid, windy_cliffwalking
rows, cols, name, policy = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
base = rss()
started = time.perf_counter()
if name == "windy":
    cmdp, c0 = windy_cliffwalking(rows, cols, "constant"), -0.2
else:
    cmdp, c0 = cliffwalking(rows, cols, "inverse"), 0.1
built = time.perf_counter()
error_sweep(cmdp, [c0], log_grid(-8, -3, 2), gamma=0.9, policy=policy)
done = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
print(json.dumps(dict(peak=peak, setup=built - started, per_dc=(done - built) / 2)))
"""

GRIDS = [(5, 6, "cliffwalking", "uniform"), (100, 100, "cliffwalking", "uniform"), (200, 200, "cliffwalking", "uniform"),
         (200, 200, "windy", "uniform"), (100, 100, "cliffwalking", "optimal"), (10, 9000, "cliffwalking", "uniform"),
         (500, 500, "cliffwalking", "uniform"), (500, 500, "windy", "uniform")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 1000 x 1000 (4 GiB, several minutes)")
    args = parser.parse_args()
    grids = GRIDS + ([(1000, 1000, "cliffwalking", "uniform")] if args.large else [])
    print(f"{'grid':>12} {'cmdp':>12} {'policy':>8} {'peak MiB':>9} {'estimate':>9} {'ratio':>6} "
          f"{'set-up s':>9} {'per dc s':>9} {'estimate':>9}")
    for rows, cols, name, policy in grids:
        result = subprocess.run([sys.executable, "-c", MEASURE, str(rows), str(cols), name, policy],
                                capture_output=True, text=True, check=True)
        measured = json.loads(result.stdout)
        cost = error_sweep_cost(rows, cols, 2, policy)
        setup_estimate = error_sweep_cost(rows, cols, 0, policy).seconds
        per_dc_estimate = (cost.seconds - setup_estimate) / 2
        print(f"{rows:>5} x {cols:<5} {name:>12} {policy:>8} {measured['peak'] / 2**20:>9.1f} "
              f"{cost.peak_bytes / 2**20:>9.1f} {measured['peak'] / cost.peak_bytes:>6.2f} "
              f"{measured['setup']:>9.2f} {measured['per_dc']:>9.2f} {per_dc_estimate:>9.2f}", flush=True)
    print("ratio = measured / estimated peak: below 1 everywhere, or the estimate must grow")


if __name__ == "__main__":
    main()
