"""What a learner sees: the CSE formula and the replay buffers that apply it, prioritized replay, the SAC
subclass that uses importance weights, the open questions' CSE variants, and domain randomization wrappers.
Imports only :mod:`cebe_deep.tasks` and :mod:`cebe_deep.errors`."""
