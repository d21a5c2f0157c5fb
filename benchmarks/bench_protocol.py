"""Env steps per second while learning, under the authors' protocol, against SB3's one-update-per-step loop.

For each task and method (baseline, CSE), three training loops run in this process, interleaved, each for
the same number of env steps after the same warm-up (learning starts, so every timed step learns):

- ``authors``: ``--profile authors`` (8 envs, one update of 256 per vector step = per 8 env steps,
  prioritized replay, 256x256);
- ``authors-uniform``: the same with uniform replay (the cost of the sum tree);
- ``per-step``: SB3's default loop at the same network and batch: one env, one update per env step.

Printed: env steps/s of each, the ratio authors / per-step (measured in the same run), the ratio
CSE / baseline of the time per env step (target <= 1.05), the loop's time per env step against the *floor*
measured in the same run (``protocol_floor.py``: a bare SAC update in plain torch times the updates per env step,
plus a bare env step; target <= 1.1x), and (column ``vs 100 steps/s*``) the rate divided by
a constant, :data:`AUTHORS_PIPELINE_STEPS_PER_SECOND`, the authors' own RLlib pipeline's env steps/s while
learning on a 2-core machine, measured once earlier, not in this run
(measured on SimpleDirection and PendulumGoal with their scripts: docs/authors_protocol.md).  Their pipeline uses both
cores; ours uses one torch thread, so the per-core ratio is twice the printed one.

    python benchmarks/bench_protocol.py                           # PendulumGoal and CheetahVelocity
    python benchmarks/bench_protocol.py --tasks PendulumGoal --steps 4000 --repeats 3
    python benchmarks/bench_protocol.py --tasks AntDirection --breakdown    # and where a vector step goes

``--breakdown`` times the parts of one vector step (the update, inside it the replay draw with CSE and the priority
update, the vector env step, acting, storing) and prints them beside the floor's two parts: what is left between
the loop and the floor is in those rows.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from protocol_floor import floor_seconds_per_env_step

from cebe_deep.run.config import make_config
from cebe_deep.run.training import make_model, make_vec_training_env

AUTHORS_PIPELINE_STEPS_PER_SECOND = 100.0


def _config(task: str, method: str, variant: str, warmup: int, seed: int):
    if variant == "per-step":
        return make_config(task, method, "authors", n_envs=1, replay="uniform", learning_starts=warmup, seed=seed,
                           total_steps=10**7)
    return make_config(task, method, "authors", learning_starts=warmup, seed=seed, total_steps=10**7,
                       replay="uniform" if variant == "authors-uniform" else "prioritized")


def _model(task: str, method: str, variant: str, warmup: int, seed: int):
    config = _config(task, method, variant, warmup, seed)
    model = make_model(config, make_vec_training_env(config))
    model.learn(warmup, reset_num_timesteps=False)  # fill the buffer past learning_starts
    return model


#: The parts of one vector step that :func:`breakdown` times: (label, object attribute path, method).
PARTS = (("update (SB3 train, all of it)", "", "train"), ("  of which replay draw + CSE", "replay_buffer", "sample"),
         ("  of which priority update", "replay_buffer", "update_priorities"), ("vector env step", "env", "step"),
         ("acting", "", "_sample_action"), ("storing (buffer add)", "replay_buffer", "add"))


def breakdown(model, steps: int) -> dict[str, float]:
    """Milliseconds per vector step spent in each of :data:`PARTS` (and ``total``) while ``model`` learns ``steps``
    env steps: a timer around each method, on the instance, removed afterwards."""
    spent = dict.fromkeys([label for label, *_ in PARTS], 0.0)
    wrapped = []
    for label, path, name in PARTS:
        owner = model if not path else getattr(model, path)
        method = getattr(owner, name, None)
        if method is None:
            continue

        def timed(*args, _method=method, _label=label, **kwargs):
            began = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[_label] += time.perf_counter() - began

        setattr(owner, name, timed)
        wrapped.append((owner, name))
    began = time.perf_counter()
    try:
        model.learn(steps, reset_num_timesteps=False)
    finally:
        for owner, name in wrapped:
            delattr(owner, name)
    vector_steps = steps / model.env.num_envs
    return {**{label: 1e3 * seconds / vector_steps for label, seconds in spent.items()},
            "total": 1e3 * (time.perf_counter() - began) / vector_steps}


def steps_per_second(model, steps: int) -> float:
    began = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="PendulumGoal,CheetahVelocity")
    parser.add_argument("--steps", type=int, default=4_000, help="timed env steps per repetition")
    parser.add_argument("--per-step-steps", type=int, default=800, help="timed env steps of the per-step loop")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--floor-updates", type=int, default=200, help="timed bare SAC updates per repetition")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print where a vector step of the authors loop goes (ms per part), after the rates")
    args = parser.parse_args()
    torch.set_num_threads(1)
    variants = ("authors", "authors-uniform", "per-step")
    print(f"torch threads: {torch.get_num_threads()}; median of {args.repeats} repetitions, interleaved")
    print(f"* rate / {AUTHORS_PIPELINE_STEPS_PER_SECOND:g} env steps/s, the authors' RLlib pipeline measured once earlier "
          "(a constant, not measured in this run)")
    for task in args.tasks.split(","):
        rates: dict[tuple[str, str], list[float]] = {}
        floors: dict[str, list[dict[str, float]]] = {}
        models = {(method, variant): _model(task, method, variant, args.warmup, seed=0)
                  for method in ("baseline", "cse") for variant in variants}
        for _ in range(args.repeats):
            for key, model in models.items():
                steps = args.per_step_steps if key[1] == "per-step" else args.steps
                rates.setdefault(key, []).append(steps_per_second(model, steps))
            for variant in ("authors", "per-step"):
                config = _config(task, "baseline", variant, args.warmup, seed=0)
                floors.setdefault(variant, []).append(floor_seconds_per_env_step(config, updates=args.floor_updates))
        median = {key: statistics.median(values) for key, values in rates.items()}
        floor = {variant: statistics.median(f["floor"] for f in values) for variant, values in floors.items()}
        floor["authors-uniform"] = floor["authors"]
        parts = floors["authors"][-1]
        update_ms = 1e3 * statistics.median(f["update"] for f in floors["authors"])
        print(f"\n{task}  (floor, authors: bare update {update_ms:.2f} ms"
              f" x {parts['updates_per_env_step']:g} per env step + bare env step "
              f"{1e3 * statistics.median(f['env'] for f in floors['authors']):.3f} ms = {1e3 * floor['authors']:.2f} ms"
              f" = {1 / floor['authors']:.0f} env steps/s)")
        print(f"{'method':<9} {'loop':<16} {'env steps/s':>12} {'vs per-step':>12} {'time vs floor':>14} "
              f"{'vs 100 steps/s*':>16}")
        for (method, variant), rate in median.items():
            print(f"{method:<9} {variant:<16} {rate:12.0f} {rate / median[(method, 'per-step')]:11.2f}x "
                  f"{1 / (rate * floor[variant]):13.2f}x {rate / AUTHORS_PIPELINE_STEPS_PER_SECOND:15.2f}x")
        for variant in variants:
            print(
                f"CSE cost per env step ({variant}): {median[('baseline', variant)] / median[('cse', variant)]:.3f}x baseline"
            )
        if args.breakdown:
            n_envs = models[("baseline", "authors")].env.num_envs
            print(f"ms per vector step of the authors loop ({n_envs} env steps; floor: bare update {update_ms:.2f} + "
                  f"{n_envs} bare env steps {n_envs * 1e3 * statistics.median(f['env'] for f in floors['authors']):.2f})")
            parts = {method: breakdown(models[(method, "authors")], args.steps) for method in ("baseline", "cse")}
            print(f"{'part':<32} {'baseline':>9} {'cse':>9}")
            for label in parts["baseline"]:
                print(f"{label:<32} {parts['baseline'][label]:9.2f} {parts['cse'][label]:9.2f}")


if __name__ == "__main__":
    main()
