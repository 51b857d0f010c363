"""``master_weights``: low-precision params, optimized through a float32 copy."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx._internal.numerics import leafwise
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)
from gradtx.errors import TreeMismatchError

__all__ = ["MasterWeightsState", "master_weights"]


class MasterWeightsState(NamedTuple):
    """State of :func:`master_weights`."""

    master: Any  # like params; dtype: the wider of the param's and master_dtype
    inner_state: Any  # the inner transformation's state, built on ``master``


_NEEDS_PARAMS = (
    "master_weights returns the difference between the new master copy and the "
    "params, so it needs the params: tx.update(grads, state, params)."
)
_STATE_HINT = (
    "state.master is a copy of the params given to init(); if the model changed, "
    "call init() again."
)


def _master_dtype(param_dtype: Any, master_dtype: Any) -> Any:
    """The dtype a param is kept in: ``master_dtype``, never narrower than its own.

    ``promote_types`` also keeps complex params complex (complex64 with float32).
    """
    return jnp.promote_types(param_dtype, master_dtype)


def _check_master(fn: str, params: Params, master: Any, master_dtype: Any) -> None:
    """Trace-time check that ``master`` is a master copy of ``params``."""
    validate.tree_matches(
        fn,
        params,
        master,
        got_name="params",
        expected_name="master_weights state.master",
        dtypes="ignore",
        hint=_STATE_HINT,
    )
    paths_and_params = jax.tree_util.tree_flatten_with_path(params)[0]
    for (path, p), m in zip(paths_and_params, jax.tree.leaves(master), strict=True):
        want = _master_dtype(jnp.result_type(p), master_dtype)
        if jnp.result_type(m) != want:
            where = jax.tree_util.keystr(path)
            raise validate.error(
                TreeMismatchError,
                fn,
                f"master_weights state.master{where}: expected {want.name} (the "
                f"master dtype of params{where}, {validate.spec(p)}), got "
                f"{validate.spec(m)}. {_STATE_HINT}",
            )


def _step(p: jax.Array, m: jax.Array, u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The update of one leaf, and its new master copy."""
    new = jnp.asarray(m + u).astype(m.dtype)
    if m.dtype == p.dtype:
        # Already wide: the master is the param (same values, same dtype), and
        # apply_updates computes exactly this sum, so ``u`` keeps them equal.
        return u, new
    # Round the new master to the param's dtype, and return the difference in
    # the master dtype: both terms are exact there, so apply_updates'
    # ``p + out`` (computed in the master dtype, then cast) lands on it.
    return _round_to(new, p.dtype) - p.astype(new.dtype), new


def _round_to(x: jax.Array, dtype: Any) -> jax.Array:
    """``x`` rounded to ``dtype`` and back, in a form XLA keeps.

    XLA's GPU compiler removes a convert pair such as float32 -> bfloat16 ->
    float32 (``SimplifyFPConversions``, on with the default
    ``xla_allow_excess_precision``), which would skip the rounding here. When
    the exponents agree (bfloat16 from float32), ``reduce_precision`` is the
    same rounding, subnormals included, and fuses; otherwise (float16 has
    fewer exponent bits, and ``reduce_precision`` flushes its subnormals) an
    optimization barrier keeps the pair apart.
    """
    wide, narrow = jnp.finfo(x.dtype), jnp.finfo(dtype)
    if wide.nexp == narrow.nexp:
        return jax.lax.reduce_precision(x, narrow.nexp, narrow.nmant)
    return jax.lax.optimization_barrier(x.astype(dtype)).astype(x.dtype)


def master_weights(
    inner: GradientTransformation, master_dtype: Any = jnp.float32
) -> GradientTransformation:
    r"""Optimizes low-precision params through a float32 master copy.

    The mixed-precision recipe of Micikevicius et al. 2018: the model runs
    (forward and backward) with its bfloat16 or float16 params
    :math:`\theta`, while the optimizer updates a float32 copy :math:`w`
    held in the state, and the params are the copy rounded each step:

    .. math::
       (u_t, s_t) = \mathrm{inner}(\mathrm{f32}(g_t), s_{t-1}, w_{t-1}), \quad
       w_t = w_{t-1} + u_t, \quad
       \theta_t = \mathrm{round}(w_t)

    Why it matters: a bfloat16 number has 8 significant bits, so a step
    smaller than half the spacing between bfloat16 numbers around
    :math:`\theta` (:math:`2^{-9}|\theta|`) rounds away. With small learning
    rates, late in training, or for a slow EMA, plain bfloat16 params stop
    moving while the loss is still falling in float32. In the float32 copy
    the small steps add up, and :math:`\theta` moves once they cross a
    rounding boundary.

    ``update`` returns :math:`\mathrm{f32}(\theta_t) - \mathrm{f32}(\theta_{t-1})`
    in the master dtype, so ``gradtx.apply_updates(params, updates)`` (or
    optax's), which adds in float32 and rounds once, lands **exactly** on
    :math:`\mathrm{round}(w_t)`. (Updates cast to bfloat16 could not: when a
    weight crosses zero, the difference needs more bits than bfloat16 has.)
    The one exception: an element that shrinks by a factor above :math:`2^{16}`
    in one step (:math:`2^{13}` for float16) may land off by at most
    :math:`2^{-24}|\theta_{t-1}|`; the next step puts it back, since the
    master copy, not the params, carries the optimization. For the same
    reason, call ``init`` again after changing the params outside the
    optimizer (loading a checkpoint of the params alone, say): the next step
    starts from the master copy.

    Leaves already at least as wide as ``master_dtype`` (float32, float64,
    complex64) keep a copy too, and get ``inner``'s update unchanged (adding
    it to the param and to the copy gives the same number). Wrap only the
    low-precision part (:func:`gradtx.partition`) if their memory matters.

    Notes:
      - Place it outermost, around the whole optimizer: the updates of
        low-precision leaves come out in float32, wider than the params.
      - The inner state is built on the float32 copy, so ``adam``'s moments
        are float32 too (unless ``mu_dtype`` / ``nu_dtype`` say otherwise).
      - float16 gradients also need loss scaling (the paper's other half),
        which this does not do; bfloat16 has float32's range and does not.

    Args:
      inner: the optimizer to run on the master copy.
      master_dtype: the dtype of the copy, a real floating dtype (default
        float32); a leaf wider than it keeps its own dtype.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`MasterWeightsState` (needs ``params`` at update).

    Raises:
      TypeError: ``inner`` is not a transformation, or ``master_dtype`` is not
        a real floating dtype; at init, a params leaf is not floating point.
      ValueError: at update time, no params.
      TreeMismatchError: at update time, the params or gradients do not
        match the master copy (the message names the leaf path).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> from gradtx.combinators import master_weights
      >>> tx = master_weights(gradtx.sgd(1e-3))
      >>> params = jnp.ones(2, jnp.bfloat16)
      >>> state = tx.init(params)
      >>> updates, state = tx.update(jnp.ones(2, jnp.bfloat16), state, params)
      >>> gradtx.apply_updates(params, updates)  # 1 - 0.001 rounds to 1 ...
      Array([1, 1], dtype=bfloat16)
      >>> state.master  # ... but the copy moved; the params follow it below 0.998
      Array([0.999, 0.999], dtype=float32)

    References:
      Micikevicius et al., *Mixed Precision Training*, ICLR 2018,
      https://arxiv.org/abs/1710.03740
    """
    fn = validate.who("master_weights")
    inner = with_extra_args_support(
        as_transformation(inner, "master_weights's inner transformation")
    )
    master_dtype = validate.dtype(fn, "master_dtype", master_dtype, kind="real")

    def init(params: Params) -> MasterWeightsState:
        validate.params(fn, params)
        master = jax.tree.map(
            lambda p: jnp.asarray(p, _master_dtype(jnp.result_type(p), master_dtype)),
            params,
        )
        return MasterWeightsState(master=master, inner_state=inner.init(master))

    def update(
        updates: Updates,
        state: MasterWeightsState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, MasterWeightsState]:
        validate.updates(fn, updates, params, needs_params=_NEEDS_PARAMS)
        _check_master(fn, params, state.master, master_dtype)
        grads = tree.cast_like(updates, state.master)
        inner_updates, inner_state = inner.update(
            grads, state.inner_state, state.master, **extra_args
        )
        out, master = leafwise(_step, params, state.master, inner_updates, outputs=2)
        return out, MasterWeightsState(master=master, inner_state=inner_state)

    return GradientTransformation(init, update)
