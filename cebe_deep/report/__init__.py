"""Reading results: per-seed statistics, training curves, figures, the verdict and difference tables of
``results/README.md`` and the open questions' reports (:mod:`cebe_deep.report.open`).  Reads what
:mod:`cebe_deep.run` wrote; never trains."""
