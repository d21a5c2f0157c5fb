"""The random smooth CMDPs: the numpy closed forms against their sympy twin.

:func:`random_smooth_cmdp` evaluates ``T = softmax(logits)``, ``R`` and their first and second context
derivatives from the closed forms of the module docstring (``d p_j = p_j (g_j - gbar)``, ...);
:func:`random_smooth_cmdp_symbolic` builds the same draw from sympy expressions, which sympy differentiates
itself. The two must agree entry by entry on the same sparse pattern.
"""

import numpy as np
import pytest

from cebe_theory.random_cmdp import RandomCMDPSpec, random_smooth_cmdp, random_smooth_cmdp_symbolic

FIELDS = ("transition", "dtransition", "d2transition", "reward", "dreward", "d2reward")


def _assert_twins_agree(spec: RandomCMDPSpec):
    closed_form, symbolic = random_smooth_cmdp(spec), random_smooth_cmdp_symbolic(spec)
    assert np.array_equal(closed_form.pattern_rows, symbolic.pattern_rows)
    assert np.array_equal(closed_form.pattern_cols, symbolic.pattern_cols)
    rng = np.random.default_rng(spec.seed)
    for context in (closed_form.context0, rng.uniform(-0.9, 0.9, spec.context_dimension)):
        numeric = closed_form.derivatives(context, second=True)
        exact = symbolic.derivatives(context, second=True)
        for name in FIELDS:
            np.testing.assert_allclose(
                getattr(numeric, name), getattr(exact, name), rtol=1e-9, atol=1e-12, err_msg=f"{spec}: {name}"
            )


@pytest.mark.parametrize(
    "spec",
    [
        RandomCMDPSpec(seed=1, n_states=2, n_actions=1, context_dimension=1),
        RandomCMDPSpec(seed=2, n_states=2, n_actions=2, context_dimension=2, reward_on_next_state=False),
        RandomCMDPSpec(seed=3, n_states=3, n_actions=1, context_dimension=2, affine=True),
    ],
    ids=repr,
)
def test_closed_form_derivatives_equal_sympy_on_small_specs(spec):
    _assert_twins_agree(spec)


@pytest.mark.slow
def test_closed_form_derivatives_equal_sympy_on_a_three_dimensional_context():
    # sympy differentiates 18 softmax entries twice in 3 variables: about 7 s on one core.
    _assert_twins_agree(RandomCMDPSpec(seed=4, n_states=3, n_actions=2, context_dimension=3))
