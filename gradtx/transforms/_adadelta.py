"""AdaDelta's building block: the ratio of two running root mean squares.

The update rule is written once, on :func:`gradtx.adadelta`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import abs_sq, zeros_like
from gradtx.core import GradientTransformation, Params, Updates, map_leaves
from gradtx.transforms._moments import DECAY

__all__ = ["ScaleByAdaDeltaState", "scale_by_adadelta"]

# Both roots need eps: at the start E[dx^2] = 0, so without eps in the
# numerator no step is ever taken, and without it in the denominator a
# coordinate whose gradients have all been 0 divides 0 by 0.
_EPS_ZERO = (
    "eps must be in (0, inf), got eps={eps!r}: AdaDelta's step is "
    "sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g, and E[dx^2] starts at 0, so "
    "with eps = 0 it never moves (and a coordinate whose gradients have all been "
    "0 divides 0 by 0). Zeiler uses 1e-6 (optax's and PyTorch's default)."
)


class ScaleByAdaDeltaState(NamedTuple):
    """State of :func:`scale_by_adadelta` (optax's field names)."""

    e_g: Any  # like params (the param's real dtype), E[|g|^2]
    e_x: Any  # like params (the param's real dtype), E[|dx|^2]


def scale_by_adadelta(rho: Any = 0.9, eps: Any = 1e-6) -> GradientTransformation:
    r"""Scales updates by AdaDelta's ratio of running RMS (no learning rate).

    Produces :math:`\Delta_t = \sqrt{E[\Delta^2]_{t-1} + \epsilon} \,/\,
    \sqrt{E[g^2]_t + \epsilon}\; g_t` and accumulates :math:`|\Delta_t|^2`;
    see :func:`gradtx.adadelta` for the rule and its reference.

    Args:
      rho: :math:`\rho \in [0, 1)`, the decay of both running averages.
      eps: :math:`\epsilon > 0`, inside both roots.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdaDeltaState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_adadelta(rho=0.5, eps=1.0)
      >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]  # 1 / sqrt(2 + 1) * 2
      Array([1.1547005], dtype=float32)
    """
    fn = validate.who("scale_by_adadelta")
    validate.number(fn, "rho", rho, **DECAY)
    validate.number(fn, "eps", eps, low=0.0)
    if validate.concrete_float(eps) == 0.0:
        raise validate.error(ValueError, fn, _EPS_ZERO.format(eps=eps))

    def init(params: Params) -> ScaleByAdaDeltaState:
        validate.params(fn, params)
        return ScaleByAdaDeltaState(
            e_g=zeros_like(params, real=True), e_x=zeros_like(params, real=True)
        )

    def update(
        updates: Updates,
        state: ScaleByAdaDeltaState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdaDeltaState]:
        validate.updates(
            fn,
            updates,
            params,
            state.e_g,
            name="scale_by_adadelta state.e_g",
            dtypes="real",
        )
        out, e_g, e_x = map_leaves(
            _adadelta_leaf, updates, state.e_g, state.e_x, scalars=(rho, eps), outputs=3
        )
        return out, ScaleByAdaDeltaState(e_g=e_g, e_x=e_x)

    return GradientTransformation(init, update)


def _adadelta_leaf(
    g: jax.Array, e_g: jax.Array, e_x: jax.Array, rho: Any, eps: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Zeiler 2012, Algorithm 1, lines 4-7 (float32+ inputs)."""
    new_e_g = (1 - rho) * abs_sq(g) + rho * e_g  # optax's order of operations
    ratio = (e_x + eps) / (new_e_g + eps)
    delta = jnp.sqrt(ratio) * g
    # |delta|^2 without the root: XLA then computes the step and the new E[dx^2]
    # in separate loops, with no parameter-sized buffer between them.
    new_e_x = (1 - rho) * (ratio * abs_sq(g)) + rho * e_x
    return delta, new_e_g, new_e_x
