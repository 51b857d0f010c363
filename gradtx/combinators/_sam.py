"""``sam``: Sharpness-Aware Minimization (Foret et al. 2021), optax.contrib's.

SAM takes the gradient at an adversarially perturbed point, ``w + rho g/|g|``,
and applies it at ``w``. As a transformation it alternates two optimizers:
an adversarial one (``chain(normalize(), sgd(rho))``: the perturbation) and
the outer one (the real step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    GradientTransformationExtraArgs,
    Params,
    Updates,
    apply_updates,
    as_transformation,
    init_empty_state,
    map_leaves,
    with_extra_args_support,
)

__all__ = ["SAMState", "normalize", "sam"]


def _divide(g: jax.Array, norm: jax.Array) -> jax.Array:
    return g / norm.astype(g.real.dtype)


def normalize() -> GradientTransformation:
    r"""Divides the updates by their global norm: :math:`u / \|u\|_2`.

    SAM's adversarial direction (optax.contrib's ``normalize``). A zero
    update stays zero (optax's becomes NaN: 0/0). The norm is accumulated in
    float32 or wider.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.normalize()
      >>> tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))[0]
      Array([0.6, 0.8], dtype=float32)
    """

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates("normalize", updates, params)
        norm = tree.norm(updates)
        safe = jnp.where(norm > 0, norm, jnp.ones_like(norm))
        return map_leaves(_divide, updates, scalars=(safe,)), state

    return GradientTransformation(init_empty_state, update)


class SAMState(NamedTuple):
    """State of :func:`sam` (optax.contrib's field names)."""

    steps_since_sync: jax.Array  # int32[], calls since the last outer step
    opt_state: Any  # the outer optimizer's state
    adv_state: Any  # the adversarial optimizer's state
    cache: Any  # like params: the outer params (None with opaque_mode)


GradFn = Callable[[Params, int], Updates]

_NEEDS_PARAMS = (
    "sam perturbs the params and returns to them, so it needs them: "
    "tx.update(grads, state, params)."
)
_NEEDS_GRAD_FN = (
    "opaque_mode=True needs grad_fn, a function (params, i) -> gradients that "
    "sam calls at each perturbed point: tx.update(grads, state, params, "
    "grad_fn=jax.grad(lambda p, i: loss(p, batch))). Or build sam with "
    "opaque_mode=False and call update once per gradient."
)


def _pick(cond: jax.Array, if_true: Any, if_false: Any) -> Any:
    """``if_true`` where ``cond``, else ``if_false``, leaf by leaf (any dtype)."""
    return jax.tree.map(
        lambda t, f: jnp.where(cond, t, f).astype(jnp.result_type(f)),
        if_true,
        if_false,
    )


def _return_and_step(
    opt_u: jax.Array, params: jax.Array, cache: jax.Array
) -> jax.Array:
    """The last call: back to the outer params (the cache), and their step."""
    return cache - params + opt_u


def _like(values: Any, like: Any) -> Any:
    """``values`` in the dtypes of ``like`` (both branches of a cond agree)."""
    return jax.tree.map(lambda x, y: x.astype(jnp.result_type(y)), values, like)


def sam(
    optimizer: GradientTransformation,
    adv_optimizer: GradientTransformation,
    sync_period: int = 2,
    reset_state: bool = True,
    opaque_mode: bool = False,
    batch_axis_name: str | None = None,
) -> GradientTransformationExtraArgs:
    r"""Sharpness-Aware Minimization: step with the gradient of a nearby worse point.

    Foret et al. 2021 minimize :math:`\max_{\|\epsilon\| \le \rho}
    L(w + \epsilon)` with the first-order solution
    :math:`\hat\epsilon = \rho\, g / \|g\|_2` (their eq. 2, :math:`p = 2`):

    .. math::
       g_t = \nabla L(w_t), \qquad
       \tilde g_t = \nabla L\left(w_t + \rho \frac{g_t}{\|g_t\|_2}\right),
       \qquad w_{t+1} = w_t + \mathrm{optimizer}(\tilde g_t)

    Here the perturbation is ``adv_optimizer``'s step, negated (an ascent):
    ``chain(gradtx.normalize(), gradtx.sgd(rho))`` is the paper's;
    ``sync_period - 1`` adversarial steps precede each outer step (2: the
    paper's one).

    **Transparent mode** (the default) spreads one SAM step over
    ``sync_period`` calls of ``update``, each with the gradient at the params
    it is given: the first calls return the adversarial steps (the params
    move to the perturbed point), the last returns the step from the saved
    outer params (kept in ``state.cache``) with the outer optimizer's update
    of the last gradient. The training loop is the usual one; every
    ``sync_period``-th call ends at the real params::

        tx = gradtx.sam(gradtx.sgd(0.1), gradtx.chain(gradtx.normalize(),
                        gradtx.sgd(0.05)), sync_period=2)
        state = tx.init(params)
        for step, batch in enumerate(batches):
            grads = jax.grad(loss)(params, batch)
            updates, state = tx.update(grads, state, params)
            params = gradtx.apply_updates(params, updates)
            if step % 2 == 1:   # after an outer step: the real params
                evaluate(params)

    The paper takes both gradients on one batch: pass the same batch twice
    in a row for that. The outer optimizer's state (its step count, its
    schedules) advances on outer steps only.

    **Opaque mode** (``opaque_mode=True``) runs a whole SAM step per call:
    ``update`` takes ``grad_fn(params, i)`` and calls it at each perturbed
    point (``i`` = 0, 1, ...), and returns the outer step::

        tx = gradtx.sam(outer, adv, opaque_mode=True)
        grad_fn = jax.grad(lambda p, i: loss(p, batch))
        updates, state = tx.update(grads, state, params, grad_fn=grad_fn)

    Use it when a call has other effects than moving the params (BatchNorm
    statistics, logging), which transparent mode would also apply at the
    perturbed points.

    Differences from ``optax.contrib.sam``, whose arguments and state it
    takes: each call runs one of the two optimizers (``lax.cond``), so a NaN
    in the other cannot leak (optax runs both and multiplies the unused
    updates by 0) and the outer one costs nothing on adversarial calls; with
    ``sync_period=1`` it is the outer optimizer alone (optax's steps from the
    previous call's params); ``state.cache`` is a copy of the params, so that
    a donating step may write both.

    Args:
      optimizer: the outer optimizer (the real step).
      adv_optimizer: the adversarial optimizer; its updates are negated (for
        SAM, ``chain(normalize(), sgd(rho))``).
      sync_period: calls per outer step: ``sync_period - 1`` adversarial steps
        and one outer step (an int >= 1).
      reset_state: reset the adversarial optimizer's state after each outer
        step.
      opaque_mode: run the adversarial steps inside ``update``, with
        ``grad_fn``.
      batch_axis_name: in opaque mode under ``pmap``/``shard_map``, the axis
        to average the adversarial gradients over (``lax.pmean``).

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`SAMState`; ``update`` takes ``grad_fn`` as a keyword argument.

    Raises:
      TypeError: an optimizer is not a transformation.
      ValueError: ``sync_period`` is not an int >= 1; at ``update``, no
        params, or no ``grad_fn`` in opaque mode.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> loss = lambda w: jnp.sum(w ** 2)
      >>> adv = gradtx.chain(gradtx.normalize(), gradtx.sgd(0.5))
      >>> tx = gradtx.sam(gradtx.sgd(0.1), adv, sync_period=2)
      >>> w = jnp.array([3.0, 4.0])
      >>> state = tx.init(w)
      >>> u, state = tx.update(jax.grad(loss)(w), state, w)
      >>> w = gradtx.apply_updates(w, u)
      >>> w  # perturbed: w + 0.5 g / |g|
      Array([3.3, 4.4], dtype=float32)
      >>> u, state = tx.update(jax.grad(loss)(w), state, w)
      >>> gradtx.apply_updates(w, u)  # (3, 4) - 0.1 * grad at (3.3, 4.4)
      Array([2.34, 3.12], dtype=float32)

    References:
      Foret, Kleiner, Mobahi & Neyshabur, *Sharpness-Aware Minimization for
      Efficiently Improving Generalization*, ICLR 2021,
      https://arxiv.org/abs/2010.01412
    """
    fn = validate.who("sam")
    outer = with_extra_args_support(as_transformation(optimizer, "sam's optimizer"))
    adv = with_extra_args_support(
        as_transformation(adv_optimizer, "sam's adv_optimizer")
    )
    validate.integer(
        fn, "sync_period", sync_period, low=1, meaning="calls per outer step"
    )
    validate.boolean(fn, "reset_state", reset_state)
    validate.boolean(fn, "opaque_mode", opaque_mode)
    if batch_axis_name is not None and not isinstance(batch_axis_name, str):
        raise validate.error(
            TypeError,
            fn,
            f"batch_axis_name must be None or an axis name, got {batch_axis_name!r}.",
        )

    def init(params: Params) -> SAMState:
        validate.params(fn, params)
        return SAMState(
            steps_since_sync=jnp.zeros([], jnp.int32),
            opt_state=outer.init(params),
            adv_state=adv.init(params),
            cache=None if opaque_mode else jax.tree.map(jnp.copy, params),
        )

    def transparent_update(
        updates: Updates,
        state: SAMState,
        params: Params | None = None,
        *,
        grad_fn: GradFn | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, SAMState]:
        del grad_fn
        validate.updates(fn, updates, params, needs_params=_NEEDS_PARAMS)
        first = state.steps_since_sync == 0
        last = state.steps_since_sync == sync_period - 1
        cache = _pick(first, params, state.cache)

        # One branch runs: the outer optimizer only on the last call (optax
        # computes both and multiplies the unused one by 0).
        def outer_step() -> tuple[Updates, Any, Any]:
            opt_updates, opt_state = outer.update(
                updates, state.opt_state, cache, **extra_args
            )
            out = map_leaves(_return_and_step, opt_updates, params, cache)
            kept = adv.init(params) if reset_state else state.adv_state
            return _like(out, updates), opt_state, kept

        def adversarial_step() -> tuple[Updates, Any, Any]:
            adv_updates, adv_state = adv.update(
                updates, state.adv_state, params, **extra_args
            )
            out = jax.tree.map(jnp.negative, adv_updates)
            return _like(out, updates), state.opt_state, adv_state

        out, opt_state, adv_state = jax.lax.cond(last, outer_step, adversarial_step)
        steps = (state.steps_since_sync + 1) % sync_period
        return out, SAMState(
            steps_since_sync=steps.astype(jnp.int32),
            opt_state=opt_state,
            adv_state=adv_state,
            cache=cache,
        )

    def opaque_update(
        updates: Updates,
        state: SAMState,
        params: Params | None = None,
        *,
        grad_fn: GradFn | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, SAMState]:
        validate.updates(fn, updates, params, needs_params=_NEEDS_PARAMS)
        if grad_fn is None:
            raise validate.error(ValueError, fn, _NEEDS_GRAD_FN)
        adv_params, grads, adv_state = params, updates, state.adv_state
        for i in range(sync_period - 1):
            adv_updates, adv_state = adv.update(
                grads, adv_state, adv_params, **extra_args
            )
            adv_updates = jax.tree.map(jnp.negative, adv_updates)
            adv_params = apply_updates(adv_params, adv_updates)
            grads = grad_fn(adv_params, i)
            if batch_axis_name is not None:
                grads = jax.lax.pmean(grads, axis_name=batch_axis_name)
        if reset_state:
            adv_state = adv.init(params)
        out, opt_state = outer.update(grads, state.opt_state, params, **extra_args)
        return out, SAMState(
            steps_since_sync=jnp.zeros([], jnp.int32),
            opt_state=opt_state,
            adv_state=adv_state,
            cache=None,
        )

    return GradientTransformationExtraArgs(
        init, opaque_update if opaque_mode else transparent_update
    )
