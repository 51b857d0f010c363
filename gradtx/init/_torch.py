"""torch.nn.init's initializers, with PyTorch's semantics, for Flax layouts.

Fans follow ``jax.nn.initializers.variance_scaling``: ``fan_in`` is
``shape[in_axis]`` (default ``-2``) and ``fan_out`` is ``shape[out_axis]``
(default ``-1``), each times the receptive field (the other axes). For Flax's
``(in, out)`` Dense and ``(*window, in, out)`` Conv kernels these are the
numbers PyTorch computes for its ``(out, in, *window)`` weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.init._common import Axes, Initializer, fan_scaled

__all__ = [
    "calculate_gain",
    "kaiming_normal",
    "kaiming_uniform",
    "xavier_normal",
    "xavier_uniform",
]

GAINS: dict[str, float] = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "leaky_relu": math.nan,  # depends on the slope: sqrt(2 / (1 + slope^2))
    "selu": 0.75,
}
_MODES = ("fan_in", "fan_out")
_MODE_HINT = (
    "(PyTorch's kaiming initializers scale by one fan; for the average of both "
    "use xavier_normal/xavier_uniform, or variance_scaling(mode='fan_avg').)"
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""PyTorch's recommended gain for a nonlinearity (``calculate_gain``).

    ======================================  ====================================
    nonlinearity                            gain
    ======================================  ====================================
    linear, conv{1,2,3}d,                   :math:`1`
    conv_transpose{1,2,3}d, sigmoid
    tanh                                    :math:`5 / 3`
    relu                                    :math:`\sqrt{2}`
    leaky_relu                              :math:`\sqrt{2 / (1 + \text{slope}^2)}`
    selu                                    :math:`3 / 4`
    ======================================  ====================================

    The gain multiplies the standard deviation of :func:`kaiming_normal` and
    :func:`xavier_normal` (and the bound of their uniform versions) so that
    activations keep their scale through the layer.

    Args:
      nonlinearity: one of the names above (case-insensitive).
      param: the negative slope of ``leaky_relu`` (default 0.01, as
        ``jax.nn.leaky_relu`` and PyTorch). The other nonlinearities take none.

    Returns:
      The gain, a Python float.

    Raises:
      ValueError: an unknown nonlinearity (the message lists the valid
        names), a ``param`` that is not a finite real number, or a ``param``
        given to a nonlinearity other than ``leaky_relu``.

    Example:
      >>> from gradtx import init
      >>> init.calculate_gain("relu")  # sqrt(2)
      1.41421...
      >>> init.calculate_gain("leaky_relu", 0.2)  # sqrt(2 / (1 + 0.2 ** 2))
      1.38675...

    References:
      PyTorch, ``torch.nn.init.calculate_gain``,
      https://pytorch.org/docs/stable/nn.init.html
    """
    fn = "calculate_gain"
    name = validate.lookup(fn, "nonlinearity", nonlinearity, {n: n for n in GAINS})
    if name == "leaky_relu":
        slope = 0.01 if param is None else _slope(fn, "param", param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if param is not None:
        raise validate.error(
            ValueError,
            fn,
            f"param={param!r} is only used by 'leaky_relu' (its negative slope); "
            f"{name!r} takes none. Leave param out.",
        )
    return GAINS[name]


def _slope(fn: str, argument: str, value: Any) -> float:
    """A finite real number; ValueError (as PyTorch) for anything else."""
    try:
        validate.number(fn, argument, value)
    except TypeError as err:
        raise ValueError(str(err)) from None
    return float(value)


# The standard deviation (normal) or the bound (uniform) of the kaiming
# initializers, from the gain and the chosen fan.
_KAIMING_SPREAD: dict[str, Callable[[float, int], float]] = {
    "normal": lambda gain, fan: gain / math.sqrt(fan),
    "uniform": lambda gain, fan: gain * math.sqrt(3.0 / fan),
}
# (fan_in + fan_out) * (spread / gain)^2 of the xavier initializers, the spread
# being their standard deviation (normal) or their bound (uniform).
_XAVIER_SPREAD = {"normal": 2.0, "uniform": 6.0}


def _kaiming(
    distribution: str,
    mode: Any,
    nonlinearity: str,
    negative_slope: Any,
    axes: tuple[Axes, Axes, Axes],
    dtype: Any,
) -> Initializer:
    """``kaiming_normal`` or ``kaiming_uniform``, arguments checked."""
    fn = f"kaiming_{distribution}"
    if isinstance(mode, int | float) and not isinstance(mode, bool):
        raise validate.error(
            TypeError,
            fn,
            f"mode must be 'fan_in' or 'fan_out', got {mode!r}. PyTorch's first "
            f"argument `a` is negative_slope here: negative_slope={mode!r}.",
        )
    mode = validate.choice(fn, "mode", mode, _MODES, _MODE_HINT)
    slope = _slope(fn, "negative_slope", negative_slope)
    name = validate.lookup(fn, "nonlinearity", nonlinearity, {n: n for n in GAINS})
    if name == "leaky_relu":
        gain = math.sqrt(2.0 / (1.0 + slope**2))
    elif slope != 0.0:
        raise validate.error(
            ValueError,
            fn,
            f"negative_slope={negative_slope!r} is only used with "
            f"nonlinearity='leaky_relu', got nonlinearity={nonlinearity!r} "
            "(PyTorch ignores it silently).",
        )
    else:
        gain = calculate_gain(name)
    i = 0 if mode == "fan_in" else 1
    spread = _KAIMING_SPREAD[distribution]
    return fan_scaled(
        fn, distribution, lambda *fans: spread(gain, fans[i]), axes, dtype
    )


def _xavier(
    distribution: str, gain: Any, axes: tuple[Axes, Axes, Axes], dtype: Any
) -> Initializer:
    """``xavier_normal`` or ``xavier_uniform``, arguments checked."""
    fn = f"xavier_{distribution}"
    validate.number(fn, "gain", gain, low=0.0, high_open=True)
    g, c = float(gain), _XAVIER_SPREAD[distribution]
    return fan_scaled(
        fn,
        distribution,
        lambda fan_in, fan_out: g * math.sqrt(c / (fan_in + fan_out)),
        axes,
        dtype,
    )


def kaiming_normal(
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    negative_slope: float = 0.0,
    *,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: Any = jnp.float32,
) -> Initializer:
    r"""He/Kaiming normal initializer with PyTorch's ``kaiming_normal_`` semantics.

    .. math:: W_{ij} \sim \mathcal{N}(0, \sigma^2), \qquad
              \sigma = \frac{\text{gain}}{\sqrt{\text{fan}}}

    with ``gain = calculate_gain(nonlinearity, negative_slope)`` and ``fan``
    the kernel's ``fan_in`` or ``fan_out`` (``mode``). The normal is *not*
    truncated. The defaults give :math:`\sigma = \sqrt{2 / \text{fan\_in}}`,
    for ReLU networks.

    Not jax's ``kaiming_normal``: in ``jax.nn.initializers`` that name is an
    alias of ``he_normal``, a *truncated* normal (cut at 2 sigma, then
    rescaled) with no gain argument. ``gradtx.init.he_normal`` is jax's.

    Args:
      mode: ``"fan_in"`` keeps the variance of the forward activations,
        ``"fan_out"`` that of the backward gradients.
      nonlinearity: the nonlinearity after the layer (see
        :func:`calculate_gain`); PyTorch's default is ``"leaky_relu"``.
      negative_slope: the slope of ``leaky_relu`` (PyTorch's ``a``); with 0,
        the default, the gain is ReLU's :math:`\sqrt{2}`.
      in_axis: the kernel's input axis or axes (Flax: ``-2``).
      out_axis: the kernel's output axis or axes (Flax: ``-1``).
      batch_axis: axes ignored in the fans.
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: an invalid ``mode``, ``nonlinearity`` or ``negative_slope``,
        when built; a kernel of rank < 2, when called.
      TypeError: a ``mode`` that is not a string, e.g. PyTorch's positional
        ``a`` (``kaiming_*_(w, a, mode, nonlinearity)``): pass
        ``negative_slope=`` by name.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> w = init.kaiming_normal()(jax.random.key(0), (1024, 256), jnp.float32)
      >>> round(float(w.std() * (1024 / 2) ** 0.5), 1)  # std = sqrt(2 / fan_in)
      1.0

    References:
      He et al., *Delving Deep into Rectifiers: Surpassing Human-Level
      Performance on ImageNet Classification*, ICCV 2015,
      https://arxiv.org/abs/1502.01852
    """
    axes = (in_axis, out_axis, batch_axis)
    return _kaiming("normal", mode, nonlinearity, negative_slope, axes, dtype)


def kaiming_uniform(
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    negative_slope: float = 0.0,
    *,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: Any = jnp.float32,
) -> Initializer:
    r"""He/Kaiming uniform initializer with PyTorch's ``kaiming_uniform_`` semantics.

    .. math:: W_{ij} \sim \mathcal{U}(-b, b), \qquad
              b = \text{gain} \sqrt{\frac{3}{\text{fan}}}

    the uniform law with the variance of :func:`kaiming_normal`. Not jax's
    ``kaiming_uniform`` (an alias of ``he_uniform``, which has no gain
    argument); ``gradtx.init.he_uniform`` is jax's.

    Args:
      mode: ``"fan_in"`` or ``"fan_out"``, as in :func:`kaiming_normal`.
      nonlinearity: the nonlinearity after the layer (see
        :func:`calculate_gain`).
      negative_slope: the slope of ``leaky_relu`` (PyTorch's ``a``).
      in_axis: the kernel's input axis or axes (Flax: ``-2``).
      out_axis: the kernel's output axis or axes (Flax: ``-1``).
      batch_axis: axes ignored in the fans.
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: an invalid ``mode``, ``nonlinearity`` or ``negative_slope``,
        when built; a kernel of rank < 2, when called.
      TypeError: a ``mode`` that is not a string, e.g. PyTorch's positional
        ``a`` (``kaiming_*_(w, a, mode, nonlinearity)``): pass
        ``negative_slope=`` by name.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> w = init.kaiming_uniform("fan_out", "relu")(
      ...     jax.random.key(0), (256, 600), jnp.float32)
      >>> bool(jnp.abs(w).max() <= 2 ** 0.5 * (3 / 600) ** 0.5)
      True

    References:
      He et al., *Delving Deep into Rectifiers: Surpassing Human-Level
      Performance on ImageNet Classification*, ICCV 2015,
      https://arxiv.org/abs/1502.01852
    """
    axes = (in_axis, out_axis, batch_axis)
    return _kaiming("uniform", mode, nonlinearity, negative_slope, axes, dtype)


def xavier_normal(
    gain: float = 1.0,
    *,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: Any = jnp.float32,
) -> Initializer:
    r"""Glorot/Xavier normal initializer with PyTorch's ``xavier_normal_`` semantics.

    .. math:: W_{ij} \sim \mathcal{N}(0, \sigma^2), \qquad
              \sigma = \text{gain} \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    A plain (not truncated) normal. Not jax's ``xavier_normal``: there the
    name is an alias of ``glorot_normal``, a *truncated* normal without a
    gain; ``gradtx.init.glorot_normal`` is jax's.

    Args:
      gain: a factor on the standard deviation, e.g.
        ``calculate_gain("tanh")``.
      in_axis: the kernel's input axis or axes (Flax: ``-2``).
      out_axis: the kernel's output axis or axes (Flax: ``-1``).
      batch_axis: axes ignored in the fans.
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: ``gain`` negative or not finite, when built; a kernel of
        rank < 2, when called.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> w = init.xavier_normal()(jax.random.key(0), (500, 300), jnp.float32)
      >>> round(float(w.std() / (2 / (500 + 300)) ** 0.5), 1)
      1.0

    References:
      Glorot & Bengio, *Understanding the difficulty of training deep
      feedforward neural networks*, AISTATS 2010,
      https://proceedings.mlr.press/v9/glorot10a.html
    """
    return _xavier("normal", gain, (in_axis, out_axis, batch_axis), dtype)


def xavier_uniform(
    gain: float = 1.0,
    *,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: Any = jnp.float32,
) -> Initializer:
    r"""Glorot/Xavier uniform initializer with PyTorch's ``xavier_uniform_`` semantics.

    .. math:: W_{ij} \sim \mathcal{U}(-b, b), \qquad
              b = \text{gain} \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}

    With ``gain=1`` it draws what jax's ``glorot_uniform`` draws (the same
    law; not the same numbers for the same key). Unlike jax's
    ``xavier_uniform`` alias it takes a ``gain``.

    Args:
      gain: a factor on the bound, e.g. ``calculate_gain("tanh")``.
      in_axis: the kernel's input axis or axes (Flax: ``-2``).
      out_axis: the kernel's output axis or axes (Flax: ``-1``).
      batch_axis: axes ignored in the fans.
      dtype: the default dtype of the weights.

    Returns:
      An initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: ``gain`` negative or not finite, when built; a kernel of
        rank < 2, when called.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import init
      >>> w = init.xavier_uniform()(jax.random.key(0), (3, 3, 16, 32), jnp.float32)
      >>> bool(jnp.abs(w).max() <= (6 / (9 * 16 + 9 * 32)) ** 0.5)
      True

    References:
      Glorot & Bengio, *Understanding the difficulty of training deep
      feedforward neural networks*, AISTATS 2010,
      https://proceedings.mlr.press/v9/glorot10a.html
    """
    return _xavier("uniform", gain, (in_axis, out_axis, batch_axis), dtype)
