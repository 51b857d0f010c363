"""Differentiable perturbed functions (Berthet et al., 2020): noise classes, wrapper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["Gumbel", "Normal", "make_perturbed_fun"]


class Normal:
    r"""Standard normal noise, :math:`\mu(z) \propto \exp(-z^2 / 2)`.

    The noise of :func:`make_perturbed_fun`: ``sample`` draws it, ``log_prob``
    is :math:`\log \mu` up to a constant (constants cancel in the estimator).

    References:
      Berthet et al., *Learning with Differentiable Perturbed Optimizers*,
      NeurIPS 2020, §3, https://arxiv.org/abs/2002.08676

    Example:
      >>> import gradtx.perturbations, jax.numpy as jnp
      >>> gradtx.perturbations.Normal().log_prob(jnp.array([1.0, 2.0]))
      Array([-0.5, -2. ], dtype=float32)
    """

    def sample(
        self, key: jax.Array, sample_shape: tuple[int, ...] = (), dtype: Any = float
    ) -> jax.Array:
        """Standard normal draws of shape ``sample_shape`` (``jax.random.normal``)."""
        return jax.random.normal(key, sample_shape, dtype)

    def log_prob(self, inputs: jax.Array) -> jax.Array:
        r"""The unnormalized log-density :math:`-z^2 / 2`, elementwise."""
        return -0.5 * jnp.square(inputs)


class Gumbel:
    r"""Standard Gumbel noise, :math:`\mu(z) = \exp(-z - e^{-z})`.

    With it, the perturbed argmax is the softmax (the Gumbel-max trick), and
    the perturbed max is :math:`\sigma\,\mathrm{logsumexp}(x / \sigma)` plus
    :math:`\sigma \gamma` (:math:`\gamma`: the Euler-Mascheroni constant).

    References:
      Gumbel, *Statistical Theory of Extreme Values and Some Practical
      Applications*, National Bureau of Standards 1954.

      Berthet et al., *Learning with Differentiable Perturbed Optimizers*,
      NeurIPS 2020, §2, https://arxiv.org/abs/2002.08676

    Example:
      >>> import gradtx.perturbations, jax.numpy as jnp
      >>> gradtx.perturbations.Gumbel().log_prob(jnp.array([0.0]))
      Array([-1.], dtype=float32)
    """

    def sample(
        self, key: jax.Array, sample_shape: tuple[int, ...] = (), dtype: Any = float
    ) -> jax.Array:
        """Standard Gumbel draws of shape ``sample_shape`` (``jax.random.gumbel``)."""
        return jax.random.gumbel(key, sample_shape, dtype)

    def log_prob(self, inputs: jax.Array) -> jax.Array:
        r"""The log-density :math:`-z - e^{-z}`, elementwise."""
        return -inputs - jnp.exp(-inputs)


def _floating_tree(fn: str, x: Any) -> Any:
    """``x`` with every leaf a real floating array; else a TypeError naming it."""
    paths_leaves, treedef = jax.tree_util.tree_flatten_with_path(x)
    leaves = []
    for path, leaf in paths_leaves:
        where = f"x{jax.tree_util.keystr(path)}"
        leaves.append(validate.floating(fn, where, leaf))
    return jax.tree.unflatten(treedef, leaves)


def _magic_box(log_p: jax.Array) -> jax.Array:
    """DiCE's :math:`\\exp(\\tau - \\bot(\\tau))`: 1 in value, ``log_p``'s gradient."""
    return jnp.exp(log_p - jax.lax.stop_gradient(log_p))


def make_perturbed_fun(
    fun: Callable[[Any], Any],
    num_samples: int = 1000,
    sigma: Any = 0.1,
    noise: Any = Gumbel(),  # noqa: B008 (stateless, as optax's default)
    use_baseline: bool = True,
) -> Callable[[jax.Array, Any], Any]:
    r"""A Monte Carlo, differentiable smoothing of ``fun`` by random perturbations.

    .. math::
       f_\sigma(x) = \mathbb{E}_{Z \sim \mu}\big[f(x + \sigma Z)\big], \qquad
       \nabla f_\sigma(x) = \mathbb{E}\Big[\big(f(x + \sigma Z) - b\big)
       \,\frac{-\nabla_z \log \mu(Z)}{\sigma}\Big]

    (Berthet et al., 2020, Proposition 3.1). The returned function averages
    ``num_samples`` draws; its value is the plain Monte Carlo mean, and its
    derivatives of every order (through ``jax.grad``, ``jax.jacobian``,
    ``jax.hessian``) are unbiased estimates of :math:`f_\sigma`'s, built with
    DiCE's magic box on :math:`\log \mu` so that only *values* of ``fun`` are
    used: ``fun`` may be piecewise constant (an argmax) or not differentiable
    at all. With ``use_baseline``, :math:`b = f(x)` (the unperturbed value)
    reduces the variance of the derivatives without bias; else :math:`b = 0`.

    The estimate is compiled (``jax.jit``) once per input structure, so
    ``fun`` must be traceable (it is ``vmap``-ed over the samples anyway).
    Noise is drawn leaf by leaf: ``jax.random.split(key, num_samples)``, then
    each sample's key is split over the leaves of ``x`` in order and
    ``noise.sample(leaf_key, leaf.shape, leaf.dtype)`` is called: the same
    draws as optax's for the same key.

    Args:
      fun: a function from a pytree of arrays to a pytree of arrays.
      num_samples: the number of Monte Carlo samples, an int >= 1.
      sigma: the scale :math:`\sigma > 0` of the perturbation.
      noise: the noise distribution :math:`\mu`: an object with
        ``sample(key, sample_shape, dtype)`` and ``log_prob(z)``, such as
        :class:`Gumbel` (the default) or :class:`Normal`.
      use_baseline: subtract :math:`f(x)` as a control variate in the
        derivatives.

    Returns:
      ``perturbed(key, x)``: the estimate of :math:`f_\sigma(x)`, a pytree
      like ``fun``'s output. Differentiate it with respect to ``x``
      (``argnums=1``).

    Raises:
      TypeError: ``fun`` is not callable, ``noise`` lacks ``sample`` or
        ``log_prob``, ``use_baseline`` is not a bool; when called, ``key`` is
        not a key or a leaf of ``x`` is not floating.
      ValueError: ``num_samples`` is not an int >= 1, or a concrete ``sigma``
        is not a finite number > 0.

    References:
      Berthet, Blondel, Teboul, Cuturi, Vert & Bach, *Learning with
      Differentiable Perturbed Optimizers*, NeurIPS 2020,
      https://arxiv.org/abs/2002.08676

      Foerster et al., *DiCE: The Infinitely Differentiable Monte Carlo
      Estimator*, ICML 2018, https://arxiv.org/abs/1802.05098

    Example:
      >>> import gradtx.perturbations, jax, jax.numpy as jnp
      >>> argmax = lambda x: jax.nn.one_hot(jnp.argmax(x), 3)
      >>> soft = gradtx.perturbations.make_perturbed_fun(argmax, 20_000, 1.0)
      >>> p = soft(jax.random.key(0), jnp.array([1.0, 0.0, -1.0]))
      >>> bool(jnp.allclose(p, jax.nn.softmax(jnp.array([1.0, 0.0, -1.0])), atol=0.02))
      True
    """
    fn = "make_perturbed_fun"
    if not callable(fun):
        raise validate.error(
            TypeError, fn, f"fun must be a function of a pytree, got {fun!r}."
        )
    validate.integer(
        fn, "num_samples", num_samples, low=1, meaning="the Monte Carlo samples"
    )
    validate.number(fn, "sigma", sigma, low=0.0, low_open=True)
    if not all(callable(getattr(noise, m, None)) for m in ("sample", "log_prob")):
        raise validate.error(
            TypeError,
            fn,
            f"noise must have sample(key, shape, dtype) and log_prob(z) methods, "
            f"like gradtx.perturbations.Gumbel(); got {noise!r}.",
        )
    validate.boolean(fn, "use_baseline", use_baseline)

    @jax.jit
    def estimate(key: jax.Array, x: Any) -> Any:
        leaves, treedef = jax.tree.flatten(x)
        baseline = fun(jax.lax.stop_gradient(x)) if use_baseline else None

        def one_sample(sample_key: jax.Array) -> Any:
            keys = jax.random.split(sample_key, len(leaves))
            z = [
                noise.sample(k, leaf.shape, leaf.dtype)
                for k, leaf in zip(keys, leaves, strict=True)
            ]
            y = jax.lax.stop_gradient(
                [leaf + sigma * zi for leaf, zi in zip(leaves, z, strict=True)]
            )
            # z again, as a function of x: the score's path to x.
            z_of_x = [(yi - leaf) / sigma for leaf, yi in zip(leaves, y, strict=True)]
            log_p = sum(jnp.sum(noise.log_prob(zi)) for zi in z_of_x)
            box = _magic_box(jnp.asarray(log_p))
            out = jax.tree.map(lambda o: box * o, fun(jax.tree.unflatten(treedef, y)))
            if baseline is not None:
                out = jax.tree.map(lambda o, b: o + (1 - box) * b, out, baseline)
            return out

        outs = jax.vmap(one_sample)(jax.random.split(key, num_samples))
        return jax.tree.map(lambda o: jnp.mean(o, axis=0), outs)

    def perturbed(key: jax.Array, x: Any) -> Any:
        validate.key(fn, "key", key)
        return estimate(key, _floating_tree(fn, x))

    return perturbed
