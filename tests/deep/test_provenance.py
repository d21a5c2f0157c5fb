"""Provenance: runs.csv from a sweep (one row per run, with the commit it trained on) and a staged run, which keeps
what a results table and the training curves need of it (not the model) and reads back as the run did."""

from __future__ import annotations

import gzip
import json

import pandas as pd

from cebe_deep.cli import main
from cebe_deep.run.provenance import code_commit, runs_table

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
