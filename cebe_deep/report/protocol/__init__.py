r"""The statistical protocol of the verdicts (``results/PROTOCOL.md``), applied by one function to every task.

The protocol, in formulas (the document says why each choice was made):

- **Away from c0**: :math:`|c - c_0|_2 > \varepsilon + 10^{-6}`, :math:`\varepsilon = 0.1` (:func:`away_from_c0`, the one
  definition, in :mod:`cebe_deep.report.statistics`, that ``comparison.csv`` and the open questions use too).
- **Normalized score** of a seed at context c: :math:`x(c) = (R(c) - Z(c)) / S(c)`, R the seed's mean return over the
  64 evaluation episodes, Z the all-zero action's over the same start states, and S(c) the optimum minus Z where
  the optimum is known in closed form (SimpleDirection), else one constant per task :math:`S = U - Z(c_0)` with U
  a reference fixed without any learner (:data:`REFERENCES`).
- **Primary endpoint** per task and comparison (CSE - baseline, CSE - LDR), paired by seed:
  :math:`d_s = \frac{1}{|A|}\sum_{c \in A} (x_{CSE}(s, c) - x_{other}(s, c))` over the away contexts A, the mean of
  :math:`d_s` over the n paired seeds and its Student-t 95% interval.
- **Words** from the interval [lo, hi] and the margin :math:`\delta` = :data:`MARGIN` (:func:`verdict_word`):
  *beats* if lo > 0; else *matches* if :math:`-\delta <` lo and hi :math:`< \delta`; else *worse* if hi < 0; else
  *inconclusive*.  Claims (:func:`claim_status`): "beats the baseline" needs *beats*; "matches LDR" *matches* or
  *beats*.
- **Secondary** (never a verdict): IQM of normalized scores and probability of improvement, as ``rliable``'s
  ``aggregate_iqm`` and ``probability_of_improvement``, with a bootstrap over paired seeds (whole rows) and the
  expanded percentile interval (:func:`paired_bootstrap_interval`); per-context paired tests, Holm-corrected
  (:func:`per_context_tests`); the primary on the authors' test contexts alone; the earlier per-context rule
  (:func:`cebe_deep.report.statistics.verdict`); the smallest difference detectable with 80% power
  (:func:`minimum_detectable_difference`).

The stratified bootstrap is implemented here with numpy (scipy for quantiles), not with ``rliable``: ``rliable``'s
``StratifiedBootstrap`` resamples each task's (here: context's) runs independently, which would treat one seed's
policy, evaluated at every context, as independent runs; ``rliable`` brings ``arch``, ``statsmodels`` and
``seaborn`` with it; and its ``rliable.library`` (the bootstrap, the profiles) does not import under pandas 3
(``arch`` 7.2).  The tests check the point estimates against ``rliable.metrics`` where it is installed.

``cebe-deep report protocol FOLDER...`` prints the verdict table (markdown) of results folders
(:func:`print_protocol`), and so does a write-up's block ``<!-- report protocol FOLDER... -->``
(:mod:`cebe_deep.report.readme`).  ``cebe-deep report replication TABLE RERUN...`` sets a table's primary endpoints
beside a re-run's, with the interval of their difference (:mod:`cebe_deep.report.protocol.replication`); with
``--spread``, how much the seeds of each spread (exploratory).
"""

from cebe_deep.report.protocol.command import block_arguments, parse_dynamics, print_protocol
from cebe_deep.report.protocol.figures import performance_profile, plot_performance_profiles, plot_verdicts
from cebe_deep.report.protocol.inference import (
           claim_status,
           compare_paired,
           expanded_percentile_alpha,
           holm,
           iqm,
           minimum_detectable_difference,
           paired_bootstrap_interval,
           per_context_tests,
           probability_of_improvement,
           seeds_for_difference,
           verdict_word,
)
from cebe_deep.report.protocol.replication import (
    pooled_table,
    print_pooled,
    print_replication,
    render_pooled,
    render_replication,
    render_spread,
    replication_table,
    spread_table,
)
from cebe_deep.report.protocol.scores import (
           BOOTSTRAP_RESAMPLES,
           BOOTSTRAP_SEED,
           EPS,
           LEVEL,
           MARGIN,
           PAPER_SEEDS,
           POWER,
           REFERENCES,
           ZERO_ACTION_FILE,
           context_scale,
           distinct_contexts,
           read_zero_action,
           seed_scores,
           zero_action_table,
)
from cebe_deep.report.protocol.verdicts import (
           TaskScores,
           disagreeing_analyses,
           folder_inputs,
           mark_reruns,
           render_compact,
           render_markdown,
           task_scores,
           task_verdicts,
           verdict_table,
           write_zero_action,
)
from cebe_deep.report.statistics import AWAY_TOLERANCE, away_from_c0  # the one rule, shared with comparison.csv

__all__ = ["EPS", "AWAY_TOLERANCE", "LEVEL", "MARGIN", "PAPER_SEEDS", "BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "POWER",
           "REFERENCES", "ZERO_ACTION_FILE", "away_from_c0", "distinct_contexts", "zero_action_table",
           "read_zero_action", "context_scale", "seed_scores", "verdict_word", "claim_status",
           "expanded_percentile_alpha", "paired_bootstrap_interval", "iqm", "probability_of_improvement", "holm",
           "per_context_tests", "minimum_detectable_difference", "seeds_for_difference", "compare_paired",
           "TaskScores", "task_scores", "task_verdicts", "verdict_table", "mark_reruns", "render_markdown", "render_compact",
           "disagreeing_analyses", "write_zero_action",
           "folder_inputs", "performance_profile",
           "plot_verdicts", "plot_performance_profiles", "print_protocol", "parse_dynamics", "block_arguments",
           "replication_table", "render_replication", "print_replication", "spread_table", "render_spread",
           "pooled_table", "render_pooled", "print_pooled"]
