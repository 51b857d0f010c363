"""Step sizes computed from the run itself: Polyak's (``scale_by_polyak``,
from the loss value) and distance over gradients (DoG,
``scale_by_distance_over_gradients``, parameter-free).

The Polyak rule is written once, on :func:`gradtx.polyak_sgd`; DoG, a
building block only, carries its own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import abs_sq, real_dtype, up
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    GradientTransformationExtraArgs,
    Params,
    Updates,
    init_empty_state,
)
from gradtx.tree import norm as tree_norm

__all__ = [
    "ScaleByDistanceOverGradientsState",
    "scale_by_distance_over_gradients",
    "scale_by_polyak",
]

_VARIANTS = ("sps", "sps+")
_NEEDS_VALUE = (
    "update needs value=, the loss at params (a scalar), to compute Polyak's "
    "step: value, grads = jax.value_and_grad(loss)(params); "
    "tx.update(grads, state, params, value=value)."
)


def _scaled_leaf(u: jax.Array, step: jax.Array) -> jax.Array:
    return (up(u) * step.astype(real_dtype(up(u).dtype))).astype(u.dtype)


def scale_by_polyak(
    f_min: Any = 0.0,
    max_learning_rate: Any = 1.0,
    eps: Any = 0.0,
    variant: str = "sps",
) -> GradientTransformationExtraArgs:
    r"""Multiplies the updates by Polyak's step size (needs the loss ``value``).

    .. math::
       u \leftarrow \min\!\left\{\frac{f(\theta) - f^\star}{\lVert u\rVert^2 +
       \epsilon},\ \gamma_{\max}\right\} u

    with :math:`\lVert u\rVert` the global norm and :math:`f(\theta)` the
    ``value`` passed to ``update``; ``"sps+"`` takes :math:`(f(\theta) -
    f^\star)_+`. The step is 0 where :math:`\lVert u\rVert^2 + \epsilon = 0`
    (optax: where it is at most float64's machine epsilon). See
    :func:`gradtx.polyak_sgd`.

    Args:
      f_min: :math:`f^\star`, a lower bound on the loss (a finite number).
      max_learning_rate: :math:`\gamma_{\max} > 0`, the largest step size.
      eps: :math:`\epsilon \ge 0`, added to the denominator.
      variant: ``"sps"`` or ``"sps+"``.

    Returns:
      A stateless :class:`~gradtx.GradientTransformationExtraArgs` whose
      ``update`` takes the keyword argument ``value``.

    Raises:
      ValueError: a hyperparameter is out of range or ``variant`` unknown; at
        update time, a ``value`` that is not a scalar.
      TypeError: at update time, no ``value`` (a missing argument, as in
        optax, whose ``update`` requires it).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_polyak(max_learning_rate=10.0)
      >>> u, _ = tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)), value=8.0)
      >>> u  # 8 / 2^2 = 2 times the update
      Array([4.], dtype=float32)
    """
    fn = validate.who("scale_by_polyak")
    validate.number(fn, "f_min", f_min)
    validate.number(fn, "max_learning_rate", max_learning_rate, low=0.0, low_open=True)
    validate.number(fn, "eps", eps, low=0.0)
    validate.choice(fn, "variant", variant, _VARIANTS)

    def update(
        updates: Updates,
        state: EmptyState,
        params: Params | None = None,
        *,
        value: Any = None,
        **_: Any,
    ) -> tuple[Updates, EmptyState]:
        if value is None:  # a missing argument, checked first, as optax's
            raise validate.error(TypeError, fn, _NEEDS_VALUE)
        validate.updates(fn, updates, params)
        if jnp.shape(value) != ():
            raise validate.error(
                ValueError,
                fn,
                f"value must be the loss, a scalar; got shape {jnp.shape(value)}. "
                "Reduce it first (e.g. jnp.mean over the batch).",
            )
        sq = tree_norm(updates, squared=True)
        gap = jnp.asarray(value).astype(sq.dtype) - jnp.asarray(f_min, sq.dtype)
        if variant == "sps+":
            gap = jnp.maximum(gap, 0)
        denominator = sq + eps
        zero = denominator == 0
        step = jnp.minimum(
            gap / jnp.where(zero, 1, denominator),
            jnp.asarray(max_learning_rate, sq.dtype),
        )
        step = jnp.where(zero, jnp.zeros_like(step), step)
        return numerics.leafwise(_scaled_leaf, updates, scalars=(step,)), state

    return GradientTransformationExtraArgs(init_empty_state, update)


class ScaleByDistanceOverGradientsState(NamedTuple):
    """State of :func:`scale_by_distance_over_gradients`."""

    max_dist: Any  # one scalar per leaf (float32+, real): max_i ||x_i - x_0||
    grad_sum_of_squares: Any  # one scalar per leaf (float32+, real): sum ||g||^2
    init_params: Any  # like params (the wider of param_dtype and each param's)


def scale_by_distance_over_gradients(
    reps_rel: Any = 1e-6,
    eps: Any = 1e-8,
    param_dtype: Any = jnp.float32,
    global_scale: Any = 1.0,
) -> GradientTransformation:
    r"""DoG: a parameter-free step size, distance over gradients (layer-wise).

    For each leaf (layer) :math:`l`, with :math:`x_0` its initial params:

    .. math::
       \bar r_t = \max\!\left(r_\epsilon,\ \max_{i \le t} \lVert x_i -
       x_0\rVert\right), \qquad
       G_t = \sum_{i \le t} \lVert g_i\rVert^2, \qquad
       u_t \leftarrow s\, \frac{\bar r_t}{\sqrt{G_t + \epsilon}}\, g_t

    with :math:`r_\epsilon = \rho\,(1 + \lVert x_0\rVert)` (Ivgi, Hinder &
    Carmon 2023, eq. 2 and Section 3; a norm per leaf is their "layer-wise
    DoG", LDoG). The step is the update's direction: follow it with
    ``scale_by_learning_rate(1.0)`` to descend (or ``global_scale=-1``), as in
    ``chain(scale_by_distance_over_gradients(), scale_by_learning_rate(1.0))``.
    The authors recommend averaging the iterates.

    Args:
      reps_rel: :math:`\rho > 0`, the initial distance relative to
        :math:`1 + \lVert x_0\rVert` (1e-6; 1e-4 for networks with batch norm).
      eps: :math:`\epsilon > 0` (a leaf whose gradients have all been 0
        would divide by 0).
      param_dtype: the least dtype :math:`x_0` is stored in: each leaf keeps
        the wider of it and its param's dtype, complex for complex params
        (optax casts to ``param_dtype``, dropping float64 precision and the
        imaginary parts).
      global_scale: :math:`s`, a finite number (usually 1 or -1).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByDistanceOverGradientsState` (needs ``params``).

    Raises:
      ValueError: a hyperparameter is out of range; at update time, no params.
      TypeError: ``param_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_distance_over_gradients(reps_rel=0.5, eps=1e-12)
      >>> params = jnp.array([0.0, 0.0])  # r_eps = 0.5 * (1 + 0)
      >>> u, _ = tx.update(jnp.array([3.0, 4.0]), tx.init(params), params)
      >>> u  # 0.5 / 5 * g
      Array([0.3, 0.4], dtype=float32)

    References:
      Ivgi, Hinder & Carmon, *DoG is SGD's Best Friend: A Parameter-Free
      Dynamic Step Size Schedule*, ICML 2023, https://arxiv.org/abs/2302.12022
    """
    fn = validate.who("scale_by_distance_over_gradients")
    validate.number(fn, "reps_rel", reps_rel, low=0.0, low_open=True)
    validate.number(fn, "eps", eps, low=0.0, low_open=True)
    validate.dtype(fn, "param_dtype", param_dtype, kind="float")
    validate.number(fn, "global_scale", global_scale)

    def stored_dtype(p: Any) -> Any:
        return jnp.promote_types(param_dtype, jnp.result_type(p))

    def scalar_dtype(p: Any) -> Any:
        return real_dtype(numerics.compute_dtype(jnp.result_type(p)))

    def init(params: Params) -> ScaleByDistanceOverGradientsState:
        validate.params(fn, params)

        def r_eps(p: Any) -> jax.Array:
            norm = jnp.sqrt(jnp.sum(abs_sq(up(jnp.asarray(p)))))
            return (reps_rel * (1 + norm)).astype(scalar_dtype(p))

        return ScaleByDistanceOverGradientsState(
            max_dist=jax.tree.map(r_eps, params),
            grad_sum_of_squares=jax.tree.map(
                lambda p: jnp.zeros((), scalar_dtype(p)), params
            ),
            # A copy: a state that shares the params' buffers cannot be
            # donated with them (make_step).
            init_params=jax.tree.map(
                lambda p: jnp.array(p, stored_dtype(p), copy=True), params
            ),
        )

    def leaf(
        g: jax.Array, x: jax.Array, x0: jax.Array, d_old: jax.Array, s_old: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        wide = jnp.promote_types(up(x).dtype, x0.dtype)
        diff = x.astype(wide) - x0.astype(wide)
        d = jnp.maximum(up(d_old), jnp.sqrt(jnp.sum(abs_sq(diff))))
        s = up(s_old) + jnp.sum(abs_sq(up(g)))
        eta = global_scale * d / jnp.sqrt(s + eps)
        out = up(g) * eta.astype(real_dtype(up(g).dtype))
        return out.astype(g.dtype), d.astype(d_old.dtype), s.astype(s_old.dtype)

    def update(
        updates: Updates,
        state: ScaleByDistanceOverGradientsState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByDistanceOverGradientsState]:
        validate.updates(
            fn,
            updates,
            params,
            state.init_params,
            name=f"{fn} state.init_params",
            dtypes="kind",
            needs_params=(
                f"{fn} measures how far the params moved from their initial "
                "values; pass them to update: tx.update(grads, state, params)."
            ),
        )
        out, max_dist, sos = numerics.leafwise(
            leaf,
            updates,
            params,
            state.init_params,
            state.max_dist,
            state.grad_sum_of_squares,
            outputs=3,
        )
        return out, ScaleByDistanceOverGradientsState(
            max_dist=max_dist, grad_sum_of_squares=sos, init_params=state.init_params
        )

    return GradientTransformation(init, update)
