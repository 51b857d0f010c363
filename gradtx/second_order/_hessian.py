"""Second-order quantities of a loss: Hessian-vector products, diagonals."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import flatten_util

from gradtx._internal import validate

__all__ = ["fisher_diag", "hessian_diag", "hvp"]

LossFn = Callable[[Any, Any, Any], jax.Array]


def _scalar_loss(
    fn: str, name: str, loss: Any, params: Any, inputs: Any, targets: Any
) -> None:
    """Raises unless ``loss(params, inputs, targets)`` gives a real scalar."""
    if not callable(loss):
        raise validate.error(
            TypeError,
            fn,
            f"{name} must be a function (params, inputs, targets) -> scalar, got "
            f"{type(loss).__name__}.",
        )
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        leaf_dtype = jnp.result_type(leaf)
        if not jnp.issubdtype(leaf_dtype, jnp.inexact):
            raise validate.error(
                TypeError,
                fn,
                f"params{jax.tree_util.keystr(path)} has dtype {leaf_dtype}; "
                "derivatives are taken with respect to floating leaves only: pass "
                "the integer ones through inputs instead.",
            )
    out = jax.eval_shape(loss, params, inputs, targets)
    shape, dtype = getattr(out, "shape", None), getattr(out, "dtype", None)
    if shape != () or dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise validate.error(
            ValueError,
            fn,
            f"{name} must return a real floating scalar, got {dtype}{list(shape or [])}"
            " (reduce a per-example loss with .mean()).",
        )


def _compiled(kernel: Any, loss: Any) -> Any:
    """``kernel``, jitted with ``loss`` static; as written if ``loss`` is unhashable."""
    try:
        hash(loss)
    except TypeError:
        return kernel.__wrapped__
    return kernel


def hvp(loss: LossFn, v: Any, params: Any, inputs: Any, targets: Any) -> Any:
    r"""The product :math:`H v` of the loss's Hessian and a vector, without :math:`H`.

    .. math::
       H v = \nabla^2_\theta L(\theta)\, v
           = \frac{\partial}{\partial \epsilon}
             \nabla_\theta L(\theta + \epsilon v)\Big|_{\epsilon = 0}

    a forward-mode derivative of the gradient (forward-over-reverse), at the
    cost of about two gradients (Pearlmutter, 1994).

    Args:
      loss: ``(params, inputs, targets) -> scalar``.
      v: a vector of the size of ``params`` flattened
        (``jax.flatten_util.ravel_pytree`` order).
      params: the parameters :math:`\theta`, a pytree of floating arrays.
      inputs: the inputs ``loss`` is evaluated at.
      targets: the targets ``loss`` is evaluated at.

    Returns:
      :math:`H v`, a pytree with ``params``' structure (as optax's, whose
      docstring says an array).

    Raises:
      TypeError: ``loss`` is not callable, a leaf of ``params`` is not
        floating, or ``v`` is not floating.
      ValueError: ``v`` is not a vector of the size of ``params``, or ``loss``
        does not return a scalar.

    gradtx differs from optax: not deprecated (optax 0.2.8 warns and plans to
    remove it in 0.2.9).

    References:
      Pearlmutter, *Fast Exact Multiplication by the Hessian*, Neural
      Computation 1994, https://doi.org/10.1162/neco.1994.6.1.147

    Example:
      >>> import gradtx.second_order, jax.numpy as jnp
      >>> loss = lambda p, x, y: jnp.sum((p["w"] * x - y) ** 2)
      >>> gradtx.second_order.hvp(loss, jnp.array([1.0, 0.0]),
      ...     {"w": jnp.array([1.0, 2.0])}, jnp.array([3.0, 1.0]), jnp.zeros(2))
      {'w': Array([18.,  0.], dtype=float32)}
    """
    fn = "hvp"
    _scalar_loss(fn, "loss", loss, params, inputs, targets)
    flat = flatten_util.ravel_pytree(params)[0]
    v = validate.floating(fn, "v", v)
    if tuple(v.shape) != (flat.size,):
        raise validate.error(
            ValueError,
            fn,
            f"v has shape {tuple(v.shape)}; it must be a vector of the size of "
            f"params flattened, ({flat.size},).",
        )
    return _compiled(_hvp, loss)(loss, v, params, inputs, targets)


@functools.partial(jax.jit, static_argnums=0)
def _hvp(loss: LossFn, v: jax.Array, params: Any, inputs: Any, targets: Any) -> Any:
    """Forward-over-reverse :math:`Hv` (one compiled kernel per loss)."""
    unravel = flatten_util.ravel_pytree(params)[1]
    grad = jax.grad(lambda p: loss(p, inputs, targets))
    return jax.jvp(grad, (params,), (unravel(v),))[1]


def hessian_diag(loss: LossFn, params: Any, inputs: Any, targets: Any) -> jax.Array:
    r"""The diagonal of the loss's Hessian, :math:`H_{ii} = e_i^\top H e_i`.

    .. math::
       \operatorname{diag}(H)_i = \frac{\partial^2 L}{\partial \theta_i^2}
       = e_i^\top (H e_i)

    with one Hessian-vector product (:func:`hvp`) per parameter, batched with
    ``vmap``: exact, at :math:`O(n)` gradients' cost and memory, so only for
    small models (stochastic estimators such as Hutchinson's trade exactness
    for cost).

    Args:
      loss: ``(params, inputs, targets) -> scalar``.
      params: the parameters :math:`\theta`, a pytree of floating arrays.
      inputs: the inputs ``loss`` is evaluated at.
      targets: the targets ``loss`` is evaluated at.

    Returns:
      The diagonal, a vector in ``params``' flattened
      (``jax.flatten_util.ravel_pytree``) order.

    Raises:
      TypeError: ``loss`` is not callable or a leaf of ``params`` is not
        floating.
      ValueError: ``loss`` does not return a scalar.

    gradtx differs from optax: not deprecated.

    References:
      Pearlmutter, *Fast Exact Multiplication by the Hessian*, Neural
      Computation 1994, https://doi.org/10.1162/neco.1994.6.1.147

    Example:
      >>> import gradtx.second_order, jax.numpy as jnp
      >>> loss = lambda p, x, y: jnp.sum((p * x - y) ** 2)
      >>> gradtx.second_order.hessian_diag(
      ...     loss, jnp.array([1.0, 2.0]), jnp.array([3.0, 1.0]), jnp.zeros(2))
      Array([18.,  2.], dtype=float32)
    """
    _scalar_loss("hessian_diag", "loss", loss, params, inputs, targets)
    return _compiled(_hessian_diag, loss)(loss, params, inputs, targets)


@functools.partial(jax.jit, static_argnums=0)
def _hessian_diag(loss: LossFn, params: Any, inputs: Any, targets: Any) -> jax.Array:
    """``e_i . H e_i`` for every basis vector, vmapped (one compiled kernel)."""
    flat, unravel = flatten_util.ravel_pytree(params)
    grad = jax.grad(lambda p: loss(p, inputs, targets))

    def diagonal_entry(e: jax.Array) -> jax.Array:
        column = jax.jvp(grad, (params,), (unravel(e),))[1]
        return jnp.vdot(e, flatten_util.ravel_pytree(column)[0])

    return jax.vmap(diagonal_entry)(jnp.eye(flat.size, dtype=flat.dtype))


def fisher_diag(
    negative_log_likelihood: LossFn, params: Any, inputs: Any, targets: Any
) -> jax.Array:
    r"""The diagonal of the observed (empirical) Fisher information at one batch.

    .. math::
       \operatorname{diag}(F) = \big(\nabla_\theta \ell(\theta)\big)^{\odot 2}

    the elementwise square of the gradient of the negative log-likelihood
    :math:`\ell`. For a single example this is the diagonal of the empirical
    Fisher :math:`g g^\top`. If :math:`\ell` is a batch mean, this is the
    square of the mean gradient, not the mean of the per-example squares
    (``vmap`` this function over examples for that); and the empirical
    Fisher is not the Fisher (Kunstner et al., 2019).

    Args:
      negative_log_likelihood: ``(params, inputs, targets) -> scalar``.
      params: the parameters :math:`\theta`, a pytree of floating arrays.
      inputs: the inputs it is evaluated at.
      targets: the targets it is evaluated at.

    Returns:
      The diagonal, a vector in ``params``' flattened
      (``jax.flatten_util.ravel_pytree``) order.

    Raises:
      TypeError: ``negative_log_likelihood`` is not callable or a leaf of
        ``params`` is not floating.
      ValueError: ``negative_log_likelihood`` does not return a scalar.

    gradtx differs from optax: not deprecated.

    References:
      Kunstner, Balles & Hennig, *Limitations of the Empirical Fisher
      Approximation for Natural Gradient Descent*, NeurIPS 2019,
      https://arxiv.org/abs/1905.12558

    Example:
      >>> import gradtx.second_order, jax.numpy as jnp
      >>> nll = lambda p, x, y: 0.5 * jnp.sum((p * x - y) ** 2)
      >>> gradtx.second_order.fisher_diag(
      ...     nll, jnp.array([1.0, 2.0]), jnp.array([3.0, 1.0]), jnp.zeros(2))
      Array([81.,  4.], dtype=float32)
    """
    _scalar_loss(
        "fisher_diag",
        "negative_log_likelihood",
        negative_log_likelihood,
        params,
        inputs,
        targets,
    )
    return _compiled(_fisher_diag, negative_log_likelihood)(
        negative_log_likelihood, params, inputs, targets
    )


@functools.partial(jax.jit, static_argnums=0)
def _fisher_diag(nll: LossFn, params: Any, inputs: Any, targets: Any) -> jax.Array:
    """The squared flat gradient (one compiled kernel per function)."""
    return jnp.square(
        flatten_util.ravel_pytree(jax.grad(nll)(params, inputs, targets))[0]
    )
