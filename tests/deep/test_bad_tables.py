"""Nothing wrong reaches a user: a damaged evaluation table is refused (one line, exit 2) by every command that
reads it, nothing is written, and a committed figure is never replaced by one drawn from less data."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cebe_deep.cli import main
from cebe_deep.errors import ConfigError
from cebe_deep.run.evaluation import read_evaluation, read_evaluation_table


def _table(methods=("baseline", "cse"), seeds=2, values=(-0.5, 0.0, 0.5), episodes=3) -> pd.DataFrame:
    rows = [dict(task="SimpleDirection", method=method, seed=seed, run=f"runs/{method}/seed{seed}", sweep="context_0",
                 sweep_value=value, context_0=value, context_1=0.0, episode=episode,
                 episode_return=10.0 * value + seed + 0.125 * episode + (method == "cse"))
            for method in methods for seed in range(seeds) for value in values for episode in range(episodes)]
    return pd.DataFrame(rows)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def folder(tmp_path):
    """A results folder as a sweep leaves it: a whole table and the figure drawn from it."""
    results = tmp_path / "results" / "SimpleDirection"
    results.mkdir(parents=True)
    _table().to_csv(results / "evaluation.csv", index=False)
    assert main(["summarize", str(results / "evaluation.csv"), "--results", str(results)]) == 0
    return results


def _damage(path: Path, how: str) -> None:
    text = path.read_text()
    if how == "cut mid-line":
        path.write_text(text[: len(text) * 2 // 3])
    elif how == "last number cut":
        path.write_text(text.rstrip("\n")[:-2])  # 36.0168 -> 36.01: no final newline
    elif how == "lines lost":  # cut at a line end: a well-formed but smaller table
        lines = text.splitlines(keepends=True)
        path.write_text("".join(lines[: len(lines) - 4]))
    elif how == "nan return":
        table = pd.read_csv(path)
        table.loc[5, "episode_return"] = np.nan
        table.to_csv(path, index=False)
    elif how == "inf return":
        table = pd.read_csv(path)
        table.loc[5, "episode_return"] = np.inf
        table.to_csv(path, index=False)


DAMAGES = ["cut mid-line", "last number cut", "lines lost", "nan return", "inf return"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_table_is_refused_in_one_line(how, tmp_path):
    path = tmp_path / "evaluation.csv"
    _table().to_csv(path, index=False)
    read_evaluation_table(path)  # whole: accepted
    _damage(path, how)
    with pytest.raises(ConfigError, match=str(path).replace("/", ".")):
        read_evaluation_table(path)
    with pytest.raises(ConfigError):
        read_evaluation(tmp_path)


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("command", ["summarize", "plot", "figures"])
def test_no_command_draws_or_writes_from_a_damaged_table(folder, how, command, capsys):
    figure, summary = folder / "sweep.png", folder / "summary.csv"
    before = {path: _digest(path) for path in (figure, summary)}
    _damage(folder / "evaluation.csv", how)
    arguments = {"summarize": ["summarize", str(folder / "evaluation.csv"), "--results", str(folder)],
                 "plot": ["plot", str(folder / "evaluation.csv"), "--out", str(figure)],
                 "figures": ["figures", "--results", str(folder.parent.parent)]}[command]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("cebe-deep: error: ") and error.count("\n") == 1 and "evaluation.csv" in error
    assert {path: _digest(path) for path in (figure, summary)} == before
    assert not [path.name for path in folder.iterdir() if ".partial" in path.name]


@pytest.mark.parametrize("how", ["truncated", "junk body"])
def test_a_damaged_gzip_table_is_refused_in_one_line(folder, how, capsys):
    packed = folder / "evaluation.csv.gz"
    data = gzip.compress((folder / "evaluation.csv").read_bytes(), mtime=0)
    (folder / "evaluation.csv").unlink()
    packed.write_bytes(data[: len(data) // 2] if how == "truncated" else data[:10] + b"\x00junk" * 40)
    before = _digest(folder / "sweep.png")
    for arguments in (["summarize", str(packed)], ["figures", "--results", str(folder.parent.parent)]):
        assert main(arguments) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "evaluation.csv.gz" in error and "gzip" in error
    assert _digest(folder / "sweep.png") == before


def test_a_whole_table_redraws_its_figure(folder):
    """The check refuses only damaged tables: the committed table redraws (the figure is replaced atomically)."""
    assert main(["figures", "--results", str(folder.parent.parent)]) == 0
    assert (folder / "sweep.png").stat().st_size > 0
    assert not [path.name for path in folder.iterdir() if ".partial" in path.name]


def test_every_committed_table_passes_the_checks():
    root = Path(__file__).resolve().parents[2] / "results"
    folders = sorted({path.parent for pattern in ("evaluation.csv", "evaluation.csv.gz") for path in root.rglob(pattern)})
    assert len(folders) >= 10
    for results in folders:
        read_evaluation(results)


def test_a_truncated_model_is_one_line(tmp_path, capsys):
    from cebe_deep.run.config import make_config
    from cebe_deep.run.training import train

    config = make_config("SimpleDirection", "baseline", total_steps=300, learning_starts=100, checkpoint_every=300)
    run = tmp_path / "run"
    train(config, run, progress=False)
    model = run / "model.zip"
    model.write_bytes(model.read_bytes()[:200])
    assert main(["evaluate", str(run), "--points", "2", "--episodes", "1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "model.zip" in error


def test_evaluate_checks_that_it_can_write_before_the_work(tmp_path, capsys, monkeypatch):
    """A run folder it cannot write: refused before the rollouts (before, the whole evaluation was computed, then
    lost to a PermissionError traceback).  ``os.access`` is made to say so, since root can write a read-only folder."""
    import os

    from cebe_deep.run import evaluation
    from cebe_deep.run.config import make_config
    from cebe_deep.run.training import train

    config = make_config("SimpleDirection", "baseline", total_steps=300, learning_starts=100, checkpoint_every=300)
    run = tmp_path / "run"
    train(config, run, progress=False)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == run and mode == os.W_OK
                        else real_access(path, mode))
    monkeypatch.setattr(evaluation, "evaluate_policy_at_context",
                        lambda *args, **kwargs: pytest.fail("rollouts started before the write check"))
    assert main(["evaluate", str(run), "--points", "2", "--episodes", "1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not writable" in error and not (run / "evaluation.csv").exists()
