"""What defines one training run: :class:`TrainConfig`, the profiles that fill it in, and its validation.

Two profiles:

- ``quick``: small networks and budgets that run on a laptop in minutes (one gradient update per env step,
  one environment, SB3's defaults otherwise).
- ``authors``: the authors' training protocol for the paper's deep experiments (arXiv 2507.07348, Section 5),
  read from their public code and Ray RLlib 2.44's SAC defaults: 8 environments stepped together and one
  gradient update (batch 256) per vector step, i.e. one update per 8 env steps; separate actor, critic and
  entropy-coefficient learning rates; initial entropy coefficient 1; prioritized replay; 256x256 ReLU
  networks with Xavier-uniform hidden layers and orthogonal (gain 0.01) output layers.  Their budgets are
  counted in RLlib iterations (an iteration lasts at least 1 s and 100 env steps); on a 2-core machine their
  pipeline makes about :data:`ENV_STEPS_PER_ITERATION` = 107 env steps per iteration (measured: 500
  iterations = 52-54k env steps), so a budget here is ``iterations * 107`` env steps.  CartGoal, the one
  discrete-action task, runs their RLlib DQN (:class:`cebe_deep.dqn.ContextDQN`), whose iterations are
  exactly :data:`DQN_ENV_STEPS_PER_ITERATION` = 1,000 env steps: 2,000 iterations = 2M env steps.

Every value a profile sets can be overridden (``make_config(..., total_steps=4000)``, or the CLI's flags).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from cebe_deep import tasks
from cebe_deep.errors import ConfigError
from cebe_deep.learn.cse import MODES, PERTURBATIONS
from cebe_deep.learn.eps import PAPER_EPS, check_eps
from cebe_deep.run.profiles import (  # noqa: F401
    AUTHORS_ITERATIONS,
    DEFAULT_SETTINGS,
    DQN_ENV_STEPS_PER_ITERATION,
    ENV_STEPS_PER_ITERATION,
    PROFILE_SETTINGS,
)

__all__ = [
    "ConfigError", "TrainConfig", "METHODS", "PROFILES", "REPLAYS", "INITS", "ENV_STEPS_PER_ITERATION",
    "AUTHORS_ITERATIONS", "DQN_ENV_STEPS_PER_ITERATION", "FLAGS", "OVERRIDABLE", "setting", "CSE_VARIANTS",
    "make_config", "validate_config", "check_context", "make_task_env",
]

METHODS = ("baseline", "cse", "ldr", "gdr")
PROFILES = ("quick", "authors")
REPLAYS = ("uniform", "prioritized")
INITS = ("sb3", "authors")
CRITIC_LOSSES = ("mse", "huber")
#: ``first_order``: the paper's CSE (s' moved along d_c T); ``importance``: keep s', weight by the density ratio
#: (:mod:`cebe_deep.learn.importance`, open question 1).
CSE_VARIANTS = ("first_order", "importance")

#: A field without a default (``task``, ``method``): required by :class:`TrainConfig`.
REQUIRED = dataclasses.MISSING
OPEN_QUESTIONS = "open questions (results/open/README.md)"


def setting(default: Any, flag: str, *, help: str | None = None, kind: str | None = None, group: str | None = None,
            metavar: str | None = None, command_line: bool = True):
    """A :class:`TrainConfig` field and everything the command line needs of it, in one place: its ``flag``
    (named in error messages too), ``help``, ``kind`` of value (``int``, ``float``, ``ints``, ``floats`` for
    comma-separated lists, ``str``), help ``group``; ``command_line=False`` for fields that each command adds
    itself (``--method`` / ``--methods``, ``--seed`` / ``--seeds``).  A new setting is one field."""
    metadata = dict(flag=flag, help=help, kind=kind, group=group, metavar=metavar, command_line=command_line)
    if default is REQUIRED:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run.  Build with :func:`make_config` (profile + overrides).

    ``context`` is the training context c0 (None: the task's ``default_context``).  ``eps`` is the radius of
    CSE's ball and LDR's Gaussian scale.  ``net_arch`` is the hidden layers of actor and critics.
    ``n_envs`` environments are stepped together; every ``train_freq`` vector steps the learner makes
    ``gradient_steps`` updates, so updates per env step = gradient_steps / (train_freq * n_envs).
    ``actor/critic/entropy_learning_rate`` default to ``learning_rate``; ``initial_entropy`` is SAC's initial
    entropy coefficient (None: SB3's default, 1.0 as well).  ``replay`` is ``uniform`` or ``prioritized``
    (with ``priority_alpha``, ``priority_beta``).  ``dynamics`` picks a task variant (None: the task's default).
    ``critic_loss``: SAC's critic loss per sample, ``mse`` (SB3: half the squared TD error) or ``huber``
    (RLlib's SAC, the authors': Huber with delta 1).  DQN only: epsilon-greedy decays linearly to
    ``exploration_final_eps`` over ``exploration_steps`` env steps
    (None: SB3's defaults, 5% over a tenth of the budget).  ``init = "authors"`` on a discrete-action task trains
    :class:`~cebe_deep.learn.dqn.ContextDQN` (RLlib's DQN as the authors ran it) instead of SB3's DQN, with ``double_q``,
    ``dueling`` and ``head_arch`` (each stream's hidden layers after the shared ``net_arch``); prioritized replay
    on a discrete-action task needs it.

    The open questions (``results/open/README.md``; every default leaves a run as it was, so config.json files
    written before these fields existed still compare equal):
    ``dimension``: SimpleDirection's dimension d (None: the task's, 2).  ``task_noise``: NoisyPendulumGoal's
    noise scale sigma_n (None: the task's, 0.05).  ``jacobian_noise`` / ``jacobian_bias``: CSE with each stored
    partial multiplied by ``bias (1 + sigma N(0, 1))`` (:mod:`cebe_deep.learn.inexact`).  ``fd_jacobians``: CSE with
    central finite differences of step h in place of the closed-form Jacobians (None: closed form).
    ``cse_variant``: ``first_order`` (the paper's CSE) or ``importance`` (keep s', weight the TD loss by the
    transition-density ratio clipped at ``max_weight``, :mod:`cebe_deep.learn.importance`).
    """

    task: str = setting(REQUIRED, "--task", kind="str", help="a built-in task (e.g. SimpleDirection, PendulumGoal), a "
                        "registered Gymnasium id of a contextual task, or module:callable returning one")
    method: str = setting(REQUIRED, "--method", command_line=False)
    seed: int = setting(0, "--seed", command_line=False)
    total_steps: int = setting(10_000, "--steps", kind="int",
        help="training budget in env steps (larger than a finished run's: extends it)")
    eps: float = setting(PAPER_EPS, "--eps", help=f"CSE ball radius and LDR scale, > 0 (paper: {PAPER_EPS:g})", kind="float")
    net_arch: tuple[int, ...] = setting((64, 64), "--net", help="hidden layer widths, e.g. 64,64", kind="ints")
    learning_rate: float = setting(3e-4, "--learning-rate", kind="float")
    batch_size: int = setting(256, "--batch-size", kind="int")
    buffer_size: int = setting(1_000_000, "--buffer-size", help="replay capacity in transitions", kind="int")
    learning_starts: int = setting(1_000, "--learning-starts", kind="int")
    gamma: float = setting(0.99, "--gamma", help="discount in [0, 1]", kind="float")
    tau: float = 0.005
    train_freq: int = 1
    gradient_steps: int = 1
    perturbation: str = setting("sphere", "--perturbation", help="CSE draw: sphere (authors) or ball", kind="str")
    cse_mode: str = setting("first_order", "--cse-mode", help="first_order (default) or exact", kind="str")
    cse_fraction: float = setting(1.0, "--cse-fraction", kind="float",
        help="fraction of each batch CSE rewrites, in (0, 1] (default 1)")
    checkpoint_every: int = setting(5_000, "--checkpoint-every", kind="int",
        help="env steps between resumable checkpoints")
    context: tuple[float, ...] | None = setting(None, "--context", kind="floats",
        help="training context c0, comma-separated (default: the task's)")
    profile: str = setting("quick", "--profile", kind="str",
        help="quick (small, minutes) or authors (the authors' protocol and budgets, docs/authors_protocol.md)")
    n_envs: int = setting(1, "--n-envs", help="environments stepped together (authors: 8)", kind="int")
    actor_learning_rate: float | None = None
    critic_learning_rate: float | None = None
    entropy_learning_rate: float | None = None
    initial_entropy: float | None = None
    replay: str = setting("uniform", "--replay", help="uniform or prioritized", kind="str")
    priority_alpha: float = setting(0.6, "--priority-alpha", kind="float",
        help="prioritized replay: priority exponent in [0, 1]")
    priority_beta: float = setting(0.4, "--priority-beta", kind="float",
        help="prioritized replay: importance-weight exponent in [0, 1]")
    init: str = "sb3"
    dynamics: str | None = setting(None, "--dynamics", kind="str",
        help="task variant, e.g. PendulumGoal: authors (default) or gymnasium")
    exploration_steps: int | None = None
    exploration_final_eps: float | None = None
    critic_loss: str = "mse"
    dimension: int | None = setting(None, "--dimension", kind="int", group=OPEN_QUESTIONS,
        help="SimpleDirection: context dimension d >= 1 (default 2)")
    task_noise: float | None = setting(None, "--task-noise", kind="float", group=OPEN_QUESTIONS,
        help="NoisyPendulumGoal: noise scale on the next speed, >= 0 (default 0.05)")
    jacobian_noise: float = setting(0.0, "--jacobian-noise", kind="float", group=OPEN_QUESTIONS,
        help="CSE: multiply each stored partial by (1 + SIGMA N(0, 1)), SIGMA >= 0 (default 0)")
    jacobian_bias: float = setting(1.0, "--jacobian-bias", kind="float", group=OPEN_QUESTIONS,
        help="CSE: multiply each stored partial by B (default 1)")
    fd_jacobians: float | None = setting(None, "--fd-jacobians", kind="float", group=OPEN_QUESTIONS, metavar="H",
        help="CSE: central finite differences of step H > 0 instead of the closed-form Jacobians")
    cse_variant: str = setting("first_order", "--cse-variant", kind="str", group=OPEN_QUESTIONS,
        help="CSE: first_order (default) or importance (keep s', weight by the transition-density ratio; "
             "NoisyPendulumGoal)")
    max_weight: float = setting(10.0, "--max-weight", kind="float", group=OPEN_QUESTIONS,
        help="importance-weighted CSE: clip weights at W > 0 (default 10)")
    double_q: bool = False
    dueling: bool = False
    head_arch: tuple[int, ...] = ()
    settings_of: str | None = setting(None, "--settings-of", kind="str", metavar="TASK",
        help="take the profile's settings of this built-in task instead of the task's own (for your own task, e.g. "
             "--profile authors --settings-of CheetahVelocity: the authors' CheetahVelocity protocol and budget)")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        data = dict(data)
        data["net_arch"] = tuple(data["net_arch"])
        if "head_arch" in data:
            data["head_arch"] = tuple(data["head_arch"])
        if data.get("context") is not None:
            data["context"] = tuple(data["context"])
        return cls(**data)

    def differences(self, other: "TrainConfig") -> list[str]:
        """``field: self value != other value`` for each field that differs."""
        return [f"{f.name}: {getattr(self, f.name)!r} != {getattr(other, f.name)!r}"
                for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(other, f.name)]


#: The command-line flag of each config field (``cebe-deep train`` / ``sweep``), read from the fields' metadata.
FLAGS = {field.name: field.metadata["flag"] for field in dataclasses.fields(TrainConfig) if "flag" in field.metadata}
#: The fields a command line may override (every field with a flag but task, method, seed and profile).
OVERRIDABLE = tuple(field.name for field in dataclasses.fields(TrainConfig)
                    if field.metadata.get("command_line") and field.name not in ("task", "profile"))


def make_config(task: str, method: str, profile: str = "quick", *, flags: bool = False, **overrides: Any) -> TrainConfig:
    """The profile's config for ``task`` with ``overrides`` (None values are ignored), validated.
    ``flags``: name the command-line flags in error messages instead of the fields."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r} ({'--profile' if flags else 'profile'}); "
                          f"choose one of {', '.join(PROFILES)}")
    settings_of = overrides.get("settings_of")
    _check_settings_of(settings_of, profile, flags)
    settings = dict(PROFILE_SETTINGS[profile].get(settings_of or task, DEFAULT_SETTINGS))
    settings.update({key: value for key, value in overrides.items() if value is not None})
    for field in ("net_arch", "head_arch"):
        if field in settings:
            settings[field] = tuple(int(width) for width in settings[field])
    if settings.get("context") is not None:
        settings["context"] = tuple(float(value) for value in settings["context"])
    config = TrainConfig(task=task, method=method, profile=profile, **settings)
    validate_config(config, flags=flags)
    return config


def _check_settings_of(settings_of: str | None, profile: str, flags: bool) -> None:
    if settings_of is not None and settings_of not in PROFILE_SETTINGS.get(profile, {}):
        raise ConfigError(f"{'--settings-of' if flags else 'settings_of'} {settings_of!r}: the {profile} profile has "
                          f"settings for {', '.join(PROFILE_SETTINGS.get(profile, {}))}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def validate_config(config: TrainConfig, flags: bool = False) -> None:
    """Raise :class:`ConfigError` with a one-line message (naming the field, or its command-line flag when
    ``flags``, its value and what is allowed) for anything a run would fail on later.  Every check of a config
    lives here, those that need the task (its context box, its actions) included.  A config found valid is
    remembered, so that building it, sweeping it and training it check it once in a process (a check builds the
    task's environment)."""
    try:
        hash(config)
    except TypeError:  # a list where a tuple belongs (built by hand): checked, not remembered
        _validate(config, flags)
        return
    _validate_once(config, flags)


@functools.lru_cache(maxsize=4096)  # successes only: lru_cache does not keep exceptions
def _validate_once(config: TrainConfig, flags: bool) -> None:
    _validate(config, flags)


def _validate(config: TrainConfig, flags: bool) -> None:

    def name(field: str) -> str:
        return FLAGS.get(field, field) if flags else field

    _require(isinstance(config.task, str) and bool(config.task),
             f"{name('task')} must be {tasks.TASK_FORMS}, got {config.task!r}")
    _require(config.method in METHODS,
             f"unknown method {config.method!r} ({name('method')}); choose one of {', '.join(METHODS)}")
    _require(config.profile in PROFILES,
             f"unknown profile {config.profile!r} ({name('profile')}); choose one of {', '.join(PROFILES)}")
    check_eps(config.eps, name('eps'))
    _require(config.perturbation in PERTURBATIONS, f"unknown perturbation {config.perturbation!r} "
                                                   f"({name('perturbation')}); choose one of {', '.join(PERTURBATIONS)}")
    _require(config.cse_mode in MODES,
             f"unknown CSE mode {config.cse_mode!r} ({name('cse_mode')}); choose one of {', '.join(MODES)}")
    _require(0.0 < config.cse_fraction <= 1.0, f"{name('cse_fraction')} must be in (0, 1], got {config.cse_fraction}")
    for field in ("total_steps", "batch_size", "checkpoint_every", "n_envs", "train_freq", "gradient_steps", "buffer_size"):
        value = getattr(config, field)
        _require(
            isinstance(value, (int, np.integer)) and value > 0, f"{name(field)} must be a positive integer, got {value!r}"
        )
    _require(config.learning_starts >= 0, f"{name('learning_starts')} must be >= 0, got {config.learning_starts}")
    _require(bool(config.net_arch) and min(config.net_arch) > 0,
             f"{name('net_arch')} must be positive layer widths, got {config.net_arch}")
    _require(
        0.0 <= config.gamma <= 1.0 and math.isfinite(config.gamma), f"{name('gamma')} must be in [0, 1], got {config.gamma}"
    )
    _require(0.0 < config.tau <= 1.0, f"tau must be in (0, 1], got {config.tau}")
    for field in ("learning_rate", "actor_learning_rate", "critic_learning_rate", "entropy_learning_rate", "initial_entropy"):
        value = getattr(config, field)
        _require(value is None or (value > 0 and math.isfinite(value)), f"{name(field)} must be > 0, got {value}")
    _require(config.replay in REPLAYS,
             f"unknown replay {config.replay!r} ({name('replay')}); choose one of {', '.join(REPLAYS)}")
    _require(0.0 <= config.priority_alpha <= 1.0, f"{name('priority_alpha')} must be in [0, 1], got {config.priority_alpha}")
    _require(0.0 <= config.priority_beta <= 1.0, f"{name('priority_beta')} must be in [0, 1], got {config.priority_beta}")
    _require(config.critic_loss in CRITIC_LOSSES,
             f"unknown critic_loss {config.critic_loss!r}; choose one of {', '.join(CRITIC_LOSSES)}")
    _require(config.init in INITS, f"unknown init {config.init!r}; choose one of {', '.join(INITS)}")
    _require(config.seed >= 0, f"{name('seed')} must be >= 0, got {config.seed}")
    _check_settings_of(config.settings_of, config.profile, flags)
    # A built-in task's class, or an own task's environment (built once here): what the checks below ask of it.
    task_class = tasks.TASKS[config.task] if tasks.is_builtin(config.task) else _own_task(config.task)
    if config.method == "cse" and config.cse_mode == "exact":
        _require(getattr(task_class, "supports_simulate", False),
                 f"task {config.task} has no closed-form simulate(); {name('cse_mode')} 'exact' is not available")
    _validate_open_question_options(config, task_class, name)
    try:
        env = make_task_env(config.task, dynamics=config.dynamics, dimension=config.dimension, noise=config.task_noise)
    except ConfigError as error:  # ``dimension`` and ``task_noise`` are checked above: only ``dynamics`` is left
        raise ConfigError(f"{name('dynamics')} {config.dynamics!r}: {error}") from None
    try:
        discrete = hasattr(env.action_space, "n")
        _validate_dqn_options(config, discrete, name)
        extent = float(np.max(np.asarray(env.unwrapped.context_high) - np.asarray(env.unwrapped.context_low)))
        _require(config.eps <= extent, f"{name('eps')} {config.eps:g} is larger than the task's whole context box "
                                       f"(widest side {extent:g}): CSE and LDR would move samples far outside it")
        narrowest = float(np.min(np.asarray(env.unwrapped.context_high) - np.asarray(env.unwrapped.context_low)))
        if config.fd_jacobians is not None:
            _require(4 * config.fd_jacobians <= narrowest, f"{name('fd_jacobians')} {config.fd_jacobians:g} must be at "
                     f"most a quarter of the task's narrowest context side ({narrowest:g}): the one-sided differences at "
                     "the box's edges step 2h into it")
        if config.context is not None:
            try:
                check_context(env.unwrapped, config.context)
            except ConfigError as error:
                raise ConfigError(f"{name('context')} {','.join(f'{v:g}' for v in config.context)}: {error}") from None
    finally:
        env.close()


def _own_task(task: str):
    """The task (``env.unwrapped``) of a ``--task`` that is not a built-in name, or a one-line ConfigError."""
    env = make_task_env(task)
    env.close()
    return env.unwrapped


def _validate_dqn_options(config: TrainConfig, discrete: bool, name) -> None:
    """``double_q``, ``dueling``, ``head_arch`` and prioritized replay on a discrete-action task need the authors'
    DQN (``init`` authors: :class:`~cebe_deep.dqn.ContextDQN`); the first three act on DQN only."""
    _require(all(isinstance(width, (int, np.integer)) and width > 0 for width in config.head_arch),
             f"head_arch must be positive layer widths, got {config.head_arch}")
    for field in ("double_q", "dueling"):
        _require(
            isinstance(getattr(config, field), (bool, np.bool_)),
            f"{field} must be true or false, got {getattr(config, field)!r}",
        )
    dqn_options = [field for field in ("double_q", "dueling", "head_arch") if getattr(config, field)]
    if not discrete:
        _require(not dqn_options, f"{dqn_options[0] if dqn_options else ''} acts on DQN only; task {config.task} "
                                  "has continuous actions (SAC)")
    elif config.init != "authors":
        wanted = dqn_options + ([name("replay")] if config.replay == "prioritized" else [])
        _require(
            not wanted,
            f"{wanted[0] if wanted else ''} needs the authors' DQN on the discrete-action task "
            f"{config.task}: use init 'authors' (or {name('replay')} uniform, no double_q, dueling, head_arch)",
        )


def _validate_open_question_options(config: TrainConfig, task_class, name) -> None:
    """The options of the open questions (results/open/README.md): ranges, and only where they act."""

    if config.dimension is not None:
        _require(isinstance(config.dimension, (int, np.integer)) and not isinstance(config.dimension, bool)
                 and config.dimension >= 1, f"{name('dimension')} must be a positive integer, got {config.dimension!r}")
        _require(task_class is tasks.SimpleDirection,
                 f"{name('dimension')} {config.dimension}: only SimpleDirection has a dimension, not {config.task}")
    if config.task_noise is not None:
        _require(math.isfinite(config.task_noise) and config.task_noise >= 0,
                 f"{name('task_noise')} must be a finite number >= 0, got {config.task_noise}")
        _require(task_class is tasks.NoisyPendulumGoal,
                 f"{name('task_noise')} {config.task_noise:g}: only NoisyPendulumGoal has transition noise, not {config.task}")
    _require(math.isfinite(config.jacobian_noise) and config.jacobian_noise >= 0,
             f"{name('jacobian_noise')} must be a finite number >= 0, got {config.jacobian_noise}")
    _require(
        math.isfinite(config.jacobian_bias), f"{name('jacobian_bias')} must be a finite number, got {config.jacobian_bias}"
    )
    _require(config.fd_jacobians is None or (math.isfinite(config.fd_jacobians) and config.fd_jacobians > 0),
             f"{name('fd_jacobians')} (the step h) must be > 0, got {config.fd_jacobians}")
    _require(config.cse_variant in CSE_VARIANTS, f"unknown CSE variant {config.cse_variant!r} ({name('cse_variant')}); "
                                                 f"choose one of {', '.join(CSE_VARIANTS)}")
    _require(config.max_weight > 0 and not math.isnan(config.max_weight),
             f"{name('max_weight')} must be > 0, got {config.max_weight}")
    jacobian_options = [field for field, default in (("jacobian_noise", 0.0), ("jacobian_bias", 1.0), ("fd_jacobians", None))
                        if getattr(config, field) != default]
    cse_options = jacobian_options + (["cse_variant"] if config.cse_variant != "first_order" else [])
    if cse_options:
        _require(config.method == "cse" and config.cse_mode == "first_order",
                 f"{name(cse_options[0])} acts on first-order CSE only; use it with {name('method')} cse "
                 f"and {name('cse_mode')} first_order (got {config.method}, {config.cse_mode})")
    if config.cse_variant == "importance":
        _require(not jacobian_options, f"{name('cse_variant')} importance uses the closed-form d_c R; "
                                       f"it does not combine with {name(jacobian_options[0]) if jacobian_options else ''}")
        _require(hasattr(task_class, "transition_log_density"),
                 f"{name('cse_variant')} importance needs a transition density; task {config.task} has none "
                 "(use NoisyPendulumGoal)")
        _require(config.task_noise is None or config.task_noise > 0,
                 f"{name('cse_variant')} importance needs {name('task_noise')} > 0 (a deterministic step has no density)")
    elif config.max_weight != 10.0:
        raise ConfigError(f"{name('max_weight')} clips importance weights; use it with {name('cse_variant')} importance")


def check_context(task, context: Sequence[float]) -> np.ndarray:
    """``context`` as an array, or :class:`ConfigError` if it has the wrong size or lies outside the box."""
    context = np.asarray(context, dtype=np.float64)
    low, high = np.asarray(task.context_low), np.asarray(task.context_high)
    if context.shape != low.shape:
        raise ConfigError(f"context must have {low.size} values for this task, got {context.size}")
    if np.any(context < low) or np.any(context > high):
        raise ConfigError(f"context {context.tolist()} is outside the task's box [{low.tolist()}, {high.tolist()}]")
    try:
        task.validate_context(context)  # constraints beyond the box, e.g. PendulumGoal's |tau| < m g l
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return context


def make_task_env(task: str, context: Sequence[float] | None = None, jacobians: bool = False, dynamics: str | None = None,
                  dimension: int | None = None, noise: float | None = None):
    """One contextual task environment (with its episode time limit): a built-in name, a registered Gymnasium
    id or ``module:callable`` (:mod:`cebe_deep.tasks.sources`).  ``dynamics`` picks a task variant
    (only tasks that have variants accept it); ``dimension`` is SimpleDirection's d, ``noise`` NoisyPendulumGoal's
    sigma_n (None: the task's default; a run passes its config's ``dimension`` and ``task_noise``)."""

    kwargs: dict[str, Any] = {"jacobians": jacobians}
    if context is not None:
        kwargs["context"] = np.asarray(context, dtype=np.float64)
    if dynamics is not None:
        kwargs["dynamics"] = dynamics
    if dimension is not None:
        kwargs["dimension"] = int(dimension)
    if noise is not None:
        kwargs["noise"] = float(noise)
    try:
        return tasks.make_task(task, **kwargs)
    except ValueError as error:
        raise ConfigError(str(error).splitlines()[0]) from None
    except TypeError as error:  # a keyword the task does not take: ``dynamics``, ``dimension`` or ``noise``
        for keyword, value, what in (("dynamics", dynamics, "dynamics variants"), ("dimension", dimension, "dimension"),
                                     ("noise", noise, "transition noise")):
            if value is not None and keyword in str(error):
                raise ConfigError(f"task {task} has no {what}; got {keyword}={value!r}") from None
        raise
