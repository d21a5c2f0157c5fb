"""``cebe-deep sweep`` as a queue uses it: ``--dry-run`` says what each run would do and writes nothing; every
sweep of results/commands.sh passes it (a mistyped flag fails here, not hours into a queue); a sweep with a run
that did not finish writes no results folder (it would look complete) and exits non-zero."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cebe_deep.cli import main
from cebe_deep.run.config import make_config

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--steps", "200", "--learning-starts", "50", "--batch-size", "16", "--net", "8,8"]


def _plan(capsys, *argv):
    status = main(["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "1", *argv, "--dry-run"])
    return status, capsys.readouterr()


def test_dry_run_says_what_each_run_would_do_and_writes_nothing(tmp_path, capsys):
    root, results = tmp_path / "runs", tmp_path / "results"
    status, out = _plan(capsys, *TINY, "--root", str(root), "--results", str(results))
    assert status == 0 and out.out.startswith("train ") and "1 runs: 1 train" in out.out
    assert not root.exists() and not results.exists()

    run = root / "SimpleDirection" / "cse" / "seed0"
    assert main(["train", "--task", "SimpleDirection", "--method", "cse", "--out", str(run), "--no-progress", *TINY]) == 0
    capsys.readouterr()
    assert _plan(capsys, *TINY, "--root", str(root))[1].out.startswith("evaluate ")
    # a larger budget extends the finished run (its final state is kept: a tiny buffer)
    status, out = _plan(capsys, *TINY[2:], "--steps", "400", "--root", str(root))
    assert status == 0 and out.out.startswith("extend ") and "200 -> 400 steps" in out.out
    # another config in the same directory: the sweep would fail the run; the plan names the field, exit 2
    status, out = _plan(capsys, *TINY, "--eps", "0.2", "--root", str(root))
    assert status == 2 and out.out.startswith("conflict ") and "eps: 0.1 there, 0.2 now" in out.out
    assert "use another --root" in out.err
    # without its final model, a run with a checkpoint resumes, and the plan says from which step (SB3's
    # num_timesteps in the checkpoint: the finished run's last checkpoint is at its total, 200 steps)
    (run / "model.zip").unlink()
    out = _plan(capsys, *TINY, "--root", str(root))[1].out
    assert out.startswith("resume ") and "at step 200 of 200, 100%" in out
    # a run with a config but no checkpoint starts over; an unreadable checkpoint still resumes (training says why)
    shutil.rmtree(run / "checkpoint")
    assert _plan(capsys, *TINY, "--root", str(root))[1].out.startswith("train ")
    (run / "checkpoint").mkdir()
    (run / "checkpoint" / "model.zip").write_bytes(b"")
    out = _plan(capsys, *TINY, "--root", str(root))[1].out
    assert out.startswith("resume ") and "(step not readable)" in out
    assert json.loads((run / "config.json").read_text())["total_steps"] == 200  # the plan changed nothing


def test_a_sweep_with_a_failed_run_writes_no_results(tmp_path, capsys):
    root, results = tmp_path / "runs", tmp_path / "results"
    conflicting = root / "SimpleDirection" / "cse" / "seed1"
    conflicting.mkdir(parents=True)
    (conflicting / "config.json").write_text(json.dumps(make_config("SimpleDirection", "cse", seed=1, eps=0.3).to_json()))
    status = main(["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "2", *TINY, "--points", "2",
                   "--episodes", "1", "--root", str(root), "--results", str(results), "--backend", "serial"])
    captured = capsys.readouterr()
    assert status == 1
    assert "1 of 2 runs did not finish (first: SimpleDirection/cse/seed1: ConfigError" in captured.err
    assert "nothing written to --results" in captured.err and "Traceback" not in captured.err
    assert not (results / "evaluation.csv").exists()
    assert (root / "SimpleDirection" / "cse" / "seed0" / "model.zip").exists()  # the finished run is kept


def test_an_interrupted_run_makes_the_sweep_exit_130(tmp_path, capsys, monkeypatch):
    from cebe_deep.run import sweeps
    from cebe_deep.run.training import TrainingInterrupted

    def interrupted(config, run_dir, progress=False, **_):
        raise TrainingInterrupted(run_dir, 100, "SIGINT")

    monkeypatch.setattr(sweeps, "train", interrupted)
    status = main(["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "1", *TINY, "--points", "2",
                   "--episodes", "1", "--root", str(tmp_path / "runs"), "--results", str(tmp_path / "results"),
                   "--backend", "serial"])
    assert status == 130 and "rerun the same command to resume" in capsys.readouterr().err
    assert not (tmp_path / "results" / "evaluation.csv").exists()


def test_dry_run_says_done_only_for_runs_evaluated_with_the_same_settings(tmp_path, capsys):
    root = str(tmp_path / "runs")
    evaluation = ["--points", "2", "--episodes", "1", "--root", root]
    assert main(["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "1", *TINY, *evaluation,
                 "--backend", "serial"]) == 0
    capsys.readouterr()
    status, out = _plan(capsys, *TINY, *evaluation)
    assert status == 0 and out.out.startswith("done ") and "1 runs: 1 done" in out.out
    # other evaluation settings: the sweep would evaluate the run again, and the plan says so
    assert _plan(capsys, *TINY, "--points", "2", "--episodes", "2", "--root", root)[1].out.startswith("evaluate ")


HOLD_LOCK = """
import sys
from cebe_deep.run.training import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()  # until the test closes our stdin
"""


def test_a_run_another_process_holds_is_not_trained_twice(tmp_path, capsys):
    # one sweep (or `cebe-deep train`) is training root/SimpleDirection/cse/seed0; the same command started again
    root, results = tmp_path / "runs", tmp_path / "results"
    run = root / "SimpleDirection" / "cse" / "seed0"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        status, out = _plan(capsys, *TINY, "--root", str(root))
        assert status == 0 and out.out.startswith("busy ") and "another process holds it; train: new run" in out.out
        argv = ["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "2", *TINY, "--points", "2",
                "--episodes", "1", "--root", str(root), "--results", str(results), "--backend", "serial"]
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "1 of 2 runs did not finish (first: SimpleDirection/cse/seed0: RunBusy: " in err
        assert "another process is training or evaluating this run" in err and "Traceback" not in err
        assert not (run / "model.zip").exists() and not (results / "evaluation.csv").exists()
        assert (root / "SimpleDirection" / "cse" / "seed1" / "model.zip").exists()  # the free run was trained
        # `cebe-deep train` into the held run: one line, exit 2
        assert main(["train", "--task", "SimpleDirection", "--method", "cse", "--out", str(run), "--no-progress",
                     *TINY]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "another process is training or evaluating this run" in err
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    # the holder is gone (its OS lock with it): the same command now trains the run and writes the results
    assert main(argv) == 0
    assert (run / "model.zip").exists() and (results / "evaluation.csv").exists()


def test_a_lock_held_for_a_moment_is_waited_for(tmp_path):
    # a `sweep --dry-run` looks at each run by taking and releasing its lock: a sweep starting the run at that
    # moment waits for it instead of failing the run
    import threading

    from cebe_deep.run.training import RunBusy, run_is_busy, run_lock

    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert run_is_busy(run)
    with pytest.raises(RunBusy):
        with run_lock(run, wait=0.2):
            pass
    threading.Timer(0.5, holder.stdin.close).start()  # the holder lets go after half a second
    with run_lock(run, wait=30):
        assert holder.wait(timeout=30) == 0
    assert not run_is_busy(run)


def test_dry_run_still_refuses_bad_flags(tmp_path, capsys):
    status, out = _plan(capsys, "--eps", "-1", "--root", str(tmp_path))
    assert status == 2 and "--eps" in out.err and "Traceback" not in out.err


# ------------------------------------------------------------------------- results/commands.sh
SHIM = """#!{python}
import json, os, sys
with open(os.environ["CEBE_RECORD"], "a") as record:
    record.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
"""


def _recorded_commands(tmp_path: Path, section: str, part: str = "", **variables: str) -> list[list[str]]:
    """Run results/commands.sh SECTION [PART] in an empty copy of the repository layout, with ``cebe-deep`` and
    ``python`` replaced by a shim that records their arguments; returns the recorded command lines."""
    work = tmp_path / "work"
    (work / "results").mkdir(parents=True, exist_ok=True)
    shims = tmp_path / "bin"
    shims.mkdir(exist_ok=True)
    for name in ("cebe-deep", "cebe-theory", "python"):
        (shims / name).write_text(SHIM.format(python=sys.executable))
        (shims / name).chmod(0o755)
    # the open section's extrapolation part copies the finished CheetahVelocity runs of the authors' section:
    # give it stand-ins with those runs' configs, so that its sweep must find them trained with the same config
    for method in ("baseline", "cse", "ldr") if section == "open" else ():
        for seed in range(5):
            run = work / "runs" / "authors" / "CheetahVelocity" / method / f"seed{seed}"
            run.mkdir(parents=True, exist_ok=True)
            config = make_config("CheetahVelocity", method, "authors", seed=seed)
            (run / "config.json").write_text(json.dumps(config.to_json()))
            (run / "model.zip").write_text("")
            (run / "train_summary.json").write_text("{}")
    record = tmp_path / f"record-{section}-{part or 'all'}.jsonl"
    environment = dict(os.environ, PATH=f"{shims}{os.pathsep}{os.environ['PATH']}", CEBE_RECORD=str(record), **variables)
    completed = subprocess.run(["bash", str(ROOT / "results" / "commands.sh"), section, *([part] if part else [])],
                               cwd=work, env=environment, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


@pytest.mark.parametrize("section", ["authors", "open"])
def test_every_sweep_of_commands_sh_passes_its_dry_run(section, tmp_path, capsys, monkeypatch):
    commands = _recorded_commands(tmp_path, section)
    sweeps = [command[2:] for command in commands if command[:2] == ["cebe-deep", "sweep"]]
    assert len(sweeps) >= (7 if section == "authors" else 30)  # every cell of the section was reached
    monkeypatch.chdir(tmp_path / "work")  # the commands' relative --root / --results land in the copy
    for arguments in sweeps:
        status = main(["sweep", *arguments, "--dry-run"])
        output = capsys.readouterr()
        assert status == 0, f"cebe-deep sweep {' '.join(arguments)}: {output.err.strip()}"
        if "runs/open/extrapolation" in arguments:  # the copied CheetahVelocity runs are only evaluated
            assert "15 runs: 15 evaluate" in output.out, output.out
    modules = [command[2] for command in commands if command[:2] == ["python", "-m"]]
    for module in modules:  # the modules the section runs exist
        assert importlib.util.find_spec(module) is not None, module
    assert not [command for command in commands if command[0] == "python" and command[1] != "-m"]  # no scripts


def test_a_committed_cell_is_skipped(tmp_path):
    folder = tmp_path / "work" / "results" / "authors" / "SimpleDirection"
    folder.mkdir(parents=True)
    (folder / "evaluation.csv").write_text("")
    commands = _recorded_commands(tmp_path, "authors")
    assert not any("results/authors/SimpleDirection" in command for command in commands)
    assert any("results/authors/PendulumGoal" in command for command in commands)


def test_a_cell_committed_gzipped_is_skipped_and_the_large_cells_are_written_gzipped(tmp_path):
    folder = tmp_path / "work" / "results" / "open" / "dimension" / "d4"
    folder.mkdir(parents=True)
    (folder / "evaluation.csv.gz").write_bytes(b"")
    commands = [command for command in _recorded_commands(tmp_path, "open", "dimension")
                if command[:2] == ["cebe-deep", "sweep"]]
    assert not any("results/open/dimension/d4" in command for command in commands)
    assert any("results/open/dimension/d16" in command for command in commands)
    assert all("--gzip" in command for command in commands)  # every dimension and budget cell


def test_the_scaled_eps_cells_are_cse_at_0_1_sqrt_d_over_2_and_ldr_at_0_1_over_sqrt_d_over_2(tmp_path):
    commands = [command for command in _recorded_commands(tmp_path, "open", "dimension-eps")
                if command[:2] == ["cebe-deep", "sweep"]]
    cells = {(command[command.index("--methods") + 1], int(command[command.index("--dimension") + 1]),
              float(command[command.index("--eps") + 1])) for command in commands}
    assert len(commands) == 4
    assert cells == {(method, d, round(0.1 * ((d / 2) ** 0.5 if method == "cse" else (d / 2) ** -0.5), 10))
                     for method in ("cse", "ldr") for d in (8, 32)}


def test_an_unknown_part_of_the_open_section_exits_2_naming_the_parts(tmp_path):
    (tmp_path / "results").mkdir()
    completed = subprocess.run(["bash", str(ROOT / "results" / "commands.sh"), "open", "dimensions"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and "'dimensions'" in completed.stderr and "dimension-eps" in completed.stderr
    assert not (tmp_path / "runs").exists()


def test_sigterm_to_a_sweep_checkpoints_its_running_runs_and_starts_no_other(tmp_path):
    """``kill PID`` of a sweep (a batch system's stop, or a queue stopped by hand) is passed on to its workers:
    the running runs checkpoint and stop, the queued run does not start, no results are written, exit 130."""
    import signal
    import time

    root, results = tmp_path / "runs", tmp_path / "results"
    command = [sys.executable, "-m", "cebe_deep", "sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "3",
               "--steps", "400000", "--learning-starts", "50", "--batch-size", "16", "--net", "8,8",
               "--checkpoint-every", "1000000", "--workers", "2", "--root", str(root), "--results", str(results)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = [root / "SimpleDirection" / "cse" / f"seed{seed}" for seed in range(3)]
    deadline = time.monotonic() + 300
    while not all(any((run / "monitor").glob("*.monitor.csv")) for run in runs[:2]):  # both workers are training
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-2000:]
        time.sleep(0.5)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err[-2000:]
    assert "3 runs did not finish" in err and "Traceback" not in err
    for run in runs[:2]:  # checkpointed on the signal (the periodic checkpoint is beyond the budget)
        assert (run / "checkpoint" / "model.zip").exists() and not (run / "model.zip").exists()
    assert not (runs[2] / "config.json").exists()  # the queued run never started
    assert not (results / "evaluation.csv").exists()


def test_an_interruption_crosses_the_process_boundary_intact():
    """A worker's TrainingInterrupted is pickled back to its sweep; unpicklable, it used to break the whole process
    pool (and with it the sibling runs, killed without a checkpoint)."""
    import pickle

    from cebe_deep.run.training import TrainingInterrupted

    error = pickle.loads(pickle.dumps(TrainingInterrupted(Path("runs/x/seed0"), 1234, "SIGTERM")))
    assert (error.run_dir, error.num_timesteps, error.signal_name) == (Path("runs/x/seed0"), 1234, "SIGTERM")
    assert "checkpoint of runs/x/seed0 written at step 1234" in str(error)


def test_training_curves_are_skipped_without_runs_and_drawn_from_the_runs_there(tmp_path):
    """A fresh machine has the committed results but no runs/: the curves step says so instead of failing the
    queue; where the runs are, it reads every seed directory of each method."""
    commands = _recorded_commands(tmp_path, "authors")
    assert not any(command[:2] == ["cebe-deep", "curves"] for command in commands)
    for method in ("baseline", "cse", "ldr"):
        for seed in range(2):
            (tmp_path / "work" / "runs" / "authors" / "CartGoal" / method / f"seed{seed}").mkdir(parents=True)
    curves = [command for command in _recorded_commands(tmp_path, "authors") if command[:2] == ["cebe-deep", "curves"]]
    assert len(curves) == 1
    assert curves[0][2:8] == [f"runs/authors/CartGoal/{method}/seed{seed}" for method in ("baseline", "cse", "ldr")
                              for seed in range(2)]
    assert curves[0][8:] == ["--out", "results/authors/CartGoal/training_curves.csv", "--figure",
                             "results/authors/CartGoal/training.png"]


def test_the_dimension_cells_at_d_8_and_32_take_the_budget_runs_at_53500(tmp_path, capsys, monkeypatch):
    """`open dimension` trains the budget stages up to 53,500 env steps (the dimension experiment's budget, the
    same configuration) and copies those runs into the dimension cells, which then only evaluate them; a run
    already extended past 53,500 is not copied (its cell would train its own)."""
    work = tmp_path / "work"
    for dimension, steps in ((8, 53_500), (32, 80_000)):
        for method in ("baseline", "cse", "ldr"):
            for seed in range(5):
                run = (
                    work / "runs" / "open" / "dimension-budget" / f"d{dimension}" / "SimpleDirection" / method / f"seed{seed}"
                )
                (run / "monitor").mkdir(parents=True)
                config = make_config("SimpleDirection", method, "authors", seed=seed, dimension=dimension,
                                     total_steps=steps)
                (run / "config.json").write_text(json.dumps(config.to_json(), indent=2))
                (run / "model.zip").write_text("")
                (run / "train_summary.json").write_text("{}")
    commands = _recorded_commands(tmp_path, "open", "dimension")
    budgets = [command[command.index("--steps") + 1] for command in commands
               if command[:2] == ["cebe-deep", "sweep"] and "--steps" in command]
    assert budgets == ["5000", "10000", "20000", "40000", "53500"] * 2  # 80,000 belongs to `open budget`
    copied = sorted((work / "runs" / "open" / "dimension" / "d8" / "SimpleDirection").glob("*/seed*/model.zip"))
    assert len(copied) == 15
    assert not (work / "runs" / "open" / "dimension" / "d32").exists()
    monkeypatch.chdir(work)
    for dimension, expected in ((8, "15 runs: 15 evaluate"), (32, "15 runs: 15 train")):
        sweep = next(command for command in commands if f"runs/open/dimension/d{dimension}" in command)
        assert main(["sweep", *sweep[2:], "--dry-run"]) == 0
        assert expected in capsys.readouterr().out
    commands = _recorded_commands(tmp_path, "open", "budget")
    assert [command[command.index("--steps") + 1] for command in commands if "--steps" in command] == \
        ["5000", "10000", "20000", "40000", "53500", "80000"] * 2


@pytest.mark.parametrize("section", ["authors", "open"])
def test_dry_run_of_a_whole_section_writes_nothing(section, tmp_path):
    """DRY_RUN=1 bash results/commands.sh SECTION: every sweep only plans (--dry-run), no script, copy or curves
    step runs, and nothing appears under runs/ or results/ (the open section's CheetahVelocity stand-ins and a
    budget run that a reuse step would copy are there before, and stay alone)."""
    work = tmp_path / "work"
    source = work / "runs" / "open" / "dimension-budget" / "d8" / "SimpleDirection" / "cse" / "seed0"
    source.mkdir(parents=True)
    config = make_config("SimpleDirection", "cse", "authors", seed=0, dimension=8, total_steps=53_500)
    (source / "config.json").write_text(json.dumps(config.to_json(), indent=2))
    (source / "model.zip").write_text("")
    (source / "train_summary.json").write_text("{}")
    before = set(tmp_path.rglob("*"))
    commands = _recorded_commands(tmp_path, section, DRY_RUN="1")
    after = {path for path in tmp_path.rglob("*") if "record-" not in path.name}
    assert commands and all(command[:2] == ["cebe-deep", "sweep"] and "--dry-run" in command for command in commands)
    stand_ins = work / "runs" / "authors" / "CheetahVelocity"  # made by _recorded_commands for the open section
    new = {path for path in after - before if tmp_path / "bin" not in (path, *path.parents)
           and stand_ins not in (path, *path.parents) and path not in (work / "runs", work / "runs" / "authors")}
    assert new <= {work / "results"}, sorted(map(str, new))[:5]  # the layout's empty results/ folder only


def test_the_plan_says_how_long_the_training_left_takes(tmp_path, capsys):
    """The dry-run's last line: env steps left (new runs: their budget; a finished run: none) and the time they
    take at the finished runs' measured speed, scheduled on the workers (the greedy longest-first schedule)."""
    from cebe_deep.cli.plan import time_to_train
    from cebe_deep.run.sweeps import makespan, measured_steps_per_second, steps_to_train

    assert makespan([5, 4, 3, 3], 2) == 8 and makespan([5, 4, 3, 3], 1) == 15 and makespan([], 3) == 0
    assert makespan([2, 2, 2], 8) == 2
    assert time_to_train([0, 0], (100.0, 2), 2, makespan) == ""
    assert (
        time_to_train([400, 0], (float("nan"), 0), 2, makespan)
        == "; 400 env steps to train (no finished run here to time them)"
    )
    # two runs of 7,200 and one of 3,600 steps at 1 step/s on 2 workers: 7,200 s = 2.0 h
    assert time_to_train([7200, 7200, 3600], (1.0, 3), 2, makespan) == (
        "; 18,000 env steps to train, about 3.0 h with 2 workers at 1 env steps/s per run (the median of the 3 "
        "finished runs here; evaluation not included)")
    assert "about 30 min with 1 worker" in time_to_train([1800], (1.0, 1), 4, makespan)  # one run: one worker
    assert "(the one finished run here;" in time_to_train([1800], (1.0, 1), 4, makespan)

    root = tmp_path / "runs"
    assert main(["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "1", *TINY, "--points", "2",
                 "--episodes", "1", "--root", str(root), "--backend", "serial"]) == 0
    capsys.readouterr()
    finished = root / "SimpleDirection" / "cse" / "seed0"
    rate = json.loads((finished / "train_summary.json").read_text())["steps_per_second"]
    assert measured_steps_per_second([finished, root / "nothing"]) == (pytest.approx(rate), 1)
    status, out = _plan(capsys, *TINY, "--seeds", "3", "--root", str(root))
    assert status == 0  # seed 0 done, seeds 1 and 2 new: 2 x 200 steps, one per worker
    assert f"; 400 env steps to train, about {200 / rate:.0f} s with 2 workers" in out.out.splitlines()[-1]

    def config(steps, seed=0):
        return make_config("SimpleDirection", "cse", total_steps=steps, learning_starts=50, batch_size=16,
                           net_arch=(8, 8), seed=seed)

    assert steps_to_train(config(200), finished) == 0  # trained
    assert steps_to_train(config(300), finished) == 100  # extended by the added budget
    assert steps_to_train(config(300, seed=1), root / "new") == 300
    stopped = tmp_path / "stopped"  # a checkpoint at step 120: SB3's num_timesteps in the zip's data JSON
    (stopped / "checkpoint").mkdir(parents=True)
    (stopped / "config.json").write_text(json.dumps(config(200, seed=1).to_json()))
    with zipfile.ZipFile(stopped / "checkpoint" / "model.zip", "w") as archive:
        archive.writestr("data", json.dumps({"num_timesteps": 120}))
    assert steps_to_train(config(200, seed=1), stopped) == 80


def _sweep(root, *argv):
    return main(["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "1", *argv, "--points", "2",
                 "--episodes", "1", "--root", str(root), "--backend", "serial"])


def test_an_extended_run_is_evaluated_again(tmp_path, capsys):
    """A larger --steps extends a finished run; its evaluation (of the smaller budget's model) must not count as
    done: evaluation.json records the env steps of the model it evaluated."""
    root = tmp_path / "runs"
    run = root / "SimpleDirection" / "cse" / "seed0"
    assert _sweep(root, *TINY) == 0
    first = (run / "evaluation.csv").read_bytes()
    assert json.loads((run / "evaluation.json").read_text())["model_steps"] == 200
    capsys.readouterr()
    assert _plan(capsys, *TINY[2:], "--steps", "400", "--points", "2", "--episodes", "1",
                 "--root", str(root))[1].out.startswith("extend ")
    assert _sweep(root, *TINY[2:], "--steps", "400") == 0
    assert json.loads((run / "evaluation.json").read_text())["model_steps"] == 400
    assert (run / "evaluation.csv").read_bytes() != first  # the 400-step policy, evaluated
    capsys.readouterr()
    assert _plan(capsys, *TINY[2:], "--steps", "400", "--points", "2", "--episodes", "1",
                 "--root", str(root))[1].out.startswith("done ")


def test_an_evaluation_of_an_earlier_version_counts_only_if_newer_than_the_model(tmp_path):
    from cebe_deep.run.sweeps import Job, is_evaluated

    root = tmp_path / "runs"
    run = root / "SimpleDirection" / "cse" / "seed0"
    assert _sweep(root, *TINY) == 0
    spec = Job(make_config("SimpleDirection", "cse"), str(run), 2, 1).evaluation_spec()
    assert is_evaluated(run, spec)
    (run / "evaluation.json").write_text(json.dumps(spec))  # as written before model_steps existed
    assert is_evaluated(run, spec)
    later = (run / "evaluation.json").stat().st_mtime + 10
    os.utime(run / "model.zip", (later, later))  # the model changed after that evaluation
    assert not is_evaluated(run, spec)
    (run / "evaluation.json").write_text(json.dumps(dict(spec, model_steps=100)))  # another model's evaluation
    assert not is_evaluated(run, spec)


def test_a_run_that_cannot_be_extended_is_trained_again_and_the_old_one_kept(tmp_path, capsys):
    """A finished run without its final state (a replay buffer over KEEP_REPLAY_BYTES) cannot be extended: the
    sweep moves it to superseded/<steps>/ and trains from zero, which gives the run an extension would give."""
    root, whole = tmp_path / "runs", tmp_path / "whole"
    run = root / "SimpleDirection" / "cse" / "seed0"
    assert _sweep(root, *TINY) == 0
    shutil.rmtree(run / "checkpoint")  # as when the final buffer is too large to keep
    old_model = (run / "model.zip").read_bytes()
    capsys.readouterr()
    status, out = _plan(capsys, *TINY[2:], "--steps", "400", "--points", "2", "--episodes", "1", "--root", str(root))
    assert status == 0 and out.out.startswith("retrain ") and "superseded/200/" in out.out
    assert "400 env steps to train" in out.out
    assert not (run / "superseded").exists()  # the plan moved nothing
    assert _sweep(root, *TINY[2:], "--steps", "400") == 0
    kept = run / "superseded" / "200"
    assert (kept / "model.zip").read_bytes() == old_model and (kept / "evaluation.csv").exists()
    assert json.loads((run / "config.json").read_text())["total_steps"] == 400
    assert json.loads((run / "evaluation.json").read_text())["model_steps"] == 400
    assert _sweep(whole, *TINY[2:], "--steps", "400") == 0  # the same run trained in one go
    twin = whole / "SimpleDirection" / "cse" / "seed0"
    assert (twin / "evaluation.csv").read_text().replace(str(whole), str(root)) == \
        (run / "evaluation.csv").read_text()


def test_the_open_section_writes_exactly_the_cells_of_the_package_grids(tmp_path):
    """The experiment grids are defined once, in cebe_deep.report.open_questions.common (which the reports read);
    results/commands.sh must sweep exactly those cells, no more and no fewer."""
    from cebe_deep.report.open_questions.common import experiment_cells

    commands = _recorded_commands(tmp_path, "open")
    written = {command[command.index("--results") + 1].removeprefix("results/open/")
               for command in commands if command[:2] == ["cebe-deep", "sweep"]}
    assert written == set(experiment_cells())


def test_the_extra_seeds_train_one_seed_at_a_time_and_skip_what_is_staged(tmp_path, capsys, monkeypatch):
    """CheetahVelocity seeds 5-9 and AntDirection 3-9, each seed's three runs then staged; a staged seed is skipped
    (a fresh machine trains only the rest), and every sweep passes its dry run."""
    for method, seed in [("baseline", 5), ("cse", 5), ("ldr", 5), ("baseline", 6)]:
        staged = tmp_path / "work" / "results" / "authors" / "CheetahVelocity" / "staged" / method / f"seed{seed}"
        staged.mkdir(parents=True)
        (staged / "evaluation.csv.gz").write_bytes(b"")
    commands = _recorded_commands(tmp_path, "extra-seeds")
    sweeps = [command[2:] for command in commands if command[:2] == ["cebe-deep", "sweep"]]
    seeds = [(arguments[arguments.index("--task") + 1], arguments[arguments.index("--seeds") + 1]) for arguments in sweeps]
    assert seeds == [("CheetahVelocity", f"{k}-{k}") for k in range(6, 10)] + [
        ("AntDirection", f"{k}-{k}") for k in range(3, 10)
    ]
    methods = [arguments[arguments.index("--methods") + 1] for arguments in sweeps]
    assert methods == ["cse,ldr"] + ["baseline,cse,ldr"] * (len(seeds) - 1)  # a staged run is not trained again
    stages = [command for command in commands if command[:2] == ["cebe-deep", "stage"]]
    assert len(stages) == 3 * len(seeds) - 1
    assert stages[0][2:] == ["runs/authors/CheetahVelocity/cse/seed6", "--out",
                             "results/authors/CheetahVelocity/staged/cse/seed6"]
    monkeypatch.chdir(tmp_path / "work")
    for arguments in sweeps[:1] + sweeps[-1:]:
        assert main(["sweep", *arguments, "--dry-run"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("section, task, staged, seeds", [
    ("extra-seeds", "CheetahVelocity", "results/authors/CheetahVelocity/staged", range(5, 10)),
    ("extra-seeds", "AntDirection", "results/authors/AntDirection/staged", range(3, 10)),
    ("cartgoal-dqn", "CartGoal", "results/authors/CartGoal-dqn/staged", range(10)),
    ("settle", "CheetahVelocity", "results/settle/CheetahVelocity-new-seeds/staged", range(10, 30)),
])
def test_the_staged_sections_train_only_what_is_not_staged(section, task, staged, seeds, tmp_path, capsys,
                                                           monkeypatch):
    """The long sections train one seed at a time and stage each run: a seed staged whole is skipped, a seed with
    one method staged trains the other two, every sweep passes its dry run, each trained run is staged, and the
    task's tables are not rebuilt while a run is missing."""
    seeds = list(seeds)
    for method, seed in [(m, seeds[0]) for m in ("baseline", "cse", "ldr")] + [("cse", seeds[1])]:
        folder = tmp_path / "work" / staged / method / f"seed{seed}"
        folder.mkdir(parents=True)
        (folder / "evaluation.csv.gz").write_bytes(b"")
    commands = _recorded_commands(tmp_path, section, task if section == "extra-seeds" else "")
    sweeps = [command[2:] for command in commands if command[:2] == ["cebe-deep", "sweep"]]
    assert [sweep[sweep.index("--seeds") + 1] for sweep in sweeps] == [f"{seed}-{seed}" for seed in seeds[1:]]
    assert sweeps[0][sweeps[0].index("--methods") + 1] == "baseline,ldr"
    assert all(sweep[sweep.index("--methods") + 1] == "baseline,cse,ldr" for sweep in sweeps[1:])
    stages = [command for command in commands if command[:2] == ["cebe-deep", "stage"]]
    assert len(stages) == 2 + 3 * (len(seeds) - 2)
    assert all(command[command.index("--out") + 1].startswith(staged) for command in stages)
    assert not [command for command in commands if command[:2] in (["cebe-deep", "summarize"], ["cebe-deep", "curves"])]
    # the settling sample is fixed to one machine (results/PROTOCOL.md section 9): each of its sweeps says so
    assert all((_flags(sweep).get("--same-machine-as") == staged) == (section == "settle") for sweep in sweeps)
    monkeypatch.chdir(tmp_path / "work")
    for arguments in sweeps:
        assert main(["sweep", *arguments, "--dry-run"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("workers, expected", [
    ("2", ["11-11", "12,13", "14,15", "16,17", "18,19", "20,21", "22,23", "24,25", "26,27", "28,29"]),
    ("3", [f"{seed}-{seed}" for seed in range(11, 30)]),
    ("4", ["11-11", "12,13,14,15", "16,17,18,19", "20,21,22,23", "24,25,26,27", "28,29"]),
])
def test_a_staged_sweep_takes_as_many_seeds_as_keep_its_workers_busy(workers, expected, tmp_path, capsys, monkeypatch):
    """With WORKERS=2 and three methods, one seed a sweep leaves a worker idle for its third run: a sweep takes two
    seeds (six runs, three full rounds); with WORKERS=3 one seed fills them; WORKERS=4 needs four seeds.  A seed with
    other methods left to train (seed 11: CSE staged) is a sweep of its own, and the last batch may be short.  Every
    run is still staged, seed by seed, method by method."""
    staged = "results/settle/CheetahVelocity-new-seeds/staged"
    for method, seed in [(m, 10) for m in ("baseline", "cse", "ldr")] + [("cse", 11)]:
        folder = tmp_path / "work" / staged / method / f"seed{seed}"
        folder.mkdir(parents=True)
        (folder / "evaluation.csv.gz").write_bytes(b"")
    commands = _recorded_commands(tmp_path, "settle", WORKERS=workers)
    sweeps = [_flags(command[2:]) for command in commands if command[:2] == ["cebe-deep", "sweep"]]
    assert [sweep["--seeds"] for sweep in sweeps] == expected
    assert [sweep["--methods"] for sweep in sweeps] == ["baseline,ldr"] + ["baseline,cse,ldr"] * (len(expected) - 1)
    assert {sweep["--workers"] for sweep in sweeps} == {workers}
    stages = [command[command.index("--out") + 1] for command in commands if command[:2] == ["cebe-deep", "stage"]]
    assert stages == [f"{staged}/{method}/seed11" for method in ("baseline", "ldr")] + [
        f"{staged}/{method}/seed{seed}" for seed in range(12, 30) for method in ("baseline", "cse", "ldr")]
    monkeypatch.chdir(tmp_path / "work")
    for sweep in sweeps[1:2]:  # a sweep of several seeds passes its dry run
        arguments = [item for pair in sweep.items() for item in pair if item != ""]
        assert main(["sweep", *arguments, "--dry-run"]) == 0, capsys.readouterr().err


def _flags(arguments: list[str]) -> dict[str, str]:
    """``--flag value`` pairs of a command line (a flag without a value maps to "")."""
    flags, index = {}, 0
    while index < len(arguments):
        value = arguments[index + 1] if index + 1 < len(arguments) and not arguments[index + 1].startswith("--") else None
        flags[arguments[index]] = "" if value is None else value
        index += 1 if value is None else 2
    return flags


def test_the_later_seeds_are_re_run_on_request_and_the_whole_table_then_compared(tmp_path):
    """SEEDS=5-9 bash results/commands.sh reproduce CheetahVelocity trains the later seeds again (one sweep per seed,
    staged under reproduced/); with the first seeds alone re-run, the re-run table holds them and is set beside
    first-seeds/; once all 10 are re-run it holds all 10 and is set beside the whole table.  SEEDS without a
    folder is refused."""
    cheetah = tmp_path / "work" / "results" / "authors" / "CheetahVelocity"
    (cheetah / "first-seeds").mkdir(parents=True)

    def stage(seeds):
        for method in ("baseline", "cse", "ldr"):
            for seed in seeds:
                (cheetah / "reproduced" / method / f"seed{seed}").mkdir(parents=True, exist_ok=True)
                (cheetah / "reproduced" / method / f"seed{seed}" / "evaluation.csv.gz").write_bytes(b"")

    def commands(name, **variables):
        recorded = _recorded_commands(tmp_path / name, "reproduce", "CheetahVelocity", **variables)
        sweeps = [_flags(command[2:])["--seeds"] for command in recorded if command[:2] == ["cebe-deep", "sweep"]]
        summaries = [command[2:] for command in recorded if command[:2] == ["cebe-deep", "summarize"]]
        protocols = [command[3:] for command in recorded if command[:3] == ["cebe-deep", "report", "protocol"]]
        return sweeps, summaries, protocols

    def tables(seeds):
        return [f"results/authors/CheetahVelocity/reproduced/{method}/seed{seed}/evaluation.csv.gz"
                for method in ("baseline", "cse", "ldr") for seed in seeds]

    for root in ("a", "b", "c"):  # each call works in its own copy: link the staged runs' folder into it
        (tmp_path / root / "work" / "results").mkdir(parents=True)
        (tmp_path / root / "work" / "results" / "authors").symlink_to(cheetah.parent)
    stage(range(5))
    sweeps, summaries, protocols = commands("a", SEEDS="5-9")
    assert sweeps == [f"{seed}-{seed}" for seed in range(5, 10)]
    assert summaries == [[*tables(range(5)), "--results", "results/reruns/CheetahVelocity-rerun", "--gzip"]]
    assert protocols == [["results/authors/CheetahVelocity/first-seeds", "results/reruns/CheetahVelocity-rerun",
                          "--write-zero-action"]]
    stage(range(5, 10))
    sweeps, summaries, protocols = commands("b")
    assert sweeps == []
    assert summaries == [[*tables(range(10)), "--results", "results/reruns/CheetahVelocity-rerun", "--gzip"]]
    assert protocols == [["results/authors/CheetahVelocity", "results/reruns/CheetahVelocity-rerun",
                          "--write-zero-action"]]
    completed = subprocess.run(["bash", str(ROOT / "results" / "commands.sh"), "reproduce"], cwd=tmp_path / "c" / "work",
                               env=dict(os.environ, SEEDS="5-9"), capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and "needs one folder" in completed.stderr


def test_the_reproduced_runs_train_with_the_command_that_trained_them(tmp_path, capsys, monkeypatch):
    """results/commands.sh reproduce trains each pre-provenance run again with its task's sweep of the authors
    section (same flags but the seed, the root and where tables go), one seed at a time, skips a staged run, stages
    each run under the folder's reproduced/, and then writes each folder's runs.csv (report runs)."""
    authors = {}
    for command in _recorded_commands(tmp_path / "a", "authors"):
        if command[:2] == ["cebe-deep", "sweep"]:
            flags = _flags(command[2:])
            authors[Path(flags.pop("--results")).name] = flags
    authors_results = tmp_path / "r" / "work" / "results" / "authors"
    done = [("PendulumGoal-uniform", "cse", 0)] + [("PendulumGoal-gymnasium", method, seed)
                                                  for method in ("baseline", "cse") for seed in range(10)] + [
        ("CheetahVelocity", method, seed) for method in ("baseline", "cse", "ldr") for seed in range(5)]
    (authors_results / "CheetahVelocity" / "first-seeds").mkdir(parents=True)
    for folder, method, seed in done:
        staged = authors_results / folder / "reproduced" / method / f"seed{seed}"
        staged.mkdir(parents=True)
        (staged / "evaluation.csv.gz").write_bytes(b"")
    commands = _recorded_commands(tmp_path / "r", "reproduce")
    sweeps = [command[2:] for command in commands if command[:2] == ["cebe-deep", "sweep"]]
    expected_seeds = {"SimpleDirection": 10, "PendulumGoal": 10, "PendulumGoal-uniform": 10, "CheetahVelocity": 5,
                      "AntDirection": 3}  # PendulumGoal-gymnasium's 20 runs are all staged: none trains
    del expected_seeds["CheetahVelocity"]  # nor do CheetahVelocity's 15
    seen = {}
    ignored = ("--seeds", "--root", "--results", "--gzip", "--workers", "--methods")
    for arguments in sweeps:
        flags = _flags(arguments)
        folder = Path(flags["--root"]).name
        assert flags["--root"] == f"runs/reproduce/{folder}"
        original = authors[folder]
        assert {k: v for k, v in flags.items() if k not in ignored} == {
            k: v for k, v in original.items() if k not in ignored}, folder
        seed = int(flags["--seeds"].split("-")[0])
        assert flags["--seeds"] == f"{seed}-{seed}"
        methods = flags["--methods"].split(",")
        if (folder, seed) == ("PendulumGoal-uniform", 0):
            assert methods == ["baseline"]  # its staged CSE run is not trained again
        else:
            assert methods == original["--methods"].split(",")
        seen.setdefault(folder, []).append(seed)
    assert seen == {folder: list(range(count)) for folder, count in expected_seeds.items()}
    stages = [command for command in commands if command[:2] == ["cebe-deep", "stage"]]
    assert all("/reproduced/" in command[command.index("--out") + 1] for command in stages)
    assert len(stages) == len([m for arguments in sweeps for m in _flags(arguments)["--methods"].split(",")])
    reports = [command[2:] for command in commands if command[:3] == ["cebe-deep", "report", "runs"]]
    folders = ["SimpleDirection", "PendulumGoal", "PendulumGoal-gymnasium", "PendulumGoal-uniform", "CheetahVelocity",
               "AntDirection"]
    assert reports == [["runs", f"results/authors/{folder}"] for folder in folders]
    # the folders whose runs are all re-run (and only they) get tables from the re-runs, with their zero action;
    # CheetahVelocity's verdicts beside those of its first seeds' table, the runs it re-ran
    summaries = [command[2:] for command in commands if command[:2] == ["cebe-deep", "summarize"]]
    assert summaries == [[*(f"results/authors/PendulumGoal-gymnasium/reproduced/{method}/seed{seed}/evaluation.csv.gz"
                            for method in ("baseline", "cse") for seed in range(10)),
                          "--results", "results/reruns/PendulumGoal-gymnasium-rerun", "--gzip"],
                         [*(f"results/authors/CheetahVelocity/reproduced/{method}/seed{seed}/evaluation.csv.gz"
                            for method in ("baseline", "cse", "ldr") for seed in range(5)),
                          "--results", "results/reruns/CheetahVelocity-rerun", "--gzip"]]
    protocols = [command[3:] for command in commands if command[:3] == ["cebe-deep", "report", "protocol"]]
    assert protocols == [["results/reruns/PendulumGoal-gymnasium-rerun", "--write-zero-action",
                          "--dynamics", "PendulumGoal-gymnasium-rerun=gymnasium"],
                         ["results/authors/CheetahVelocity/first-seeds", "results/reruns/CheetahVelocity-rerun",
                          "--write-zero-action"]]
    monkeypatch.chdir(tmp_path / "r" / "work")
    for arguments in sweeps[:1] + sweeps[-1:]:
        assert main(["sweep", *arguments, "--dry-run"]) == 0, capsys.readouterr().err
