"""Every list option of both command lines refuses an empty entry (``cse,,ldr``, ``1,,2``, ``a;;b``, a trailing
separator) in one line naming the option and the value, exit status 2, before anything runs: an empty entry
is a typo, and dropping it silently (as ``sweep --methods`` once did) runs something the user did not ask for."""

from __future__ import annotations

import pytest

from cebe_deep.cli import main as deep_main
from cebe_deep.run.evaluation import parse_contexts
from cebe_theory.cli import main as theory_main
from cebe_theory.errors import InputError

SWEEP = ["sweep", "--task", "SimpleDirection"]
TRAIN = ["train", "--task", "SimpleDirection", "--method", "cse"]

# (argv, words the one line must hold: the option, the value as typed, and where it says what is wrong)
EMPTY_ENTRIES = [
    ([*SWEEP, "--methods", "cse,,ldr"], ["--methods", "'cse,,ldr'", "entry 2 is empty"]),
    ([*SWEEP, "--methods", "cse,ldr,"], ["--methods", "'cse,ldr,'", "entry 3 is empty"]),
    ([*SWEEP, "--methods", ",cse"], ["--methods", "entry 1 is empty"]),
    ([*SWEEP, "--methods", ""], ["--methods", "entry 1 is empty"]),
    ([*SWEEP, "--seeds", "1,,2"], ["--seeds", "'1,,2'"]),
    ([*SWEEP, "--seeds", "1,2,"], ["--seeds", "'1,2,'"]),
    ([*TRAIN, "--net", "64,,64"], ["--net", "'64,,64'"]),
    ([*TRAIN, "--net", "64,"], ["--net", "'64,'"]),
    ([*TRAIN, "--context", "0.1,,0.2"], ["--context", "'0.1,,0.2'"]),
    ([*SWEEP, "--context", "0.1,"], ["--context", "'0.1,'"]),
    ([*SWEEP, "--contexts", "0,0;;0.5,0.5"], ["--contexts", "entry 2", "is empty"]),
    ([*SWEEP, "--contexts", "0,0;0.5,0.5;"], ["--contexts", "entry 3", "is empty"]),
    ([*SWEEP, "--contexts", "0,,0"], ["--contexts", "'0,,0'"]),
    (["evaluate", "no/such/run", "--contexts", "0,0;;1,1"], ["no/such/run"]),  # the run is checked first, as before
]


@pytest.mark.parametrize(
    "argv, words",
    EMPTY_ENTRIES,
    ids=lambda value: " ".join(value) if isinstance(value, list) and "--" in " ".join(value) else None,
)
def test_cebe_deep_refuses_an_empty_list_entry(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert deep_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("cebe-deep: error: ") and captured.err.count("\n") == 1, captured.err
    assert all(word in captured.err for word in words), captured.err
    assert captured.out == "" and list(tmp_path.iterdir()) == []  # nothing trained, nothing written


def test_the_sweep_plan_keeps_every_listed_method_and_seed(capsys, tmp_path):
    # The same lists without the empty entry are accepted and planned in full (dry run: nothing trained).
    assert deep_main([*SWEEP, "--methods", "cse, ldr", "--seeds", "1,2", "--dry-run", "--root", str(tmp_path / "runs")]) == 0
    plan = capsys.readouterr().out
    assert all(f"{method}/seed{seed}" in plan for method in ("cse", "ldr") for seed in (1, 2)), plan
    assert "baseline/" not in plan


def test_parse_contexts_refuses_an_empty_context():
    assert parse_contexts("0,0; 0.5,0.5") == [(0.0, 0.0), (0.5, 0.5)]
    with pytest.raises(InputError, match="entry 2 of '0,0;;0.5,0.5' is empty"):
        parse_contexts("0,0;;0.5,0.5")


@pytest.mark.parametrize("argv, flag", [(["error-sweep", "--dc", "0.01", ""], "--dc"),
                                        (["error-sweep", "--dc", "0.01,,0.02"], "--dc"),
                                        (["error-sweep", "--log-range", "-8", ""], "--log-range")])
def test_cebe_theory_refuses_an_empty_value(argv, flag, capsys):
    # cebe-theory's lists are space-separated (nargs): an empty or comma-joined value is not a number.
    assert theory_main(argv) == 2
    line, = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("cebe-theory: error: ") and flag in line, line
