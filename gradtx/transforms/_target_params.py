"""Slow copies of the params: a moving average, or a copy every few steps.

Functions of params (not transformations), for target networks, as in
optax: ``target = incremental_update(online, target, 0.005)``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import Params

__all__ = ["incremental_update", "periodic_update"]


def _same_trees(fn: str, new_tensors: Params, old_tensors: Params) -> None:
    validate.tree_matches(
        fn,
        new_tensors,
        old_tensors,
        got_name="new_tensors",
        expected_name="old_tensors",
        dtypes="ignore",
    )


def incremental_update(
    new_tensors: Params, old_tensors: Params, step_size: Any
) -> Params:
    r"""A step of a moving average of the params (Polyak averaging).

    .. math::
       \bar\theta \leftarrow \tau\, \theta + (1 - \tau)\, \bar\theta

    Each result has the dtype of its ``old_tensors`` leaf (a float64
    ``step_size`` does not turn a float32 average into float64). ``None``
    leaves stay ``None``.

    Args:
      new_tensors: the latest params :math:`\theta`.
      old_tensors: the average so far :math:`\bar\theta`, a tree like
        ``new_tensors``.
      step_size: :math:`\tau \in [0, 1]` (may be traced).

    Returns:
      The new average, a tree like ``old_tensors``.

    Raises:
      ValueError: ``step_size`` is outside :math:`[0, 1]` (checked when it is
        concrete).
      TypeError: ``step_size`` is not a number.
      TreeMismatchError: the trees differ in structure or shapes.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.incremental_update(jnp.ones(2), jnp.zeros(2), 0.25)
      Array([0.25, 0.25], dtype=float32)

    References:
      Polyak & Juditsky, *Acceleration of Stochastic Approximation by
      Averaging*, SIAM J. Control Optim. 1992,
      https://doi.org/10.1137/0330046
    """
    fn = validate.who("incremental_update")
    validate.number(fn, "step_size", step_size, low=0.0, high=1.0)
    _same_trees(fn, new_tensors, old_tensors)

    def leaf(new: Any, old: Any) -> Any:
        if new is None:
            return None
        old = jnp.asarray(old)
        tau = jnp.asarray(step_size).astype(jnp.real(old).dtype)
        return (tau * new + (1 - tau) * old).astype(old.dtype)

    return jax.tree.map(leaf, new_tensors, old_tensors, is_leaf=lambda x: x is None)


def periodic_update(
    new_tensors: Params, old_tensors: Params, steps: Any, update_period: Any
) -> Params:
    r"""The params every ``update_period`` steps, else the old copy.

    .. math::
       \bar\theta \leftarrow \begin{cases} \theta & t \bmod T = 0 \\
       \bar\theta & \text{otherwise} \end{cases}

    the target network of DQN (Mnih et al. 2015). Chosen on the device
    (``lax.cond``): ``steps`` may be traced.

    Args:
      new_tensors: the latest params :math:`\theta`.
      old_tensors: the slow copy :math:`\bar\theta`, a tree like
        ``new_tensors`` (same shapes and dtypes).
      steps: the step count :math:`t` (an int, may be traced).
      update_period: :math:`T`, an int >= 1 (may be traced).

    Returns:
      ``new_tensors`` or ``old_tensors``.

    Raises:
      ValueError: ``update_period`` is a concrete value that is not an
        int >= 1.
      TreeMismatchError: the trees differ in structure, shapes or dtypes.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.periodic_update(jnp.ones(2), jnp.zeros(2), 10, 5)
      Array([1., 1.], dtype=float32)
    """
    fn = validate.who("periodic_update")
    if not isinstance(update_period, jax.core.Tracer):
        period = update_period
        if hasattr(period, "shape") and tuple(period.shape) == ():
            period = (
                period.item() if jnp.issubdtype(period.dtype, jnp.integer) else period
            )
        validate.integer(
            fn,
            "update_period",
            period,
            low=1,
            meaning="steps between copies",
        )
    validate.tree_matches(
        fn,
        new_tensors,
        old_tensors,
        got_name="new_tensors",
        expected_name="old_tensors",
    )
    return jax.lax.cond(
        jnp.mod(steps, update_period) == 0, lambda: new_tensors, lambda: old_tensors
    )
