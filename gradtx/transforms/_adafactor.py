"""Adafactor's building block: scaling by a factored second moment.

A matrix's running mean of squared gradients is kept as its row and column
means (:math:`n + m` numbers instead of :math:`nm`), and rebuilt as their
outer product divided by the overall mean. The update rule is written once,
on :func:`gradtx.adafactor`; its other stages are :func:`gradtx.clip_by_block_rms`
and :func:`gradtx.scale_by_param_block_rms`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import abs_sq, real_dtype, safe_increment, up, zero_count
from gradtx.core import GradientTransformation, Params, Updates

__all__ = ["FactoredState", "scale_by_factored_rms"]


def _decay_rate_pow(i: Any, exponent: Any = 0.8) -> jax.Array:
    r"""Shazeer & Stern's :math:`\hat\beta_{2,t} = 1 - t^{-c}` at 0-based step ``i``."""
    t = jnp.asarray(i + 1, jnp.result_type(float))
    return 1.0 - t ** (-exponent)


def _factored_dims(
    shape: tuple[int, ...], factored: bool, min_dim_size_to_factor: int
) -> tuple[int, int] | None:
    """``(d1, d0)``: the second largest and the largest dim, or None (not factored).

    optax's rule: only leaves of rank 2 or more whose second largest dim is at
    least ``min_dim_size_to_factor`` are factored.
    """
    if not factored or len(shape) < 2:
        return None
    order = np.argsort(shape)  # optax's call, so that ties fall the same way
    if shape[order[-2]] < min_dim_size_to_factor:
        return None
    return int(order[-2]), int(order[-1])


class FactoredState(NamedTuple):
    """State of :func:`scale_by_factored_rms` (optax's layout).

    For a factored leaf, ``v_row`` and ``v_col`` hold its running means of
    squared gradients over its largest and its second largest dim, and ``v``
    a placeholder; for any other leaf, ``v`` holds the full running mean and
    ``v_row``, ``v_col`` placeholders. A placeholder is a ``float[1]`` zero.
    """

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    v_row: Any  # per leaf: the param's shape less its largest dim, or [1]
    v_col: Any  # per leaf: the param's shape less its 2nd largest dim, or [1]
    v: Any  # per leaf: the param's shape (unfactored), or [1]


def scale_by_factored_rms(
    factored: bool = True,
    decay_rate: Any = 0.8,
    step_offset: Any = 0,
    min_dim_size_to_factor: int = 128,
    epsilon: Any = 1e-30,
    decay_rate_fn: Callable[[Any, Any], Any] = _decay_rate_pow,
    *,
    eps_clamp: bool = False,
) -> GradientTransformation:
    r"""Divides updates by the root of a factored running mean of their squares.

    Produces :math:`u_t / \sqrt{\hat V_t}` with, for a factored matrix,
    :math:`\hat V_t = R_t C_t^\top / \mathrm{mean}(R_t)` from the running row
    and column means :math:`R_t, C_t` of :math:`|g_t|^2 + \epsilon_1`, decayed
    by :math:`\hat\beta_{2,t} = 1 - t^{-c}` (Shazeer & Stern 2018, Algorithms
    4 and 5); see :func:`gradtx.adafactor` for the full rule.

    Args:
      factored: factor the second moment of leaves of rank 2 or more.
      decay_rate: :math:`c \ge 0` of :math:`\hat\beta_{2,t} = 1 - t^{-c}`.
      step_offset: :math:`\ge 0`, subtracted from the step count (for
        fine-tuning: the decay schedule starts again).
      min_dim_size_to_factor: an int :math:`\ge 0`; a leaf is factored over its
        two largest dims when the smaller of them is at least this.
      epsilon: :math:`\epsilon_1 > 0` added to :math:`|g|^2` (the paper's
        1e-30); with ``eps_clamp``, the clamp instead, and ``None`` for each
        leaf's machine epsilon (PyTorch's default).
      decay_rate_fn: ``(step, decay_rate) -> β̂`` for the 0-based step (less
        ``step_offset``): the paper's power schedule by default.
      eps_clamp: PyTorch's ε handling: accumulate :math:`|g|^2` without
        :math:`\epsilon_1` and clamp instead, :math:`\hat V_t = \max(R_t
        C_t^\top / \max(\mathrm{mean}(R_t), \epsilon_1), \epsilon_1^2)`.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`FactoredState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``decay_rate_fn`` is not callable.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_factored_rms(min_dim_size_to_factor=1)
      >>> g = jnp.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1: exactly factored
      >>> state = tx.init(jnp.zeros((2, 2)))
      >>> state.v_row.shape, state.v_col.shape
      ((2,), (2,))
      >>> tx.update(g, state)[0]  # the first step is sign(g)
      Array([[1., 1.],
             [1., 1.]], dtype=float32)
    """
    fn = validate.who("scale_by_factored_rms")
    validate.boolean(fn, "factored", factored)
    validate.boolean(fn, "eps_clamp", eps_clamp)
    validate.number(fn, "decay_rate", decay_rate, low=0.0)
    validate.number(fn, "step_offset", step_offset, low=0.0)
    validate.plain_number(
        fn, "min_dim_size_to_factor", min_dim_size_to_factor, low=0, integer=True
    )
    if epsilon is None and not eps_clamp:
        raise validate.error(
            ValueError,
            fn,
            "epsilon=None (each leaf's machine epsilon, PyTorch's default) is for "
            "PyTorch's clamped form: pass eps_clamp=True, or a number such as 1e-30.",
        )
    if epsilon is not None:
        validate.number(fn, "epsilon", epsilon, low=0.0, low_open=True)
    if not callable(decay_rate_fn):
        raise validate.error(
            TypeError,
            fn,
            f"decay_rate_fn must be a function (step, decay_rate) -> decay, got "
            f"{decay_rate_fn!r}.",
        )

    def shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        """The shapes of a leaf's ``v_row``, ``v_col`` and ``v``."""
        d = _factored_dims(shape, factored, min_dim_size_to_factor)
        if d is None:
            return [(1,), (1,), shape]
        return [_without(shape, d[1]), _without(shape, d[0]), (1,)]

    def init_leaf(p: Any) -> list[jax.Array]:
        dtype = real_dtype(jnp.result_type(p))
        return [jnp.zeros(s, dtype) for s in shapes(jnp.shape(p))]

    def init(params: Params) -> FactoredState:
        validate.params(fn, params)
        leaves, treedef = jax.tree.flatten(params)
        parts = [init_leaf(p) for p in leaves]
        v_row, v_col, v = (
            jax.tree.unflatten(treedef, [x[i] for x in parts]) for i in range(3)
        )
        return FactoredState(count=zero_count(), v_row=v_row, v_col=v_col, v=v)

    def leaf(
        g: jax.Array, v_row: jax.Array, v_col: jax.Array, v: jax.Array, beta: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        eps = float(jnp.finfo(g.dtype).eps) if epsilon is None else epsilon
        x = up(g)
        beta = beta.astype(real_dtype(x.dtype))
        d = _factored_dims(g.shape, factored, min_dim_size_to_factor)
        if d is None:
            sq = abs_sq(x) if eps_clamp else abs_sq(x) + eps
            new_v = beta * up(v) + (1.0 - beta) * sq
            if eps_clamp:
                out = x * jax.lax.rsqrt(jnp.maximum(new_v, eps * eps))
            else:  # optax's order of operations
                out = x * new_v**-0.5
            return out.astype(g.dtype), v_row, v_col, new_v.astype(v.dtype)
        d1, d0 = d
        # mean(|g|^2 + eps) as mean(|g|^2) + eps, and the second mean's squares
        # written another way: XLA:CPU then fuses each mean with its own
        # squaring, with no parameter-sized buffer of squares (or of eps).
        add = 0.0 if eps_clamp else eps
        row_mean = jnp.mean(abs_sq(x), axis=d0) + add
        col_mean = jnp.mean(_abs_sq_again(x), axis=d1) + add
        new_row = beta * up(v_row) + (1.0 - beta) * row_mean
        new_col = beta * up(v_col) + (1.0 - beta) * col_mean
        # The mean of the row means is the overall mean (of either factor).
        overall = jnp.mean(new_row, axis=d1 - 1 if d1 > d0 else d1, keepdims=True)
        if eps_clamp:  # torch: max(R C^T / max(mean R, eps), eps^2)
            v_hat = (
                jnp.expand_dims(new_row, d0)
                * jnp.expand_dims(new_col, d1)
                / jnp.expand_dims(jnp.maximum(overall, eps), d0)
            )
            out = x * jax.lax.rsqrt(jnp.maximum(v_hat, eps * eps))
        else:  # optax's order of operations
            row_factor = (new_row / overall) ** -0.5
            col_factor = new_col**-0.5
            out = x * jnp.expand_dims(row_factor, d0) * jnp.expand_dims(col_factor, d1)
        return (
            out.astype(g.dtype),
            new_row.astype(v_row.dtype),
            new_col.astype(v_col.dtype),
            v,
        )

    def update(
        updates: Updates, state: FactoredState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, FactoredState]:
        validate.updates(fn, updates, params)
        # The state must be the one init builds for params shaped like the
        # updates (checked at trace time, like the other trees).
        built = jax.eval_shape(init, updates)
        validate.tree_matches(
            fn,
            {"v_row": state.v_row, "v_col": state.v_col, "v": state.v},
            {"v_row": built.v_row, "v_col": built.v_col, "v": built.v},
            got_name="state",
            expected_name="the state init builds for the updates' shapes",
            dtypes="ignore",
            hint="If the model changed, call init() again.",
        )
        beta = jnp.asarray(
            decay_rate_fn(state.count - step_offset, decay_rate), jnp.result_type(float)
        )
        out, v_row, v_col, v = numerics.leafwise(
            leaf, updates, state.v_row, state.v_col, state.v, scalars=(beta,), outputs=4
        )
        return out, FactoredState(
            count=safe_increment(state.count), v_row=v_row, v_col=v_col, v=v
        )

    return GradientTransformation(init, update)


def _abs_sq_again(x: jax.Array) -> jax.Array:
    """``abs_sq(x)``, bit for bit, computed by other operations."""
    if jnp.iscomplexobj(x):
        return jnp.real(x * jnp.conj(x))
    return jnp.abs(x) * jnp.abs(x)


def _without(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if i != axis)
