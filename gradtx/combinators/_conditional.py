"""Run a transformation only at some steps: ``conditionally_transform``,
``conditionally_mask``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import safe_increment, zero_count
from gradtx.combinators._guards import _run_or_zeros
from gradtx.core import (
    GradientTransformation,
    GradientTransformationExtraArgs,
    OptState,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)

__all__ = [
    "ConditionFn",
    "ConditionallyMaskState",
    "ConditionallyTransformState",
    "conditionally_mask",
    "conditionally_transform",
]


_NOT_CALLABLE = (
    "should_transform_fn must be a function of the step count, e.g. "
    "lambda step: step % 2 == 0; got {!r}."
)


class ConditionFn(Protocol):
    """``should_transform_fn(step, **extra_args) -> bool[]``: whether to run."""

    def __call__(self, step: jax.Array, **extra_args: Any) -> Any: ...


class ConditionallyTransformState(NamedTuple):
    """State of :func:`conditionally_transform` (optax's field names)."""

    inner_state: Any  # the inner transformation's state
    step: jax.Array  # int32[], calls to update so far (saturating)


class ConditionallyMaskState(NamedTuple):
    """State of :func:`conditionally_mask` (optax's field names)."""

    step: jax.Array  # int32[], calls to update so far (saturating)
    inner_state: Any  # the inner transformation's state


def _condition(
    fn: str, should_transform_fn: Any, step: jax.Array, kwargs: dict[str, Any]
) -> jax.Array:
    flag = jnp.asarray(should_transform_fn(step, **kwargs))
    if flag.shape != ():
        raise validate.error(
            ValueError,
            fn,
            "should_transform_fn must return a scalar bool, got an array of "
            f"shape {flag.shape}.",
        )
    return flag.astype(bool)


def conditionally_transform(
    inner: GradientTransformation,
    should_transform_fn: Callable[..., Any],
    forward_extra_args: bool = False,
) -> GradientTransformationExtraArgs:
    r"""Runs ``inner`` at the steps ``should_transform_fn`` picks; else passes through.

    .. math::
       (u_t, s_t) \leftarrow \begin{cases} \text{inner}(u_t, s_{t-1}) &
       c(t) \\ (u_t, s_{t-1}) & \text{otherwise} \end{cases}

    with :math:`t = 0, 1, \ldots` the number of earlier calls. The choice is
    made on the device (``lax.cond``), so ``c`` may use traced values. To
    emit zeros instead of the updates at the other steps, use
    :func:`conditionally_mask`.

    Args:
      inner: the transformation to run (it must not change the updates'
        shapes or dtypes).
      should_transform_fn: ``c(step, **extra_args) -> bool[]``; ``step`` is an
        int32 scalar.
      forward_extra_args: pass ``update``'s extra keyword arguments to ``c``
        too.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`ConditionallyTransformState`.

    Raises:
      TypeError: ``inner`` is not a transformation, ``should_transform_fn``
        not callable, or ``forward_extra_args`` not a bool.
      ValueError: at trace time, ``should_transform_fn`` returns a non-scalar.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.conditionally_transform(gradtx.scale(10.0), lambda t: t % 2 == 1)
      >>> state = tx.init(jnp.zeros(1))
      >>> u0, state = tx.update(jnp.ones(1), state)
      >>> u1, state = tx.update(jnp.ones(1), state)
      >>> u0, u1
      (Array([1.], dtype=float32), Array([10.], dtype=float32))
    """
    fn = validate.who("conditionally_transform")
    inner = with_extra_args_support(as_transformation(inner, f"{fn}'s inner"))
    if not callable(should_transform_fn):
        raise validate.error(TypeError, fn, _NOT_CALLABLE.format(should_transform_fn))
    validate.boolean(fn, "forward_extra_args", forward_extra_args)

    def init(params: Params) -> ConditionallyTransformState:
        return ConditionallyTransformState(inner.init(params), zero_count())

    def update(
        updates: Updates,
        state: ConditionallyTransformState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, OptState]:
        kwargs = extra_args if forward_extra_args else {}
        flag = _condition(fn, should_transform_fn, state.step, kwargs)
        new, inner_state = jax.lax.cond(
            flag,
            lambda: inner.update(updates, state.inner_state, params, **extra_args),
            lambda: (updates, state.inner_state),
        )
        return new, ConditionallyTransformState(inner_state, safe_increment(state.step))

    return GradientTransformationExtraArgs(init, update)


def conditionally_mask(
    inner: GradientTransformation,
    should_transform_fn: Callable[..., Any],
    forward_extra_args: bool = False,
) -> GradientTransformationExtraArgs:
    r"""Runs ``inner`` at the steps ``should_transform_fn`` picks; else emits zeros.

    .. math::
       (u_t, s_t) \leftarrow \begin{cases} \text{inner}(u_t, s_{t-1}) &
       c(t) \\ (0, s_{t-1}) & \text{otherwise} \end{cases}

    with :math:`t = 0, 1, \ldots` the number of earlier calls; ``inner``'s
    state is kept as it was at the other steps. The zeros have the shapes and
    dtypes of ``inner``'s output. To pass the updates through unchanged
    instead, use :func:`conditionally_transform`.

    Args:
      inner: the transformation to run.
      should_transform_fn: ``c(step, **extra_args) -> bool[]``; ``step`` is an
        int32 scalar.
      forward_extra_args: pass ``update``'s extra keyword arguments to ``c``
        too.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`ConditionallyMaskState`.

    Raises:
      TypeError: ``inner`` is not a transformation, ``should_transform_fn``
        not callable, or ``forward_extra_args`` not a bool.
      ValueError: at trace time, ``should_transform_fn`` returns a non-scalar.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.conditionally_mask(gradtx.scale(10.0), lambda t: t >= 1)
      >>> state = tx.init(jnp.zeros(1))
      >>> u0, state = tx.update(jnp.ones(1), state)
      >>> u1, state = tx.update(jnp.ones(1), state)
      >>> u0, u1
      (Array([0.], dtype=float32), Array([10.], dtype=float32))
    """
    fn = validate.who("conditionally_mask")
    inner = with_extra_args_support(as_transformation(inner, f"{fn}'s inner"))
    if not callable(should_transform_fn):
        raise validate.error(TypeError, fn, _NOT_CALLABLE.format(should_transform_fn))
    validate.boolean(fn, "forward_extra_args", forward_extra_args)

    def init(params: Params) -> ConditionallyMaskState:
        return ConditionallyMaskState(zero_count(), inner.init(params))

    def update(
        updates: Updates,
        state: ConditionallyMaskState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, OptState]:
        kwargs = extra_args if forward_extra_args else {}
        flag = _condition(fn, should_transform_fn, state.step, kwargs)
        new, inner_state = _run_or_zeros(
            flag,
            lambda: inner.update(updates, state.inner_state, params, **extra_args),
            state.inner_state,
        )
        return new, ConditionallyMaskState(safe_increment(state.step), inner_state)

    return GradientTransformationExtraArgs(init, update)
