"""AdaGrad's building block: scaling by the root of the summed squared updates.

The update rule is written once, on :func:`gradtx.adagrad`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import abs_sq, full_like, up
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._adaptive import _rms_scale

__all__ = ["ScaleByRssState", "scale_by_rss"]


class ScaleByRssState(NamedTuple):
    """State of :func:`scale_by_rss`."""

    sum_of_squares: Any  # like params (the param's real dtype), G_0 + sum |g|^2


def scale_by_rss(
    initial_accumulator_value: Any = 0.0,
    eps: Any = 1e-10,
    *,
    eps_in_sqrt: bool = False,
) -> GradientTransformation:
    r"""Divides updates by the root of the sum of all squared updates (AdaGrad).

    Produces :math:`u / (\sqrt{G_t} + \epsilon)` with :math:`G_t = G_0 +
    \sum_{s \le t} |g_s|^2` (Duchi et al. 2011; see :func:`gradtx.adagrad`).
    Coordinates whose :math:`G_t` is 0 get a 0 update, never NaN.

    Args:
      initial_accumulator_value: :math:`G_0 \ge 0` (paper and PyTorch: 0;
        optax and TensorFlow: 0.1).
      eps: :math:`\epsilon \ge 0` (paper's :math:`\delta`).
      eps_in_sqrt: add :math:`\epsilon` inside the root,
        :math:`u / \sqrt{G_t + \epsilon}` (optax's form) instead of outside
        (the paper's and PyTorch's).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByRssState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_rss(eps=0.0)
      >>> tx.update(jnp.array([-3.0, 0.0]), tx.init(jnp.zeros(2)))[0]
      Array([-1.,  0.], dtype=float32)
    """
    fn = validate.who("scale_by_rss")
    validate.number(fn, "initial_accumulator_value", initial_accumulator_value, low=0.0)
    validate.number(fn, "eps", eps, low=0.0)
    validate.boolean(fn, "eps_in_sqrt", eps_in_sqrt)

    def init(params: Params) -> ScaleByRssState:
        validate.params(fn, params)
        return ScaleByRssState(
            sum_of_squares=full_like(params, initial_accumulator_value, real=True)
        )

    def update(
        updates: Updates, state: ScaleByRssState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ScaleByRssState]:
        validate.updates(
            fn,
            updates,
            params,
            state.sum_of_squares,
            name="scale_by_rss state.sum_of_squares",
            dtypes="real",
        )

        def leaf(g: jax.Array, old: jax.Array) -> tuple[jax.Array, jax.Array]:
            s = abs_sq(up(g)) + up(old)
            # A zero accumulator means every gradient so far was zero: the
            # update is 0. The safe denominator keeps gradients through this
            # where finite too.
            positive = s > 0
            scaled = _rms_scale(g, jnp.where(positive, s, 1), eps, eps_in_sqrt)
            out = jnp.where(positive, scaled, jnp.zeros_like(scaled))
            return out, s.astype(old.dtype)

        out, sos = numerics.leafwise(leaf, updates, state.sum_of_squares, outputs=2)
        return out, ScaleByRssState(sum_of_squares=sos)

    return GradientTransformation(init, update)
