"""Cost of context sample enhancement on Stable-Baselines3 SAC, measured in one run.

1. SAC update time with the CSE buffer against the plain ``ReplayBuffer``: same task, same filled buffer
   contents (the same collected transitions), same batch size and network; ``model.train(gradient_steps)``
   times sampling + CSE + the gradient step.  Repetitions alternate between the two models and the median
   is reported; target ratio <= 1.05.
2. Env steps/s of a full ``learn()`` loop with and without CSE (CSE's environment also computes the
   Jacobians every step, so this ratio includes that cost as well).

    python benchmarks/bench_cse.py                       # PendulumGoal, 64x64 and 256x256, batch 256
    python benchmarks/bench_cse.py --task SimpleDirection --nets 64,64 --loop-steps 3000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from cebe_deep.experiment import make_config, make_model, make_training_env


def _filled_model(task: str, method: str, net_arch, batch_size: int, fill: int, seed: int):
    config = make_config(task, method, total_steps=10 * fill, learning_starts=10 * fill, net_arch=net_arch,
                         batch_size=batch_size, seed=seed, buffer_size=fill)
    model = make_model(config, make_training_env(config))
    model.learn(fill)  # collects `fill` transitions with random actions, no gradient step (learning_starts)
    return model


def update_time(task: str, net_arch, batch_size: int, fill: int, gradient_steps: int, repeats: int) -> dict:
    """Median seconds per SAC gradient step (batch sampling included) with and without CSE."""
    models = {method: _filled_model(task, method, net_arch, batch_size, fill, seed=0) for method in ("baseline", "cse")}
    # identical network weights, so both do exactly the same floating-point work per step
    models["cse"].policy.load_state_dict(models["baseline"].policy.state_dict())
    times: dict[str, list[float]] = {method: [] for method in models}
    for model in models.values():  # warm-up
        model.train(gradient_steps=10, batch_size=batch_size)
    for repeat in range(repeats):
        order = list(models.items()) if repeat % 2 == 0 else list(models.items())[::-1]  # ABBA: no order bias
        for method, model in order:
            began = time.perf_counter()
            model.train(gradient_steps=gradient_steps, batch_size=batch_size)
            times[method].append((time.perf_counter() - began) / gradient_steps)
    baseline, cse = statistics.median(times["baseline"]), statistics.median(times["cse"])
    # On a shared machine the median carries the other processes' load; the best repetition is the
    # closest to the undisturbed cost, so both ratios are reported.
    best_baseline, best_cse = min(times["baseline"]), min(times["cse"])
    # Paired: each repetition times both models back to back, so the ratio within a pair sees one load level.
    paired = statistics.median(c / b for b, c in zip(times["baseline"], times["cse"]))
    # the CSE step alone: sampling from each buffer, outside the gradient step
    sample_times = {}
    for method, model in models.items():
        began = time.perf_counter()
        for _ in range(200):
            model.replay_buffer.sample(batch_size)
        sample_times[method] = (time.perf_counter() - began) / 200
    return dict(
        task=task,
        net_arch=list(net_arch),
        batch_size=batch_size,
        baseline_ms=1e3 * baseline,
        cse_ms=1e3 * cse,
        update_ratio=cse / baseline,
        best_baseline_ms=1e3 * best_baseline,
        best_cse_ms=1e3 * best_cse,
        best_update_ratio=best_cse / best_baseline,
        paired_update_ratio=paired,
        sample_baseline_ms=1e3 * sample_times["baseline"],
        sample_cse_ms=1e3 * sample_times["cse"],
    )


def loop_speed(task: str, net_arch, batch_size: int, steps: int, learning_starts: int, chunks: int = 6) -> dict:
    """Env steps per second of ``learn()`` (after ``learning_starts``) with and without CSE; the two loops
    alternate in ``chunks`` pieces so that a change in machine load hits both alike."""
    models, seconds = {}, {}
    for method in ("baseline", "cse"):
        config = make_config(task, method, total_steps=learning_starts + steps, learning_starts=learning_starts,
                             net_arch=net_arch, batch_size=batch_size)
        models[method] = make_model(config, make_training_env(config))
        models[method].learn(learning_starts)
        seconds[method] = 0.0
    chunk = steps // chunks
    for _ in range(chunks):
        for method, model in models.items():
            began = time.perf_counter()
            model.learn(chunk, reset_num_timesteps=False)
            seconds[method] += time.perf_counter() - began
    speeds = {method: chunk * chunks / seconds[method] for method in models}
    return dict(task=task, net_arch=list(net_arch), steps=chunk * chunks, baseline_steps_per_s=speeds["baseline"],
                cse_steps_per_s=speeds["cse"], loop_time_ratio=speeds["baseline"] / speeds["cse"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="PendulumGoal")
    parser.add_argument("--nets", nargs="+", default=["64,64", "256,256"])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--fill", type=int, default=5_000)
    parser.add_argument("--gradient-steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--loop-steps", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    np.random.seed(0)
    torch.manual_seed(0)
    rows = []
    for net in args.nets:
        net_arch = tuple(int(width) for width in net.split(","))
        row = update_time(args.task, net_arch, args.batch_size, args.fill, args.gradient_steps, args.repeats)
        row |= loop_speed(args.task, net_arch, args.batch_size, args.loop_steps, learning_starts=1_000)
        rows.append(row)
        print(json.dumps({key: round(value, 4) if isinstance(value, float) else value for key, value in row.items()}),
              flush=True)
    print(
        "\n| net | update ms SAC (median/best) | update ms SAC+CSE (median/best) | ratio median | ratio best | "
        "ratio paired | sample ms base/CSE | loop steps/s base | loop steps/s CSE | loop time ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {'x'.join(map(str, row['net_arch']))} | {row['baseline_ms']:.2f}/{row['best_baseline_ms']:.2f} | "
            f"{row['cse_ms']:.2f}/{row['best_cse_ms']:.2f} | {row['update_ratio']:.3f} | "
            f"{row['best_update_ratio']:.3f} | {row['paired_update_ratio']:.3f} | "
            f"{row['sample_baseline_ms']:.3f}/{row['sample_cse_ms']:.3f} | "
            f"{row['baseline_steps_per_s']:.0f} | {row['cse_steps_per_s']:.0f} | {row['loop_time_ratio']:.3f} |"
        )


if __name__ == "__main__":
    main()
