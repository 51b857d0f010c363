"""``reduce_on_plateau``: scale the updates down when a metric stops improving."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx._internal.numerics import safe_increment
from gradtx.core import GradientTransformationExtraArgs, Params, Updates

__all__ = ["ReduceLROnPlateauState", "reduce_on_plateau"]


class ReduceLROnPlateauState(NamedTuple):
    """State of :func:`reduce_on_plateau` (optax's fields)."""

    scale: jax.Array  # the factor the updates are multiplied by
    best_value: jax.Array  # the best (lowest) averaged value so far
    plateau_count: jax.Array  # int32: averages without improvement in a row
    cooldown_count: jax.Array  # int32: averages left to wait after a reduction
    count: jax.Array  # type: ignore[assignment]  # int32: values in the current average
    avg_value: jax.Array  # the running mean of the current accumulation


_NEEDS_VALUE = (
    "update needs the metric: tx.update(grads, state, params, value=loss) "
    "(a scalar, e.g. the loss or a validation loss)."
)


def reduce_on_plateau(
    factor: float = 0.1,
    patience: Any = 10,
    rtol: float = 1e-4,
    atol: float = 0.0,
    cooldown: Any = 0,
    accumulation_size: Any = 1,
    min_scale: Any = 0.0,
) -> GradientTransformationExtraArgs:
    r"""Multiplies the updates by a scale that drops when ``value`` plateaus.

    ``update(..., value=v)`` averages ``accumulation_size`` values; each
    average :math:`\bar v` is an improvement if :math:`\bar v < (1 -
    \mathrm{rtol})\, v^\star - \mathrm{atol}`, :math:`v^\star` the best
    average so far. After ``patience`` averages in a row without one, the
    scale is multiplied by ``factor`` (not below ``min_scale``), and the
    next ``cooldown`` averages neither count nor reduce it again:

    .. math::
       s \leftarrow \max(\mathrm{factor}\cdot s,\ s_{\min}), \qquad
       u \leftarrow s\, u

    This is optax's ``optax.contrib.reduce_on_plateau``, state and all.
    PyTorch's ``ReduceLROnPlateau(mode="min", threshold_mode="rel")`` reduces
    after ``patience + 1`` bad epochs: ``patience=p + 1`` here is its
    ``patience=p``, with ``threshold`` as ``rtol``.

    Args:
      factor: the reduction, in (0, 1).
      patience: averages without improvement before a reduction, >= 1.
      rtol: relative improvement threshold, in [0, 1].
      atol: absolute improvement threshold, >= 0 (one of the two > 0).
      cooldown: averages to wait after a reduction, >= 0.
      accumulation_size: values per average, >= 1 (a minibatch loss is noisy:
        average over an epoch's steps).
      min_scale: the lowest scale, >= 0.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`ReduceLROnPlateauState`; its ``update`` needs ``value=``.

    Raises:
      ValueError: an argument out of range.
      TypeError: at update time, no ``value`` (a missing argument, as in
        optax, whose ``update`` requires it).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.reduce_on_plateau(factor=0.5, patience=2)
      >>> state = tx.init(jnp.zeros(1))
      >>> for v in [1.0, 1.0, 1.0]:  # improves once, then plateaus twice
      ...     u, state = tx.update(jnp.ones(1), state, value=v)
      >>> u
      Array([0.5], dtype=float32)

    References:
      PyTorch's ``torch.optim.lr_scheduler.ReduceLROnPlateau``; optax's
      ``optax.contrib.reduce_on_plateau``.
    """
    fn = validate.who("reduce_on_plateau")
    validate.number(
        fn, "factor", factor, low=0.0, high=1.0, low_open=True, high_open=True
    )
    validate.number(fn, "rtol", rtol, low=0.0, high=1.0)
    validate.number(fn, "atol", atol, low=0.0)
    if rtol == 0.0 and atol == 0.0:
        raise validate.error(
            ValueError,
            fn,
            "rtol and atol are both 0: at least one must be positive, or any "
            "rounding counts as an improvement.",
        )
    validate.number(fn, "patience", patience, low=1.0)
    validate.number(fn, "cooldown", cooldown, low=0.0)
    validate.number(fn, "accumulation_size", accumulation_size, low=1.0)
    validate.number(fn, "min_scale", min_scale, low=0.0)

    def init(params: Params) -> ReduceLROnPlateauState:
        validate.params(fn, params)
        lowest, highest = tree.dtype(params, "lowest"), tree.dtype(params, "highest")
        return ReduceLROnPlateauState(
            scale=jnp.asarray(1.0, lowest),
            best_value=jnp.asarray(jnp.inf, highest),
            plateau_count=jnp.zeros((), jnp.int32),
            cooldown_count=jnp.zeros((), jnp.int32),
            count=jnp.zeros((), jnp.int32),
            avg_value=jnp.zeros((), highest),
        )

    def judge(s: ReduceLROnPlateauState) -> ReduceLROnPlateauState:
        """The rule, applied to a finished average."""
        improved = s.avg_value < (1 - rtol) * s.best_value - atol
        best = jnp.where(improved, s.avg_value, s.best_value)
        bad = jnp.where(improved, 0, safe_increment(s.plateau_count))
        cooling = s.cooldown_count > 0
        reduce = jnp.logical_and(~cooling, bad == patience)
        lowered = jnp.where(reduce, s.scale * factor, s.scale)
        scale = jnp.where(cooling, s.scale, jnp.maximum(lowered, min_scale))
        scale = scale.astype(s.scale.dtype)
        return ReduceLROnPlateauState(
            scale=scale,
            best_value=best.astype(s.best_value.dtype),
            plateau_count=jnp.where(cooling | reduce, 0, bad).astype(jnp.int32),
            cooldown_count=jnp.where(
                cooling, s.cooldown_count - 1, jnp.where(reduce, cooldown, 0)
            ).astype(jnp.int32),
            count=jnp.zeros((), jnp.int32),
            avg_value=jnp.zeros((), s.avg_value.dtype),
        )

    def update(
        updates: Updates,
        state: ReduceLROnPlateauState,
        params: Params | None = None,
        *,
        value: Any = None,
        **_: Any,
    ) -> tuple[Updates, ReduceLROnPlateauState]:
        if value is None:  # a missing argument, checked first, as optax's
            raise validate.error(TypeError, fn, _NEEDS_VALUE)
        validate.updates(fn, updates, params)
        if jnp.shape(value) != ():
            raise validate.error(
                ValueError, fn, f"value must be a scalar, got shape {jnp.shape(value)}."
            )
        count = safe_increment(state.count)
        avg = (
            state.count * state.avg_value + jnp.asarray(value, state.avg_value.dtype)
        ) / count
        s = state._replace(avg_value=avg.astype(state.avg_value.dtype), count=count)
        judged = judge(s)
        done = count == accumulation_size
        s = jax.tree.map(lambda a, b: jnp.where(done, a, b), judged, s)
        out = jax.tree.map(lambda g: (s.scale * g).astype(g.dtype), updates)
        return out, s

    return GradientTransformationExtraArgs(init, update)
