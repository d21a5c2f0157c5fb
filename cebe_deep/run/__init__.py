"""Running experiments: :class:`~cebe_deep.run.config.TrainConfig` and its profiles, training with resumable
checkpoints, evaluation rollouts over context grids, and sweeps of many runs on an executor.  Imports only
:mod:`cebe_deep.learn`, :mod:`cebe_deep.tasks` and :mod:`cebe_deep.errors`."""
