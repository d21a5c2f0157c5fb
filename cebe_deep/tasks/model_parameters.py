r"""Context coordinates that are MuJoCo model parameters, named the way MuJoCo names them.

A parameter is ``(field, object name, index...)``: ``field`` is an ``mjModel`` array whose prefix names the
object type (``body_``, ``geom_``, ``jnt_``, ``dof_`` (named by its joint), ``actuator_``, ``site_``,
``tendon_``, ``eq_``, ``pair_``) or an ``opt.`` option (``opt.gravity``, ``opt.timestep``, ``opt.wind``, ...), which
has no object name. :func:`resolve_parameter` looks the name up with ``mujoco.mj_name2id`` and returns a
:class:`ModelParameter` that reads and writes that one number; anything wrong is a one-line
:class:`ModelParameterError` naming it and listing what is valid. :func:`~cebe_deep.tasks.mujoco_task` uses them.

>>> import gymnasium, warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     model = gymnasium.make("Hopper-v5").unwrapped.model
>>> friction = resolve_parameter(model, "foot_friction", ("geom_friction", "foot_geom", 0))
>>> friction.describe(), friction.read(model)
("geom_friction['foot_geom', 0]", 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from cebe_theory.errors import InputError

__all__ = ["ModelParameter", "ModelParameterError", "resolve_parameter", "OBJECT_TYPES"]

#: Field prefix -> (MuJoCo object type the name is looked up as, the object in words, plural, its count in mjModel).
OBJECT_TYPES = {
    "body": (mujoco.mjtObj.mjOBJ_BODY, "body", "bodies", "nbody"),
    "geom": (mujoco.mjtObj.mjOBJ_GEOM, "geom", "geoms", "ngeom"),
    "jnt": (mujoco.mjtObj.mjOBJ_JOINT, "joint", "joints", "njnt"),
    "dof": (mujoco.mjtObj.mjOBJ_JOINT, "joint", "joints", "njnt"),  # degrees of freedom are named by their joint
    "actuator": (mujoco.mjtObj.mjOBJ_ACTUATOR, "actuator", "actuators", "nu"),
    "site": (mujoco.mjtObj.mjOBJ_SITE, "site", "sites", "nsite"),
    "tendon": (mujoco.mjtObj.mjOBJ_TENDON, "tendon", "tendons", "ntendon"),
    "eq": (mujoco.mjtObj.mjOBJ_EQUALITY, "equality constraint", "equality constraints", "neq"),
    "pair": (mujoco.mjtObj.mjOBJ_PAIR, "contact pair", "contact pairs", "npair"),
}
#: Degrees of freedom of each joint type (mjtJoint: free, ball, slide, hinge).
_JOINT_DOFS = {int(mujoco.mjtJoint.mjJNT_FREE): 6, int(mujoco.mjtJoint.mjJNT_BALL): 3,
               int(mujoco.mjtJoint.mjJNT_SLIDE): 1, int(mujoco.mjtJoint.mjJNT_HINGE): 1}


class ModelParameterError(InputError):
    """A context parameter that does not name a real-valued MuJoCo model field, object or index."""


@dataclass(frozen=True)
class ModelParameter:
    """One context coordinate: the number ``model.<field>[row, column]`` (``model.opt.<option>[column]``).

    ``row`` is the object's id (for ``dof_`` fields the degree of freedom's index), None for ``opt.``;
    ``column`` the index within the row, None where the row (or option) is a single number.
    """

    name: str
    field: str
    object_name: str | None
    row: int | None
    column: int | None

    def _array(self, model: mujoco.MjModel):
        if self.field.startswith("opt."):
            return getattr(model.opt, self.field[4:])
        return getattr(model, self.field)

    def read(self, model: mujoco.MjModel) -> float:
        if self.field.startswith("opt.") and self.column is None:
            return float(getattr(model.opt, self.field[4:]))
        array = self._array(model)
        index = tuple(i for i in (self.row, self.column) if i is not None)
        return float(array[index])

    def write(self, model: mujoco.MjModel, value: float) -> None:
        if self.field.startswith("opt.") and self.column is None:
            setattr(model.opt, self.field[4:], float(value))
            return
        index = tuple(i for i in (self.row, self.column) if i is not None)
        self._array(model)[index] = value

    def describe(self) -> str:
        """``model.body_mass[torso]``-style text for tables and messages."""
        where = [repr(self.object_name)] if self.object_name is not None else []
        where += [str(self.column)] if self.column is not None else []
        return f"{self.field}[{', '.join(where)}]" if where else self.field


def _float_fields(model: mujoco.MjModel, prefix: str) -> list[str]:
    return sorted(name for name in dir(model) if name.startswith(prefix + "_")
                  and isinstance(getattr(model, name), np.ndarray) and getattr(model, name).dtype == np.float64)


def _float_options(model: mujoco.MjModel) -> list[str]:
    options = []
    for name in dir(model.opt):
        if name.startswith("_"):
            continue
        value = getattr(model.opt, name)
        if isinstance(value, float) or (isinstance(value, np.ndarray) and value.dtype == np.float64):
            options.append(f"opt.{name}")
    return sorted(options)


def _object_names(model: mujoco.MjModel, object_type, count: int) -> list[str]:
    names = [mujoco.mj_id2name(model, object_type, i) for i in range(count)]
    return [name for name in names if name]


def resolve_parameter(model: mujoco.MjModel, name: str, spec, where: str = "the model") -> ModelParameter:
    """The :class:`ModelParameter` of context coordinate ``name`` given as ``(field, object name, index...)``
    (module docstring), or a one-line :class:`ModelParameterError` naming what is wrong and what is valid."""
    prefix_text = f"context {name!r} of {where}"
    spec = (spec,) if isinstance(spec, str) else spec
    if not isinstance(spec, (tuple, list)) or not spec or not isinstance(spec[0], str):
        raise ModelParameterError(f"{prefix_text}: give (field, object name, index...) such as ('body_mass', 'torso'), "
                                  f"got {spec!r}")
    field, rest = spec[0], tuple(spec[1:])

    def indices(values, lengths: list[tuple[str, int]]) -> list[int]:
        """Check ``values`` against the axes that need an index (``(what, length)`` each)."""
        if len(values) != len(lengths):
            needed = ", ".join(f"{what} 0..{length - 1}" for what, length in lengths) or "none"
            raise ModelParameterError(f"{prefix_text}: {field} takes {len(lengths)} index(es) here ({needed}), "
                                      f"got {list(values)}")
        for value, (what, length) in zip(values, lengths):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < length:
                raise ModelParameterError(f"{prefix_text}: {field} index {value!r} is not in 0..{length - 1} ({what})")
        return [int(v) for v in values]

    if field.startswith("opt."):
        options = _float_options(model)
        if field not in options:
            raise ModelParameterError(f"{prefix_text}: unknown option {field!r}; real-valued options: {', '.join(options)}")
        value = getattr(model.opt, field[4:])
        lengths = [] if isinstance(value, float) else [("entry", value.size)]
        (column,) = indices(rest, lengths) or [None]
        return ModelParameter(name, field, None, None, column)

    prefix = field.split("_", 1)[0]
    if prefix not in OBJECT_TYPES:
        raise ModelParameterError(f"{prefix_text}: unknown field {field!r}; fields start with "
                                  f"{', '.join(p + '_' for p in OBJECT_TYPES)} or are options opt.<name>")
    fields = _float_fields(model, prefix)
    if field not in fields:
        raise ModelParameterError(f"{prefix_text}: {field!r} is not a real-valued model field; {OBJECT_TYPES[prefix][1]} "
                                  f"fields: {', '.join(fields)}")
    object_type, object_kind, plural, count_name = OBJECT_TYPES[prefix]
    valid = _object_names(model, object_type, getattr(model, count_name))
    if not rest or not isinstance(rest[0], str):
        raise ModelParameterError(f"{prefix_text}: {field} needs a {object_kind} name after the field; {plural}: "
                                  f"{', '.join(valid) or 'none'}")
    object_name, rest = rest[0], rest[1:]
    object_id = mujoco.mj_name2id(model, object_type, object_name)
    if object_id < 0:
        raise ModelParameterError(
            f"{prefix_text}: no {object_kind} named {object_name!r}; {plural}: {', '.join(valid) or 'none'}")
    array = getattr(model, field)
    lengths: list[tuple[str, int]] = []
    rows = [object_id]
    if prefix == "dof":
        start = int(model.jnt_dofadr[object_id])
        rows = list(range(start, start + _JOINT_DOFS[int(model.jnt_type[object_id])]))
        if len(rows) > 1:
            lengths.append((f"degree of freedom of joint {object_name!r}", len(rows)))
    if array.ndim == 2 and array.shape[1] > 1:
        lengths.append((f"entry of {field}, which has {array.shape[1]} per {object_kind}", array.shape[1]))
    chosen = indices(rest, lengths)
    row = rows[chosen.pop(0)] if len(rows) > 1 else rows[0]
    column = (chosen.pop(0) if array.ndim == 2 and array.shape[1] > 1 else (0 if array.ndim == 2 else None))
    return ModelParameter(name, field, object_name, row, column)
