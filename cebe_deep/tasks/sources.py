"""Where a task comes from: a built-in name, a registered Gymnasium id, or ``module:callable`` of your own.

``cebe-deep train/evaluate/sweep --task`` (and :func:`cebe_deep.tasks.make_task`) take three forms:

* a built-in name, ``PendulumGoal`` (the table of :data:`cebe_deep.tasks.TASKS`);
* a registered Gymnasium id of an environment that follows the task interface (:mod:`cebe_deep.tasks.base`),
  ``cebe/PendulumGoal-v0``, or ``my_module:MyTask-v0`` (Gymnasium's own form: ``my_module`` is imported first,
  so that it can register ``MyTask-v0``);
* ``my_module:make_env``: ``my_module`` is imported (from the current directory too, as ``python -m`` would)
  and ``make_env`` called; it must return such an environment (a :func:`~cebe_deep.tasks.differentiable_task`,
  a :func:`~cebe_deep.tasks.mujoco_task` or your own :class:`~cebe_deep.tasks.ContextualEnv` subclass).
  ``make_env`` may also be a dotted path inside the module (``my_module:Tasks.point_mass``).

The environment is built with the keywords ``context`` (the context to start at) and ``jacobians`` (whether
CSE needs the Jacobians in ``info``) where its constructor takes them (a ``**kwargs`` takes both); one that
takes no ``context`` gets ``set_context`` after it is built, and one that takes no ``jacobians`` must report
them anyway when they are asked for. Other keywords (``dynamics``, ``dimension``, ``noise``) are passed on as
given. A task without a ``TimeLimit`` gets one of its ``max_episode_steps``. Jacobians that stay zero over the
first steps get a warning (:class:`~cebe_deep.tasks.jacobian_watch.WatchZeroJacobians`), unless the task
watches its own (``watches_jacobians``).

The run's ``config.json`` records the string, so evaluating, resuming, sweeping and summarizing a run import
the same module again: keep it importable from where you run them. Every failure (a module that does not
import, a name it lacks, a callable that raises or returns something else than a contextual task) is one
:class:`TaskSourceError` line naming the ``--task`` value.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable

import gymnasium
import numpy as np
from gymnasium.wrappers import TimeLimit

from cebe_deep.tasks.jacobian_watch import WatchZeroJacobians
from cebe_theory.errors import InputError

__all__ = ["TaskSourceError", "TASK_INTERFACE", "task_factory", "make_task_from_source", "check_task_interface",
           "task_folder", "TASK_FORMS"]

#: What an environment needs (on ``env.unwrapped``) to be trained on with CSE, LDR or GDR.
TASK_INTERFACE = ("state_dim", "context_dim", "context_names", "context_low", "context_high", "default_context",
                  "context", "set_context", "validate_context", "jacobians")
#: The forms ``--task`` takes, for messages.
TASK_FORMS = "a built-in task name, a registered Gymnasium id of a contextual task, or module:callable"


class TaskSourceError(InputError):
    """A ``--task`` value that names no usable contextual task; the message says which and why, in one line."""


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _import(module_name: str, source: str):
    """Import ``module_name``; if it is not found, once more with the current directory on ``sys.path``."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        here = os.getcwd()
        if error.name != module_name.split(".")[0] or here in sys.path:
            raise TaskSourceError(f"--task {source!r}: cannot import module {module_name!r} ({_first_line(error)})") from None
    except Exception as error:  # noqa: BLE001 - a user's module may fail in any way: report it in one line
        raise TaskSourceError(f"--task {source!r}: importing module {module_name!r} failed ({_first_line(error)})") from None
    sys.path.insert(0, here)
    try:
        return importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001
        sys.path.remove(here)
        raise TaskSourceError(f"--task {source!r}: cannot import module {module_name!r} from the Python path or the "
                              f"current directory {here} ({_first_line(error)})") from None


def _gymnasium_factory(env_id: str):
    spec = gymnasium.registry[env_id]
    entry = spec.entry_point
    creator = gymnasium.envs.registration.load_env_creator(entry) if isinstance(entry, str) else entry

    def make(**kwargs):
        return gymnasium.make(env_id, **kwargs)

    return make, creator


def task_factory(source: str, known: Iterable[str] = ()) -> tuple[Callable[..., gymnasium.Env], Callable]:
    """``(make, creator)`` for a ``--task`` value that is not a built-in name (module docstring): ``make(**kwargs)``
    builds the environment, ``creator`` is the function or class whose signature says which keywords it takes.
    ``known``: the built-in names, for the message of an unknown one."""
    if not isinstance(source, str) or not source.strip():
        raise TaskSourceError(f"--task must be {TASK_FORMS}, got {source!r}")
    if ":" not in source:
        if source in gymnasium.registry:
            return _gymnasium_factory(source)
        names = ", ".join(known)
        raise TaskSourceError(f"unknown task {source!r}; known tasks: {names or 'none'}; or give a registered "
                              "Gymnasium id of a contextual task, or module:callable returning one")
    module_name, _, attribute = source.partition(":")
    if not module_name or not attribute:
        raise TaskSourceError(f"--task {source!r}: module:callable needs both parts, e.g. my_tasks:make_env")
    module = _import(module_name, source)
    if re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", attribute):
        target = module
        for part in attribute.split("."):
            target = getattr(target, part, None)
        if target is not None:
            if not callable(target):
                raise TaskSourceError(f"--task {source!r}: {module_name}.{attribute} is a {type(target).__name__}, not "
                                      "a callable that returns an environment")
            return (lambda **kwargs: target(**kwargs)), target
    if attribute in gymnasium.registry:
        return _gymnasium_factory(attribute)
    raise TaskSourceError(f"--task {source!r}: module {module_name!r} has no callable and registered no Gymnasium id "
                          f"named {attribute!r}")


def _accepts(creator, keyword: str) -> bool:
    try:
        parameters = inspect.signature(creator).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable without a signature: pass everything
        return True
    return any(p.kind is p.VAR_KEYWORD or (p.name == keyword and p.kind is not p.POSITIONAL_ONLY) for p in parameters)


def check_task_interface(env, source: str) -> None:
    """One-line :class:`TaskSourceError` unless ``env`` is a Gymnasium environment whose ``unwrapped`` follows the
    task interface (:data:`TASK_INTERFACE`) with an observation of ``state_dim + context_dim`` numbers."""
    if not isinstance(env, gymnasium.Env):
        raise TaskSourceError(f"--task {source!r} returned {type(env).__name__}, not a Gymnasium environment")
    task = env.unwrapped
    missing = [name for name in TASK_INTERFACE if not hasattr(task, name)]
    if missing:
        raise TaskSourceError(f"--task {source!r} gave a {type(task).__name__}, which is not a contextual task (it lacks "
                              f"{', '.join(missing)}); subclass cebe_deep.tasks.ContextualEnv or use differentiable_task "
                              "or mujoco_task")
    shape = getattr(env.observation_space, "shape", None)
    expected = (int(task.state_dim) + int(task.context_dim),)
    if shape != expected:
        raise TaskSourceError(f"--task {source!r}: the observation has shape {shape}, but a contextual task observes "
                              f"state then context, shape (state_dim + context_dim,) = {expected}")


def _has_time_limit(env) -> bool:
    while isinstance(env, gymnasium.Wrapper):
        if isinstance(env, TimeLimit):
            return True
        env = env.env
    return False


def make_task_from_source(source: str, known: Iterable[str] = (), *, context=None, jacobians: bool = True,
                          **kwargs) -> gymnasium.Env:
    """The environment of a ``--task`` value that is not a built-in name (module docstring), at ``context``
    (None: its c0), with its Jacobians in ``info`` when ``jacobians``; other ``kwargs`` go to its constructor."""
    make, creator = task_factory(source, known)
    keywords = dict(kwargs)
    passed = {name: _accepts(creator, name) for name in ("context", "jacobians")}
    if passed["jacobians"]:
        keywords["jacobians"] = jacobians
    if passed["context"] and context is not None:
        keywords["context"] = context
    try:
        env = make(**keywords)
    except TypeError as error:
        if any(f"'{name}'" in str(error) for name in kwargs):
            raise  # a keyword the task does not take (dynamics, dimension, noise): the caller names it
        raise TaskSourceError(f"--task {source!r}: building the environment failed ({_first_line(error)})") from None
    except Exception as error:  # noqa: BLE001 - the user's constructor may fail in any way: one line
        raise TaskSourceError(f"--task {source!r}: building the environment failed ({_first_line(error)})") from None
    check_task_interface(env, source)
    task = env.unwrapped
    if context is not None and not passed["context"]:
        task.set_context(np.asarray(context, dtype=np.float64))
    if jacobians and not task.jacobians:
        raise TaskSourceError(f"--task {source!r}: the task reports no Jacobians (jacobians is False) and its constructor "
                              "takes no jacobians keyword; CSE needs them")
    if not _has_time_limit(env) and getattr(task, "max_episode_steps", None):
        env = TimeLimit(env, max_episode_steps=int(task.max_episode_steps))
    if jacobians and not getattr(task, "watches_jacobians", False):
        env = WatchZeroJacobians(env)
    return env


def task_folder(task: str) -> str:
    """The folder name of a task's runs (``runs/<folder>/<method>/seed<k>``): the name itself for a built-in task,
    otherwise the ``--task`` value with ``/`` and ``:`` (an id's namespace, module:callable) made ``__``."""
    return task.replace("/", "__").replace(":", "__")
