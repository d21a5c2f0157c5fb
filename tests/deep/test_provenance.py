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
    capsys.readouterr()
    assert main(["stage", str(root / "SimpleDirection" / "nothing"), "--out", str(tmp_path / "x")]) == 2
    assert "no such folder" in capsys.readouterr().err
