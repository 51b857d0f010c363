"""A diagonal multivariate normal parametrized by its mean and log-scale."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = ["MultiNormalDiagFromLogScale", "multi_normal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class MultiNormalDiagFromLogScale:
    r"""A normal distribution with independent coordinates, from its mean
    ``loc`` and the log of its standard deviation ``log_scale``.

    .. math::
       \log p(x) = \sum_i \Big( -\tfrac12 \big(\tfrac{x_i - \mu_i}
       {\sigma_i}\big)^2 - \log \sigma_i - \tfrac12 \log 2\pi \Big),
       \qquad \sigma = e^{\text{log\_scale}}

    the sum running over the parameters' (broadcast) shape. A log-scale keeps
    :math:`\sigma > 0` for any real parameter, as evolution strategies and
    score-function gradient estimators need.

    Built by :func:`multi_normal`. ``params`` is ``[loc, log_scale]`` as
    given (not broadcast).

    gradtx differs from optax: samples have the parameters' dtype (optax's
    are JAX's default float, float64 under x64 for float32 parameters), and
    ``log_prob`` uses ``log_scale`` itself, not ``log(exp(log_scale))``.
    """

    def __init__(self, loc: Any, log_scale: Any) -> None:
        fn = "multi_normal"
        self._mean = validate.floating(fn, "loc", loc)
        self._log_scale = validate.floating(fn, "log_scale", log_scale)
        try:
            shape = np.broadcast_shapes(self._mean.shape, self._log_scale.shape)
        except ValueError:
            raise validate.error(
                ValueError,
                fn,
                f"loc has shape {tuple(self._mean.shape)} and log_scale shape "
                f"{tuple(self._log_scale.shape)}: Incompatible shapes for "
                "broadcasting. They must broadcast to one parameter shape.",
            ) from None
        self._param_shape: tuple[int, ...] = tuple(shape)
        self._dtype = jnp.result_type(self._mean, self._log_scale)

    def sample(self, shape: Sequence[int], key: jax.Array) -> jax.Array:
        """Samples :math:`\\mu + \\sigma \\odot \\varepsilon`, :math:`\\varepsilon
        \\sim \\mathcal N(0, I)`, of shape ``(*shape, *param_shape)``.

        Args:
          shape: the sample shape, a sequence of ints.
          key: a PRNG key.

        Returns:
          The samples, in the parameters' dtype.

        Raises:
          TypeError: ``key`` is not a key.
          ValueError: ``shape`` is not a sequence of ints >= 0.
        """
        fn = "MultiNormalDiagFromLogScale.sample"
        if not isinstance(shape, Sequence) or not all(
            isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 0
            for s in shape
        ):
            raise validate.error(
                ValueError,
                fn,
                f"shape must be a sequence of ints >= 0 (the sample shape), got "
                f"{shape!r}.",
            )
        validate.key(fn, "key", key)
        full = tuple(int(s) for s in shape) + self._param_shape
        noise = jax.random.normal(key, full, self._dtype)
        mean = jnp.broadcast_to(self._mean, full)
        scale = jnp.broadcast_to(jnp.exp(self._log_scale), full)
        return (mean + scale * noise).astype(self._dtype)

    def log_prob(self, x: Any) -> jax.Array:
        """The log-density of ``x``, summed over the parameter axes.

        Args:
          x: a floating array ``(*batch, *param_shape)`` (its trailing axes
            broadcast against the parameters).

        Returns:
          The log-densities, of shape ``batch``.

        Raises:
          TypeError: ``x`` is not floating.
          ValueError: ``x``'s trailing shape does not broadcast with the
            parameters'.
        """
        fn = "MultiNormalDiagFromLogScale.log_prob"
        x = validate.floating(fn, "x", x)
        ndim = len(self._param_shape)
        try:
            full = np.broadcast_shapes(x.shape, self._param_shape)
        except ValueError:
            full = None
        if full is None or len(full) != max(x.ndim, ndim):
            raise validate.error(
                ValueError,
                fn,
                f"x has shape {tuple(x.shape)}, whose trailing axes do not "
                f"broadcast with the parameter shape {self._param_shape}.",
            )
        full = tuple(full)
        log_scale = jnp.broadcast_to(self._log_scale, full)
        z = (jnp.broadcast_to(x, full) - jnp.broadcast_to(self._mean, full)) * (
            jnp.exp(-log_scale)
        )
        density = -0.5 * jnp.square(z) - log_scale - _HALF_LOG_2PI
        return jnp.sum(density, axis=tuple(range(len(full) - ndim, len(full))))

    @property
    def log_scale(self) -> jax.Array:
        """The log of the standard deviation, as given."""
        return self._log_scale

    @property
    def params(self) -> list[jax.Array]:
        """``[loc, log_scale]``, as given (not broadcast)."""
        return [self._mean, self._log_scale]


def multi_normal(loc: Any, log_scale: Any) -> MultiNormalDiagFromLogScale:
    r"""A diagonal normal distribution from its mean and log standard deviation.

    .. math::
       x \sim \mathcal N\big(\text{loc},\ \operatorname{diag}(e^{2\,
       \text{log\_scale}})\big)

    with ``sample(shape, key)`` and ``log_prob(x)`` (summed over the
    parameter axes); see :class:`MultiNormalDiagFromLogScale`.

    Args:
      loc: the mean, a floating array.
      log_scale: the log of the standard deviation, a floating array that
        broadcasts with ``loc``.

    Returns:
      The distribution, a :class:`MultiNormalDiagFromLogScale`.

    Raises:
      TypeError: ``loc`` or ``log_scale`` is not floating (optax accepts
        integers).
      ValueError: their shapes do not broadcast together.

    References:
      Bishop, *Pattern Recognition and Machine Learning*, Springer 2006,
      §2.3 (the Gaussian distribution).

    Example:
      >>> import gradtx.linalg, jax, jax.numpy as jnp
      >>> dist = gradtx.linalg.multi_normal(jnp.zeros(2), jnp.zeros(2))
      >>> dist.log_prob(jnp.zeros(2))
      Array(-1.837877, dtype=float32)
      >>> dist.sample((3,), jax.random.key(0)).shape
      (3, 2)
    """
    return MultiNormalDiagFromLogScale(loc, log_scale)
