"""Gradient accumulation: one optimizer step per k mini-batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx._internal.numerics import (
    COUNT_DTYPE,
    compute_dtype,
    leafwise,
    safe_increment,
    zero_count,
    zeros_like,
)
from gradtx.combinators._guards import _run_or_zeros
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)

__all__ = [
    "MultiSteps",
    "MultiStepsState",
    "ShouldSkipUpdateFunction",
    "accumulate",
    "skip_large_updates",
    "skip_not_finite",
]


class MultiStepsState(NamedTuple):
    """State of :class:`MultiSteps` (optax's field names)."""

    mini_step: jax.Array  # int32[], mini-steps accumulated since the last step
    gradient_step: jax.Array  # int32[], optimizer steps taken
    inner_opt_state: Any  # the inner optimizer's state
    acc_grads: Any  # like params: the running mean (or sum) of the gradients
    skip_state: Any = ()  # what should_skip_update_fn returned last


SkipFn = Callable[[Any, jax.Array, Any], tuple[jax.Array, Any]]


class ShouldSkipUpdateFunction(Protocol):
    """The type of :class:`MultiSteps`' ``should_skip_update_fn`` (optax's).

    Called with the step's updates, the gradient step count and the params;
    returns whether to skip the step (a bool scalar array) and a pytree kept
    in ``MultiStepsState.skip_state`` for inspection, as
    :func:`skip_not_finite` and :func:`skip_large_updates` do.
    """

    def __call__(
        self, updates: Any, gradient_step: jax.Array, params: Any
    ) -> tuple[jax.Array, Any]:
        """Whether to skip, and what to keep in the state."""
        ...


def skip_not_finite(
    updates: Updates, gradient_step: jax.Array, params: Params | None
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """A ``should_skip_update_fn`` for :class:`MultiSteps`: skip NaN/inf gradients.

    optax's function of the same name and signature. The skip state holds
    ``should_skip`` and ``num_not_finite``, the number of non-finite elements.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> skip, info = gradtx.skip_not_finite(jnp.array([1.0, jnp.nan]), 0, None)
      >>> bool(skip), int(info["num_not_finite"])
      (True, 1)
    """
    del gradient_step, params
    count = sum(
        (
            jnp.sum(~jnp.isfinite(x)).astype(COUNT_DTYPE)
            for x in jax.tree.leaves(updates)
        ),
        start=jnp.zeros([], COUNT_DTYPE),
    )
    should_skip = count > 0
    return should_skip, {"should_skip": should_skip, "num_not_finite": count}


def skip_large_updates(
    updates: Updates,
    gradient_step: jax.Array,
    params: Params | None,
    max_squared_norm: float,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """A ``should_skip_update_fn``: skip gradients with ``|g|^2 >= max_squared_norm``.

    optax's function of the same name and signature (bind ``max_squared_norm``
    with ``functools.partial``); a NaN norm is skipped too. The skip state
    holds ``should_skip`` and ``norm_squared``. Outside :class:`MultiSteps`,
    :func:`~gradtx.apply_if_norm_below` does the same for any transformation.

    Example:
      >>> import functools, gradtx, jax.numpy as jnp
      >>> fn = functools.partial(gradtx.skip_large_updates, max_squared_norm=10.0)
      >>> skip, info = fn(jnp.array([3.0, 4.0]), 0, None)
      >>> bool(skip), float(info["norm_squared"])
      (True, 25.0)
    """
    del gradient_step, params
    norm_sq = jnp.square(tree.norm(updates))
    should_skip = ~(norm_sq < max_squared_norm)
    return should_skip, {"should_skip": should_skip, "norm_squared": norm_sq}


def _poison(u: jax.Array, bad: jax.Array) -> jax.Array:
    """``u``, or NaN where ``bad`` (inexact dtypes; others have no NaN)."""
    if not jnp.issubdtype(u.dtype, jnp.inexact):
        return u
    return jnp.where(bad, jnp.asarray(jnp.nan, u.dtype), u)


class MultiSteps:
    r"""Accumulates gradients over ``k`` mini-steps; the optimizer steps once per k.

    Each call to ``update`` adds the gradient to an accumulator and returns
    zero updates, except every ``k``-th call, which runs ``inner`` once on the
    mean of the ``k`` accumulated gradients (Welford's running mean,
    :math:`a_n = a_{n-1} + (g_n - a_{n-1}) / n`, as in optax) and returns its
    updates. Training with a batch of ``k * b`` examples then fits in the
    memory of a batch of ``b``: the state is ``inner``'s plus one accumulator
    the size of the params.

    The inner optimizer runs only on the ``k``-th mini-step (inside a
    ``lax.cond``; optax's ``MultiSteps`` computes it on every mini-step and
    discards it), and its hyperparameter schedules see the optimizer step
    count, not the mini-step count.

    A drop-in for ``optax.MultiSteps``: ``init``, ``update``,
    ``has_updated`` and ``gradient_transformation()``; it also works directly
    wherever a transformation is expected (``chain``, ``make_step``,
    ``flax.nnx.Optimizer``). :func:`accumulate` is the short form.

    Args:
      opt: the optimizer to run on the accumulated gradient.
      every_k_schedule: ``k``, an int >= 1, or a function of the optimizer
        step count (int32) returning ``k``, a scalar whole number >= 1. What
        it returns is checked each step: its shape and dtype at trace time,
        its value when concrete (a ValueError); under ``jit`` a value below 1
        or with a fraction makes that step's updates NaN, so a broken
        schedule shows in the loss instead of stepping on every call.
      use_grad_mean: accumulate the mean (True, the default) or the sum.
      should_skip_update_fn: ``fn(updates, gradient_step, params) ->
        (should_skip, skip_state)``, as in optax (e.g.
        :func:`skip_not_finite`, :func:`skip_large_updates`): when
        ``should_skip`` (a bool scalar) is True, the mini-batch is dropped:
        zero updates, nothing accumulated, only ``skip_state`` changes.
      accumulator_dtype: dtype of the accumulator; default: each param's dtype
        promoted to at least float32, so bfloat16 gradients are summed without
        rounding away small ones (for float32 params: exactly one params-sized
        buffer).

    Raises:
      TypeError: ``inner`` is not a transformation.
      ValueError: ``every_k_schedule`` is neither an int >= 1 nor callable.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.MultiSteps(gradtx.sgd(1.0), every_k_schedule=2)
      >>> state = tx.init(jnp.zeros(1))
      >>> u1, state = tx.update(jnp.array([2.0]), state)
      >>> u2, state = tx.update(jnp.array([4.0]), state)
      >>> u1, u2  # zeros, then -lr * mean(2, 4)
      (Array([0.], dtype=float32), Array([-3.], dtype=float32))
    """

    def __init__(
        self,
        opt: GradientTransformation,
        every_k_schedule: int | Callable[[jax.Array], Any],
        use_grad_mean: bool = True,
        should_skip_update_fn: SkipFn | None = None,
        accumulator_dtype: Any = None,
    ) -> None:
        self._fn = fn = validate.who("MultiSteps")
        self._inner = with_extra_args_support(as_transformation(opt, "MultiSteps' opt"))
        self._skip_fn = should_skip_update_fn
        self._k: Callable[[jax.Array], Any] | None = None
        if callable(every_k_schedule):
            self._k = every_k_schedule
        else:
            validate.integer(
                fn,
                "every_k_schedule",
                every_k_schedule,
                low=1,
                meaning="mini-steps per optimizer step, or a function of the step "
                "count",
            )
            self._k_const = every_k_schedule
        self._mean = bool(use_grad_mean)
        self._acc_dtype = accumulator_dtype

    def _k_at(self, gradient_step: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        """``k`` at this step (int32), and where a traced ``k`` is invalid.

        The schedule's shape and dtype are checked at trace time; its value
        when concrete (outside ``jit``). A traced value below 1 or not a whole
        number cannot raise: the second result marks it, and the updates of
        that step become NaN instead of a silent step on every call.
        """
        if self._k is None:
            return jnp.asarray(self._k_const, COUNT_DTYPE), None
        k = validate.scheduled_value(
            self._fn, "every_k_schedule", self._k, gradient_step, low=1.0
        )
        if validate.is_concrete(k) and float(k) != int(k):
            raise validate.error(
                ValueError,
                self._fn,
                f"every_k_schedule returned {float(k)!r} at step "
                f"{int(gradient_step)}; expected a whole number >= 1 of "
                "mini-steps per optimizer step.",
            )
        bad = None if validate.is_concrete(k) else (k < 1) | (jnp.round(k) != k)
        return k.astype(COUNT_DTYPE), bad

    @property
    def inner_opt(self) -> GradientTransformation:
        """The wrapped optimizer."""
        return self._inner

    def _acc_dtype_of(self, x: Any) -> Any:
        if self._acc_dtype is not None:
            return self._acc_dtype
        return compute_dtype(jnp.result_type(x))

    def init(self, params: Params) -> MultiStepsState:
        """The initial state: ``inner``'s, a zero accumulator and zero counters."""
        validate.params(self._fn, params)
        skip_state: Any = ()
        if self._skip_fn is not None:
            zeros = jax.tree.map(jnp.zeros_like, params)
            skip_state = self._skip_fn(zeros, zero_count(), params)[1]
        return MultiStepsState(
            mini_step=zero_count(),
            gradient_step=zero_count(),
            inner_opt_state=self._inner.init(params),
            acc_grads=jax.tree.map(
                lambda p: zeros_like(p, self._acc_dtype_of(p)), params
            ),
            skip_state=skip_state,
        )

    def update(
        self,
        updates: Updates,
        state: MultiStepsState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, MultiStepsState]:
        """Accumulates ``updates``; every k-th call, steps ``inner`` on the mean."""
        validate.updates(
            self._fn,
            updates,
            params,
            state.acc_grads,
            name="MultiSteps acc_grads",
            dtypes="kind",
        )
        if self._skip_fn is None:
            return self._accumulate(updates, state, params, extra_args)
        skip, skip_state = self._skip_fn(updates, state.gradient_step, params)
        skip = jnp.asarray(skip)
        if (skip.dtype, skip.shape) != (jnp.bool_, ()):
            raise validate.error(
                ValueError,
                self._fn,
                "should_skip_update_fn must return a bool scalar first, got "
                f"{skip.dtype}{list(skip.shape)}.",
            )

        def go() -> tuple[Updates, MultiStepsState]:
            out, new = self._accumulate(updates, state, params, extra_args)
            return out, new._replace(skip_state=skip_state)

        # A skipped mini-batch: zero updates; only skip_state changes.
        return _run_or_zeros(~skip, go, state._replace(skip_state=skip_state))

    def _accumulate(
        self,
        updates: Updates,
        state: MultiStepsState,
        params: Params | None,
        extra_args: dict[str, Any],
    ) -> tuple[Updates, MultiStepsState]:
        k, bad_k = self._k_at(state.gradient_step)
        n = state.mini_step
        count = safe_increment(n) if self._mean else None

        def add(g: jax.Array, acc: jax.Array, count: jax.Array | None) -> jax.Array:
            g = g.astype(acc.dtype)
            if count is None:
                return acc + g
            return acc + (g - acc) / count.astype(acc.dtype)

        emit = n >= k - 1

        # Everything in the two branches of one cond, so that each writes the
        # new accumulator straight into its (donated) buffer: computed before
        # the cond, it would be one more params-sized temporary.
        def step(_: None) -> tuple[Updates, Any, Any]:
            acc = leafwise(add, updates, state.acc_grads, scalars=(count,))
            grads = tree.cast_like(acc, updates)
            out, inner_state = self._inner.update(
                grads, state.inner_opt_state, params, **extra_args
            )
            return out, inner_state, jax.tree.map(jnp.zeros_like, acc)

        shapes = jax.eval_shape(step, None)[0]

        def wait(_: None) -> tuple[Updates, Any, Any]:
            zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
            acc = leafwise(add, updates, state.acc_grads, scalars=(count,))
            return zeros, state.inner_opt_state, acc

        out, inner_state, acc = jax.lax.cond(emit, step, wait, None)
        if bad_k is not None:  # a traced k < 1: NaN updates, not silent steps
            out = jax.tree.map(lambda u: _poison(u, bad_k), out)
        zero = jnp.zeros([], COUNT_DTYPE)
        return out, MultiStepsState(
            mini_step=jnp.where(emit, zero, safe_increment(n)),
            gradient_step=jnp.where(
                emit, safe_increment(state.gradient_step), state.gradient_step
            ),
            inner_opt_state=inner_state,
            acc_grads=acc,
            skip_state=state.skip_state,
        )

    def has_updated(self, state: MultiStepsState) -> jax.Array:
        """Whether the last ``update`` took an optimizer step."""
        return (state.mini_step == 0) & (state.gradient_step > 0)

    def gradient_transformation(self) -> GradientTransformation:
        """This accumulation as a plain :class:`~gradtx.GradientTransformation`."""
        return GradientTransformation(self.init, self.update)


def accumulate(
    inner: GradientTransformation, k: int, *, accumulator_dtype: Any = None
) -> GradientTransformation:
    """Steps ``inner`` once per ``k`` mini-batches, on their mean gradient.

    The short form of :class:`MultiSteps` (``MultiSteps(inner, k,
    accumulator_dtype=...).gradient_transformation()``); see it for the rule.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.accumulate(gradtx.adam(1e-3), k=4)
      >>> state = tx.init({"w": jnp.zeros(3)})
      >>> int(state.mini_step), state.acc_grads["w"].dtype
      (0, dtype('float32'))
    """
    with validate.named("accumulate") as fn:
        validate.integer(fn, "k", k, low=1, meaning="mini-batches per optimizer step")
        return MultiSteps(
            inner, k, accumulator_dtype=accumulator_dtype
        ).gradient_transformation()
