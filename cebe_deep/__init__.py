"""cebe_deep: contextual control tasks, context sample enhancement (CSE) and domain randomization."""
