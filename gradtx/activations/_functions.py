"""Rectifier-like activations that ``jax.nn`` lacks: pure and dtype-keeping.

Every function keeps a floating input's dtype (hyperparameters are cast to it,
so a float64 hyperparameter does not promote a float32 input), and works
under ``jit``, ``vmap`` and ``grad``. Concrete hyperparameters are checked
when the function is called; traced ones are let through.

Derivatives at kinks are fixed by strict comparisons and stated in each
docstring: the derivative at a kink is the one of the side that the kink
point itself belongs to (``threshold'(t) = 0``, ``prelu'(0) = 1``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._internal import validate

__all__ = [
    "prelu",
    "rrelu",
    "snake",
    "squared_relu",
    "threshold",
]


def _float_array(x: ArrayLike) -> jax.Array:
    """``x`` as an array of a floating dtype (integers take the default float)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(x, float))
    return x


def _per_channel(value: ArrayLike, x: jax.Array) -> jax.Array:
    """``value`` (checked by ``validate.per_channel``) cast to ``x``'s dtype.

    A 1-D value of ``x.shape[-1]`` entries is broadcast explicitly against
    ``x`` (one value per channel, the last axis); a scalar or a 1-element
    array becomes a scalar.
    """
    v = jnp.asarray(value).astype(x.dtype)
    if v.ndim == 0 or v.shape[0] == 1:
        return v.reshape(())
    return jnp.broadcast_to(v, x.shape)


@jax.jit
def _leaky(x: ArrayLike, slope: ArrayLike) -> jax.Array:
    x = _float_array(x)
    return jnp.where(x >= 0, x, _per_channel(slope, x) * x)


def prelu(x: ArrayLike, negative_slope: ArrayLike) -> jax.Array:
    r"""Parametric ReLU (He et al. 2015): a learnable slope per channel.

    .. math:: \mathrm{prelu}(x)_{\ldots c} = \begin{cases}
        x_{\ldots c} & x_{\ldots c} \ge 0 \\ a_c \, x_{\ldots c} & x_{\ldots c} < 0
        \end{cases}

    ``negative_slope`` (:math:`a`) is a scalar shared by all units, or a 1-D
    array with one slope per channel, the *last* axis of ``x`` (as Flax lays
    out NHWC data; PyTorch's channels are axis 1). The derivative at
    :math:`x = 0` is 1 (the :math:`x \ge 0` side), as for
    ``jax.nn.leaky_relu`` and ``flax.nnx.PReLU``. For a learnable module see
    :class:`gradtx.nn.PReLU`.

    Args:
      x: the input.
      negative_slope: :math:`a`, a scalar or an array of shape ``(C,)`` or
        ``(1,)`` with ``C = x.shape[-1]``.

    Returns:
      An array of ``x``'s shape and dtype.

    Raises:
      ValueError: ``negative_slope`` is neither a scalar nor one value per
        channel.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import prelu
      >>> prelu(jnp.array([[-1.0, -1.0], [2.0, 2.0]]), jnp.array([0.1, 0.5]))
      Array([[-0.1, -0.5],
             [ 2. ,  2. ]], dtype=float32)

    References:
      He et al., *Delving Deep into Rectifiers: Surpassing Human-Level
      Performance on ImageNet Classification*, ICCV 2015,
      https://arxiv.org/abs/1502.01852
    """
    validate.per_channel("prelu", "negative_slope", negative_slope, np.shape(x))
    return _leaky(x, negative_slope)


def rrelu(
    x: ArrayLike,
    key: jax.Array | None = None,
    *,
    lower: Any = 1.0 / 8.0,
    upper: Any = 1.0 / 3.0,
    deterministic: bool = False,
) -> jax.Array:
    r"""Randomized leaky ReLU (Xu et al. 2015): a random slope per unit in training.

    .. math:: \mathrm{rrelu}(x)_i = \begin{cases} x_i & x_i \ge 0 \\
        a_i \, x_i & x_i < 0 \end{cases}, \qquad
        a_i \sim \mathcal{U}[l, u] \text{ (training)}, \quad
        a_i = \tfrac{l + u}{2} \text{ (evaluation)}

    In training every element draws its own slope; in evaluation
    (``deterministic=True``) the slope is the mean :math:`(l + u) / 2`, as in
    the paper and ``torch.nn.RReLU``. The defaults :math:`l = 1/8`,
    :math:`u = 1/3` are PyTorch's (the paper draws :math:`1/a \sim
    \mathcal{U}[3, 8]`). The derivative at :math:`x = 0` is 1.

    Args:
      x: the input.
      key: a PRNG key (``jax.random.key``); required in training.
      lower: :math:`l \ge 0`, the smallest slope.
      upper: :math:`u \ge l`, the largest slope.
      deterministic: use the mean slope (evaluation); no key needed.

    Returns:
      An array of ``x``'s shape and dtype.

    Raises:
      ValueError: ``lower < 0``, ``lower > upper``, or no key in training.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx.activations import rrelu
      >>> rrelu(jnp.array([-2.0, 3.0]), lower=0.1, upper=0.3, deterministic=True)
      Array([-0.4,  3. ], dtype=float32)
      >>> y = rrelu(-jnp.ones(1000), jax.random.key(0), lower=0.1, upper=0.3)
      >>> bool((-y >= 0.1).all() & (-y <= 0.3).all()), len(set(y.tolist())) > 1
      (True, True)

    References:
      Xu et al., *Empirical Evaluation of Rectified Activations in
      Convolutional Network*, 2015, https://arxiv.org/abs/1505.00853
    """
    fn = "rrelu"
    validate.sample_range(
        fn, ("lower", "upper"), lower, upper, drawn="each negative slope", low=0.0
    )
    validate.boolean(fn, "deterministic", deterministic)
    if deterministic:
        return _leaky(x, (lower + upper) / 2)
    if key is None:
        raise validate.error(
            ValueError,
            fn,
            "key is None, but rrelu draws random slopes in training and needs a "
            "PRNG key: pass key=jax.random.key(seed), or deterministic=True to "
            "use the mean slope (lower + upper) / 2 (evaluation).",
        )
    return _rrelu_train(x, key, lower, upper)


@jax.jit
def _rrelu_train(x: ArrayLike, key: jax.Array, lower: Any, upper: Any) -> jax.Array:
    x = _float_array(x)
    lo = jnp.asarray(lower).astype(x.dtype)
    hi = jnp.asarray(upper).astype(x.dtype)
    slope = jax.random.uniform(key, x.shape, x.dtype, lo, hi)
    return jnp.where(x >= 0, x, slope * x)


def threshold(x: ArrayLike, threshold: Any, value: Any) -> jax.Array:
    r"""Keeps :math:`x` above a threshold and replaces the rest by a constant.

    .. math:: \mathrm{threshold}(x) = \begin{cases} x & x > t \\ v & x \le t
        \end{cases}

    As ``torch.nn.functional.threshold``: the threshold itself is replaced,
    and the derivative there is 0 (the replaced side). ``threshold(x, 0, 0)``
    is the ReLU.

    Args:
      x: the input.
      threshold: :math:`t`, a real number.
      value: :math:`v`, the replacement, a real number.

    Returns:
      An array of ``x``'s shape and dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import threshold
      >>> threshold(jnp.array([-1.0, 0.5, 1.0, 2.0]), 1.0, -3.0)
      Array([-3., -3., -3.,  2.], dtype=float32)
    """
    validate.number("threshold", "threshold", threshold)
    validate.number("threshold", "value", value)
    return _threshold(x, threshold, value)


@jax.jit
def _threshold(x: ArrayLike, threshold: Any, value: Any) -> jax.Array:
    x = _float_array(x)
    t = jnp.asarray(threshold).astype(x.dtype)
    v = jnp.asarray(value).astype(x.dtype)
    return jnp.where(x > t, x, jnp.broadcast_to(v, x.shape))


def snake(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
    r"""Snake (Ziyin et al. 2020): ReLU-like growth plus a learnable periodic part.

    .. math:: \mathrm{snake}_\alpha(x) = x + \frac{\sin^2(\alpha x)}{\alpha},
        \qquad \mathrm{snake}_\alpha'(x) = 1 + \sin(2 \alpha x)

    :math:`\alpha > 0` sets the frequency; it may be a scalar or one value per
    channel (the last axis of ``x``), e.g. a learnable parameter as in the
    paper and BigVGAN.

    Args:
      x: the input.
      alpha: :math:`\alpha > 0`, a scalar or an array of shape ``(C,)`` with
        ``C = x.shape[-1]``.

    Returns:
      An array of ``x``'s shape and dtype.

    Raises:
      ValueError: an ``alpha`` entry is not positive, or ``alpha`` is neither a
        scalar nor one value per channel.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import snake
      >>> snake(jnp.array([0.0, jnp.pi / 2]), alpha=1.0)
      Array([0.       , 2.5707965], dtype=float32)

    References:
      Ziyin et al., *Neural Networks Fail to Learn Periodic Functions and How
      to Fix It*, NeurIPS 2020, https://arxiv.org/abs/2006.08195
    """
    fn = "snake"
    if validate.is_concrete(alpha):
        if np.ndim(alpha) == 0:
            validate.number(fn, "alpha", alpha, low=0.0, low_open=True, high_open=True)
        elif not np.min(np.asarray(alpha)) > 0:  # also catches NaN
            smallest = np.min(np.asarray(alpha))
            raise validate.error(
                ValueError,
                fn,
                f"alpha must be > 0 everywhere (snake divides by it); got an array "
                f"whose smallest entry is {smallest!r}.",
            )
    validate.per_channel(fn, "alpha", alpha, np.shape(x))
    return _snake(x, alpha)


@jax.jit
def _snake(x: ArrayLike, alpha: ArrayLike) -> jax.Array:
    x = _float_array(x)
    a = _per_channel(alpha, x)
    return x + jnp.sin(a * x) ** 2 / a


def squared_relu(x: ArrayLike) -> jax.Array:
    r"""Squared ReLU (So et al. 2021, Primer): :math:`\max(x, 0)^2`.

    .. math:: \mathrm{squared\_relu}(x) = \max(x, 0)^2, \qquad
        \mathrm{squared\_relu}'(x) = 2 \max(x, 0)

    Smooth at 0, where the derivative is 0.

    Args:
      x: the input.

    Returns:
      An array of ``x``'s shape and dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.activations import squared_relu
      >>> squared_relu(jnp.array([-2.0, 0.0, 3.0]))
      Array([0., 0., 9.], dtype=float32)

    References:
      So et al., *Primer: Searching for Efficient Transformers for Language
      Modeling*, NeurIPS 2021, https://arxiv.org/abs/2109.08668
    """
    return _squared_relu(x)


@jax.jit
def _squared_relu(x: ArrayLike) -> jax.Array:
    return jnp.square(jax.nn.relu(_float_array(x)))
