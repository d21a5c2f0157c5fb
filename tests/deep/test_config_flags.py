"""One source for every setting: each TrainConfig field with a flag becomes a `cebe-deep train` / `sweep` option
with the field's help, and a value given on the command line reaches the config."""

from __future__ import annotations

import dataclasses

import pytest

from cebe_deep.cli import build_parser
from cebe_deep.cli.checks import config_overrides
from cebe_deep.run.config import FLAGS, OVERRIDABLE, TrainConfig

SAMPLES = {"int": ("7", 7), "float": ("0.25", 0.25), "ints": ("32,16", (32, 16)), "floats": ("0.5,1.5", (0.5, 1.5)),
           "str": ("ball", "ball")}
FIELDS = [field for field in dataclasses.fields(TrainConfig) if field.metadata.get("command_line")]


def test_every_flag_of_a_field_is_in_the_help_with_its_text():
    for command in ("train", "sweep"):
        parser = build_parser()
        subparser = parser._subparsers._group_actions[0].choices[command]  # argparse has no public accessor
        options = {option: action for action in subparser._actions for option in action.option_strings}
        for field in FIELDS:
            assert field.metadata["flag"] in options, (command, field.name)
            assert options[field.metadata["flag"]].help == field.metadata["help"]
    assert set(FLAGS) >= {field.name for field in FIELDS} and len(set(FLAGS.values())) == len(FLAGS)


@pytest.mark.parametrize("field", [field for field in FIELDS if field.name not in ("task", "profile")], ids=lambda f: f.name)
def test_a_value_on_the_command_line_reaches_the_config(field):
    text, value = SAMPLES[field.metadata["kind"]]
    args = build_parser().parse_args(["train", "--task", "SimpleDirection", "--method", "cse", field.metadata["flag"], text])
    overrides = config_overrides(args)
    assert overrides[field.name] == value
    assert set(overrides) == set(OVERRIDABLE)
    assert all(overrides[name] is None for name in OVERRIDABLE if name != field.name)


def test_eps_larger_than_the_context_box_is_refused(capsys):
    """Checks that need the task live in validate_config: an eps wider than the whole context box (before, --eps 1e6
    trained) is one line naming the flag and the box."""
    from cebe_deep.cli import main
    from cebe_deep.errors import ConfigError
    from cebe_deep.run.config import make_config

    assert main(["train", "--task", "PendulumGoal", "--method", "cse", "--eps", "1e6", "--steps", "10"]) == 2
    error = capsys.readouterr().err
    assert "--eps 1e+06" in error and "context box" in error and error.count("\n") == 1
    with pytest.raises(ConfigError, match="eps 50 is larger"):
        make_config("SimpleDirection", "ldr", eps=50.0)
    make_config("SimpleDirection", "cse", eps=0.4)  # the open questions' largest eps stays allowed


def test_a_config_is_checked_once_per_process(monkeypatch):
    """make_config, the sweep and train each ask for the check; the task's environment is built once."""
    from cebe_deep.run import config as config_module

    built = []
    real = config_module.make_task_env
    monkeypatch.setattr(config_module, "make_task_env", lambda *args, **kwargs: built.append(args) or real(*args, **kwargs))
    config = config_module.make_config("PendulumGoal", "cse", seed=12345, total_steps=777)
    config_module.validate_config(config)
    config_module.validate_config(config)
    assert len(built) == 1
