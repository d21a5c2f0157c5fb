"""Training stays bit-identical across a refactor: the same seeded runs trained by two checkouts end with equal
parameters.  Each checkout trains in its own Python (its own virtual environment), the final policy's state dict is
hashed (sha256 over names and bytes), and the hashes are compared.

    python benchmarks/check_bit_identity.py OLD_CHECKOUT OLD_PYTHON NEW_CHECKOUT NEW_PYTHON [--out DIR]

e.g. the tree before the layered move (a `git worktree` of cf440db with its own .venv) against this one.  Runs, under
the authors' profile, seed 3: SimpleDirection CSE 3000 env steps, PendulumGoal CSE 3000 and baseline 2000,
CheetahVelocity CSE 12000, AntDirection CSE 4000 and baseline 3000 (a few minutes each on one core); or the runs of
``--runs TASK:METHOD:STEPS ...``, e.g. CartGoal's authors DQN (``ContextDQN``) against the tree its runs trained on:

    python benchmarks/check_bit_identity.py ../frozen-oe .venv/bin/python . .venv/bin/python \
        --runs CartGoal:baseline:3000 CartGoal:cse:3000 CartGoal:ldr:3000

Exit status 1 when a hash differs.  Both checkouts train on this machine: the check is of the code, and holds per
machine (on another CPU the same seeded run ends with other parameters; results/README.md, "How it was run").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = (("SimpleDirection", "cse", 3000), ("PendulumGoal", "cse", 3000), ("PendulumGoal", "baseline", 2000),
        ("CheetahVelocity", "cse", 12000), ("AntDirection", "cse", 4000), ("AntDirection", "baseline", 3000))

TRAIN = r"""
import hashlib, json, sys
from cebe_deep.experiment import load_model, make_config, train
out, runs = sys.argv[1], json.loads(sys.argv[2])
hashes = {}
for task, method, steps in runs:
    config = make_config(task, method, "authors", seed=3, total_steps=steps, checkpoint_every=1000, learning_starts=256)
    train(config, f"{out}/{task}-{method}", progress=False)
    model, _ = load_model(f"{out}/{task}-{method}")
    digest = hashlib.sha256()
    for name, tensor in sorted(model.policy.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.cpu().numpy().tobytes())
    hashes[f"{task}-{method}"] = digest.hexdigest()
print(json.dumps(hashes))
"""


def run_spec(text: str) -> tuple[str, str, int]:
    """``TASK:METHOD:STEPS`` -> (task, method, steps), or a one-line usage error."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[2].isdigit() or int(parts[2]) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected TASK:METHOD:STEPS with STEPS a positive integer")
    return parts[0], parts[1], int(parts[2])


def hashes(checkout: Path, python: Path, out: Path, runs=RUNS) -> dict[str, str]:
    checkout, python, out = checkout.absolute(), python.absolute(), out.absolute()  # absolute(): a venv's python is a link
    result = subprocess.run([str(python), "-c", TRAIN, str(out), json.dumps(runs)], cwd=checkout, capture_output=True,
                            text=True, check=True, env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"})
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("old_python", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("new_python", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="where the runs go (default: a temporary folder)")
    parser.add_argument("--runs", nargs="+", type=run_spec, default=list(RUNS), metavar="TASK:METHOD:STEPS",
                        help="the seeded runs to train in both checkouts (default: the six above)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bit-identity-"))
    old = hashes(args.old, args.old_python, out / "old", args.runs)
    new = hashes(args.new, args.new_python, out / "new", args.runs)
    for name in old:
        print(f"{name:24s} {'equal' if old[name] == new[name] else 'DIFFERENT'}  {old[name][:16]}  {new[name][:16]}")
    return 0 if old == new else 1


if __name__ == "__main__":
    sys.exit(main())
