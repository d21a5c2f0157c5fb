"""cebe_deep: contextual control tasks, context sample enhancement (CSE) and domain randomization."""

from cebe_deep import tasks  # noqa: F401  (registers the cebe/<Task>-v0 Gymnasium ids)
