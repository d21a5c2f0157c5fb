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
