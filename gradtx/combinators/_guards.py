"""Guards that skip a step: non-finite updates, updates with too large a norm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx._internal.numerics import COUNT_DTYPE, safe_increment, zero_count
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)

__all__ = [
    "ApplyIfFiniteState",
    "NormGuardState",
    "apply_if_finite",
    "apply_if_norm_below",
]


class ApplyIfFiniteState(NamedTuple):
    """State of :func:`apply_if_finite` (optax's field names)."""

    notfinite_count: jax.Array  # int32[], non-finite steps in a row so far
    last_finite: jax.Array  # bool[], whether the last step's updates were finite
    total_notfinite: jax.Array  # int32[], non-finite steps in all
    inner_state: Any  # the inner transformation's state


def apply_if_finite(
    inner: GradientTransformation, max_consecutive_errors: int
) -> GradientTransformation:
    """Skips a step whose updates hold a NaN or an infinity, a few times in a row.

    When an incoming update is not finite everywhere, the step emits zero
    updates and keeps ``inner``'s state as it was, so params and optimizer
    state come out exactly as after the last good step; the counters in the
    state record it. After more than ``max_consecutive_errors`` bad steps in a
    row, the bad updates go through, so a diverged run fails visibly instead
    of silently stalling. The same rule as ``optax.apply_if_finite``.

    The choice is made on the device by ``lax.cond`` (no host round trip), on
    one finiteness flag computed in a single reduction over the small leaves.
    Its cost: the updates come out of the ``cond`` as one parameter-sized
    buffer, which XLA cannot fuse into the add to the params (optax's form
    has the same). Selecting with ``jnp.where`` instead measured worse: the
    unselected new moments each became a parameter-sized buffer.

    Args:
      inner: the transformation to protect.
      max_consecutive_errors: how many non-finite steps in a row are skipped
        (an int >= 0).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ApplyIfFiniteState`.

    Raises:
      TypeError: ``inner`` is not a transformation.
      ValueError: ``max_consecutive_errors`` is not an int >= 0.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.apply_if_finite(gradtx.sgd(1.0), max_consecutive_errors=2)
      >>> state = tx.init(jnp.zeros(2))
      >>> updates, state = tx.update(jnp.array([1.0, jnp.nan]), state)
      >>> updates, int(state.notfinite_count), bool(state.last_finite)
      (Array([0., 0.], dtype=float32), 1, False)
    """
    inner = with_extra_args_support(as_transformation(inner, "apply_if_finite's inner"))
    validate.integer(
        "apply_if_finite",
        "max_consecutive_errors",
        max_consecutive_errors,
        low=0,
        meaning="the number of non-finite steps in a row to skip",
    )

    def init(params: Params) -> ApplyIfFiniteState:
        return ApplyIfFiniteState(
            notfinite_count=zero_count(),
            last_finite=jnp.array(True),
            total_notfinite=zero_count(),
            inner_state=inner.init(params),
        )

    def update(
        updates: Updates,
        state: ApplyIfFiniteState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, ApplyIfFiniteState]:
        finite = tree.all_finite(updates)
        notfinite_count = jnp.where(
            finite, zero_count(), safe_increment(state.notfinite_count)
        ).astype(COUNT_DTYPE)
        accept = finite | (notfinite_count > max_consecutive_errors)

        new, inner_state = _guarded_update(
            accept, inner, updates, state.inner_state, params, extra_args
        )
        total = jnp.where(
            finite, state.total_notfinite, safe_increment(state.total_notfinite)
        ).astype(COUNT_DTYPE)
        return new, ApplyIfFiniteState(notfinite_count, finite, total, inner_state)

    return GradientTransformation(init, update)


class NormGuardState(NamedTuple):
    """State of :func:`apply_if_norm_below`."""

    last_norm: jax.Array  # float32[], global norm of the last step's updates
    total_skipped: jax.Array  # int32[], steps skipped in all
    inner_state: Any  # the inner transformation's state


def apply_if_norm_below(
    inner: GradientTransformation, max_norm: Any
) -> GradientTransformation:
    r"""Skips a step whose incoming updates have a global norm of ``max_norm`` or more.

    A guard against loss spikes: a gradient with :math:`\lVert g \rVert \ge c`
    (or a NaN norm) is dropped, as optax's ``skip_large_updates`` does inside
    ``MultiSteps``: the step emits zero updates and keeps ``inner``'s state;
    ``total_skipped`` counts such steps and ``last_norm`` holds the norm
    seen, for logging. Unlike :func:`~gradtx.clip_by_global_norm`, which
    shrinks a large gradient, this discards it.

    Args:
      inner: the transformation to guard.
      max_norm: :math:`c > 0`.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`NormGuardState`.

    Raises:
      TypeError: ``inner`` is not a transformation.
      ValueError: ``max_norm`` is not positive.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.apply_if_norm_below(gradtx.sgd(1.0), max_norm=10.0)
      >>> state = tx.init(jnp.zeros(2))
      >>> updates, state = tx.update(jnp.array([30.0, 40.0]), state)
      >>> updates, float(state.last_norm), int(state.total_skipped)
      (Array([0., 0.], dtype=float32), 50.0, 1)
    """
    inner = with_extra_args_support(
        as_transformation(inner, "apply_if_norm_below's inner")
    )
    validate.number("apply_if_norm_below", "max_norm", max_norm, low=0.0, low_open=True)

    def init(params: Params) -> NormGuardState:
        return NormGuardState(
            jnp.zeros([], jnp.float32), zero_count(), inner.init(params)
        )

    def update(
        updates: Updates,
        state: NormGuardState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, NormGuardState]:
        norm = tree.norm(updates).astype(jnp.float32)
        accept = norm < max_norm  # False for a NaN norm too
        new, inner_state = _guarded_update(
            accept, inner, updates, state.inner_state, params, extra_args
        )
        skipped = jnp.where(
            accept, state.total_skipped, safe_increment(state.total_skipped)
        ).astype(COUNT_DTYPE)
        return new, NormGuardState(norm, skipped, inner_state)

    return GradientTransformation(init, update)


def _run_or_zeros(
    accept: jax.Array, run: Callable[[], tuple[Updates, Any]], fallback: Any
) -> tuple[Updates, Any]:
    """``run()`` where ``accept``; else zero updates shaped like run's, and
    ``fallback`` as the state. One ``lax.cond``: ``run`` is not computed when
    it is not taken."""
    shapes = jax.eval_shape(run)[0]

    def skip() -> tuple[Updates, Any]:
        return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes), fallback

    return jax.lax.cond(accept, run, skip)


def _guarded_update(
    accept: jax.Array,
    inner: GradientTransformation,
    updates: Updates,
    inner_state: Any,
    params: Params | None,
    extra_args: dict[str, Any],
) -> tuple[Updates, Any]:
    """``inner``'s update where ``accept``, else zeros and the old state."""
    return _run_or_zeros(
        accept,
        lambda: inner.update(updates, inner_state, params, **extra_args),
        inner_state,
    )
