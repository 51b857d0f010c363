"""scale_by_stddev and scale_by_rss (centered RMSProp, AdaGrad): edge cases
where a naive implementation returns NaN or inf."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


@pytest.mark.parametrize("eps_in_sqrt", [True, False])
def test_centered_rmsprop_never_takes_the_root_of_a_negative_variance(
    eps_in_sqrt: bool,
) -> None:
    tx = gradtx.scale_by_stddev(eps=1e-8, eps_in_sqrt=eps_in_sqrt, bias_correction=True)
    g = jnp.asarray([3.0, -1.7, 1e-3, 123.456], jnp.float32)
    state = tx.init(g)
    for _ in range(3):  # the same gradient: variance 0, rounding may go below
        u, state = tx.update(g, state)
        assert bool(jnp.all(jnp.isfinite(u)))


def test_adagrad_with_zero_accumulator_and_zero_eps_gives_zero() -> None:
    tx = gradtx.adagrad(0.1, eps=0.0)
    p = jnp.ones(3, jnp.float32)
    u, _ = tx.update(jnp.asarray([0.0, 2.0, 0.0], jnp.float32), tx.init(p), p)
    np.testing.assert_allclose(u, [0.0, -0.1, 0.0])
