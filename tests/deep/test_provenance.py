"""Provenance: runs.csv from a sweep (one row per run, with the commit it trained on) and a staged run, which keeps
what a results table and the training curves need of it (not the model) and reads back as the run did."""

from __future__ import annotations

import gzip
import json
import platform
import re
from pathlib import Path

import pandas as pd
import torch

from cebe_deep.cli import main
from cebe_deep.run.provenance import RUN_COLUMNS, code_commit, compare_evaluations, runs_table

TINY = ["--steps", "300", "--learning-starts", "100", "--checkpoint-every", "300", "--points", "2", "--episodes", "2"]


def test_a_sweep_writes_runs_csv_and_a_staged_run_reads_back(tmp_path, capsys):
    root, results = tmp_path / "runs", tmp_path / "results"
    assert main(["sweep", "--task", "SimpleDirection", "--methods", "baseline,cse", "--seeds", "2", "--workers", "1",
                 "--backend", "serial", "--root", str(root), "--results", str(results), *TINY]) == 0
    runs = pd.read_csv(results / "runs.csv")
    assert sorted(zip(runs["method"], runs["seed"])) == [("baseline", 0), ("baseline", 1), ("cse", 0), ("cse", 1)]
    assert (runs["env_steps"] == 300).all() and (runs["training_seconds"] > 0).all()
    assert (runs["env_steps_per_second"] - runs["env_steps"] / runs["training_seconds"]).abs().max() < 1e-6
    assert set(runs["commit"]) == {code_commit()} and set(runs["profile"]) == {"quick"}
    assert set(runs["replay"]) == {"uniform"} and not runs["double_q"].any()
    # the machine: the CPU as Linux names it, the architecture, torch's version and kernels, one thread per run
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = re.search(r"^model name\s*:\s*(.*?)\s*$", cpuinfo, re.M)
    expected = (f"{model.group(1) if model else platform.processor() or platform.machine()} ({platform.machine()}); "
                f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, 1 thread")
    assert set(runs["machine"]) == {expected}

    run = root / "SimpleDirection" / "cse" / "seed1"
    staged = tmp_path / "staged" / "cse" / "seed1"
    assert main(["stage", str(run), "--out", str(staged), "--commit", "abc123"]) == 0
    assert not (staged / "model.zip").exists() and (staged / "monitor").is_dir()
    with gzip.open(staged / "evaluation.csv.gz", "rb") as packed:
        assert packed.read() == (run / "evaluation.csv").read_bytes()
    assert runs_table([staged]).drop(columns="run").equals(runs_table([run]).drop(columns="run"))
    assert json.loads((staged / "train_summary.json").read_text())["commit"] == code_commit()  # its own, not --commit
    # Staged runs merged by summarize (as results/commands.sh merges a task's seeds): runs.csv has a row per staged
    # run, equal to the sweep's, and none for a table without its run folder.
    merged = tmp_path / "merged"
    for method, seed in (("baseline", 0), ("cse", 0)):
        assert main(["stage", str(root / "SimpleDirection" / method / f"seed{seed}"),
                     "--out", str(tmp_path / "staged" / method / f"seed{seed}")]) == 0
    loose = tmp_path / "loose.csv"
    loose.write_bytes((root / "SimpleDirection" / "baseline" / "seed1" / "evaluation.csv").read_bytes())
    sources = [str(tmp_path / "staged" / method / f"seed{seed}" / "evaluation.csv.gz")
               for method, seed in (("baseline", 0), ("cse", 0), ("cse", 1))]
    assert main(["summarize", *sources, str(loose), "--results", str(merged)]) == 0
    again = pd.read_csv(merged / "runs.csv")
    assert sorted(zip(again["method"], again["seed"])) == [("baseline", 0), ("cse", 0), ("cse", 1)]
    assert again.drop(columns="run").equals(runs[runs["run"].str.contains("seed0") | runs["run"].str.contains("cse/seed1")]
                                            .drop(columns="run").reset_index(drop=True))
    capsys.readouterr()
    assert main(["stage", str(root / "SimpleDirection" / "nothing"), "--out", str(tmp_path / "x")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_a_reproduced_run_is_checked_against_the_committed_table_episode_for_episode(tmp_path, capsys):
    """A run trained again for a folder whose runs had no provenance (results/commands.sh reproduce): staged under
    reproduced/, it gets a row in runs.csv saying whether its evaluation equals the committed table's (here the
    sweep's own run: identical; a copy with one return changed: differs, by that much); the folder's other rows
    stay, and writing again gives the same table."""
    root, results = tmp_path / "runs", tmp_path / "results"
    assert main(["sweep", "--task", "SimpleDirection", "--methods", "baseline", "--seeds", "2", "--workers", "1",
                 "--backend", "serial", "--root", str(root), "--results", str(results), *TINY]) == 0
    capsys.readouterr()
    assert main(["report", "runs", str(results)]) == 2  # nothing reproduced yet: one line, exit 2
    assert "no reproduced/ folder" in capsys.readouterr().err
    for seed in (0, 1):
        assert main(["stage", str(root / "SimpleDirection" / "baseline" / f"seed{seed}"),
                     "--out", str(results / "reproduced" / "baseline" / f"seed{seed}")]) == 0
    changed = results / "reproduced" / "baseline" / "seed1" / "evaluation.csv.gz"
    table = pd.read_csv(changed)
    table.loc[3, "episode_return"] += 0.25
    table.to_csv(changed, index=False)
    capsys.readouterr()
    assert main(["report", "runs", str(results)]) == 0
    assert "1 of 2 reproduced runs identical" in capsys.readouterr().out
    runs = pd.read_csv(results / "runs.csv", keep_default_na=False)
    assert len(runs) == 4 and list(runs.columns) == list(RUN_COLUMNS)
    reproduced = runs[runs["run"].str.contains("/reproduced/")].set_index("seed")["reproduces"]
    assert reproduced[0] == f"identical ({len(table)} episodes)"
    assert reproduced[1] == f"differs: max |return difference| 0.25 over {len(table)} episodes"
    assert (runs[~runs["run"].str.contains("/reproduced/")]["reproduces"] == "").all()  # the sweep's own rows stay
    assert main(["report", "runs", str(results)]) == 0
    assert pd.read_csv(results / "runs.csv", keep_default_na=False).equals(runs)
    # summarize --results (how a merge rewrites runs.csv) keeps the reproduced rows
    assert main(["summarize", str(results / "evaluation.csv"), "--candidate", "baseline", "--results", str(results)]) == 0
    assert pd.read_csv(results / "runs.csv")["run"].str.contains("/reproduced/").tolist() == [True, True]


def test_a_reproduced_later_seed_is_checked_against_the_merged_table(tmp_path, capsys):
    """A task whose later seeds were merged in keeps its first seeds' table in first-seeds/: a re-run of a later
    seed is checked against the merged table (which holds it), one of a first seed against either (equal there),
    and a seed only first-seeds/ holds against first-seeds/."""
    root, results = tmp_path / "runs", tmp_path / "results"
    assert main(["sweep", "--task", "SimpleDirection", "--methods", "baseline", "--seeds", "0-2", "--workers", "1",
                 "--backend", "serial", "--root", str(root), "--results", str(results), *TINY]) == 0
    table = pd.read_csv(results / "evaluation.csv")
    (results / "first-seeds").mkdir()
    table[table["seed"].isin([0, 2])].to_csv(results / "first-seeds" / "evaluation.csv", index=False)
    table[table["seed"] < 2].to_csv(results / "evaluation.csv", index=False)  # merged: seeds 0 and 1
    for seed in (0, 1, 2):
        assert main(["stage", str(root / "SimpleDirection" / "baseline" / f"seed{seed}"),
                     "--out", str(results / "reproduced" / "baseline" / f"seed{seed}")]) == 0
    capsys.readouterr()
    assert main(["report", "runs", str(results)]) == 0
    assert "3 of 3 reproduced runs identical" in capsys.readouterr().out
    (results / "evaluation.csv").unlink()
    assert main(["report", "runs", str(results)]) == 0  # only first-seeds/: seed 1 is not there
    runs = pd.read_csv(results / "runs.csv", keep_default_na=False)
    reproduced = runs[runs["run"].str.contains("/reproduced/")].set_index("seed")["reproduces"]
    assert reproduced[1] == "not in the committed table (baseline, seed 1)"
    assert reproduced[0].startswith("identical") and reproduced[2].startswith("identical")


def test_compare_evaluations_names_what_differs():
    table = pd.DataFrame({"task": "T", "method": "cse", "seed": 3, "run": "x", "sweep": ["a", "a", "b"],
                          "sweep_value": [0.0, 1.0, 0.5], "context_0": [0.0, 1.0, 0.5], "episode": [0, 0, 0],
                          "episode_return": [1.0, 2.0, 3.0]})
    committed = pd.concat([table.iloc[::-1].assign(run="y"), table.assign(seed=4)], ignore_index=True)
    assert compare_evaluations(table, committed, "cse", 3) == "identical (3 episodes)"  # any row order, any run path
    assert compare_evaluations(table, committed, "cse", 5) == "not in the committed table (cse, seed 5)"
    assert compare_evaluations(table, None, "cse", 3) == "no committed table"
    assert compare_evaluations(table.iloc[:2], committed, "cse", 3) == "differs: 2 episodes, the committed table has 3"
    moved = table.assign(context_0=[0.0, 1.0, 0.6])
    assert compare_evaluations(moved, committed, "cse", 3) == "differs: other contexts or episodes than the committed table's"
    worse = table.assign(episode_return=[1.0, 2.0, 2.5])
    assert compare_evaluations(worse, committed, "cse", 3) == "differs: max |return difference| 0.5 over 3 episodes"


def test_the_commit_is_marked_only_by_changes_to_code(tmp_path):
    """A '+' means the code that trains differs from the commit: a rewritten results file (as `cebe-deep report runs`
    rewrites a committed runs.csv) leaves it clean; an edited module, from a subfolder too, marks it."""
    import subprocess

    from cebe_deep.run.provenance import checkout_commit

    def git(*args):
        return subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()

    (tmp_path / "cebe_deep" / "run").mkdir(parents=True)
    (tmp_path / "results").mkdir()
    (tmp_path / "cebe_deep" / "run" / "training.py").write_text("steps = 1\n")
    (tmp_path / "results" / "runs.csv").write_text("method,seed\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "HEAD")
    inside = tmp_path / "cebe_deep" / "run"
    assert checkout_commit(inside) == head
    (tmp_path / "results" / "runs.csv").write_text("method,seed\nbaseline,0\n")
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert checkout_commit(inside) == head
    (tmp_path / "cebe_deep" / "run" / "training.py").write_text("steps = 2\n")
    assert checkout_commit(inside) == head + "+"
    assert checkout_commit(tmp_path.parent / "no-such-folder") == "unknown"


def test_a_sample_fixed_to_one_machine_refuses_runs_of_another(tmp_path, capsys):
    """`--same-machine-as FOLDER` (results/PROTOCOL.md section 9): a sweep refuses, before it plans or trains, when a
    run under FOLDER names another machine; runs of this machine (whatever their thread count), runs from before
    the machine was recorded, and a folder not made yet do not stop it."""
    from cebe_deep.run.provenance import machine, other_machines

    here = machine()
    head, _, _ = here.rpartition(", ")
    staged = tmp_path / "staged"
    for method, seed, recorded in (("baseline", 10, f"{head}, 1 thread"), ("cse", 10, f"{head}, 4 threads"),
                                   ("ldr", 10, None)):
        run = staged / method / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "train_summary.json").write_text(json.dumps({} if recorded is None else {"machine": recorded}))
    sweep = ["sweep", "--task", "SimpleDirection", "--methods", "cse", "--seeds", "11-11", "--root",
             str(tmp_path / "runs"), "--dry-run", *TINY]
    assert other_machines(staged) == {}
    assert main([*sweep, "--same-machine-as", str(staged)]) == 0
    assert main([*sweep, "--same-machine-as", str(tmp_path / "not-yet")]) == 0
    capsys.readouterr()

    other = staged / "baseline" / "seed11"
    other.mkdir()
    (other / "train_summary.json").write_text(json.dumps({"machine": "Some Other CPU (x86_64); torch 2.13.0+cpu, "
                                                                     "AVX2, 1 thread"}))
    assert other_machines(staged) == {"Some Other CPU (x86_64); torch 2.13.0+cpu, AVX2, 1 thread": [other]}
    assert main([*sweep, "--same-machine-as", str(staged)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(other) in err and "'Some Other CPU (x86_64); torch 2.13.0+cpu, AVX2, 1 thread'" in err and here in err
    assert not (tmp_path / "runs").exists()
    (tmp_path / "file").write_text("")
    assert main([*sweep, "--same-machine-as", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
