"""jax.nn.initializers' builders, checked when built (private)."""

from __future__ import annotations

from typing import Any, cast

import jax

from gradtx._internal import validate
from gradtx.init._common import Axes

__all__ = ["variance_scaling"]

_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: Any = None,
) -> jax.nn.initializers.Initializer:
    r"""``jax.nn.initializers.variance_scaling``, with its arguments checked at once.

    .. math:: \operatorname{Var}[W_{ij}] = \frac{\text{scale}}{n}, \qquad
              n = \text{fan\_in},\ \text{fan\_out},\
              \tfrac{1}{2}(\text{fan\_in} + \text{fan\_out}) \text{ or }
              \sqrt{\text{fan\_in}\,\text{fan\_out}}

    for ``mode`` ``"fan_in"``, ``"fan_out"``, ``"fan_avg"``, ``"fan_geo_avg"``;
    ``distribution`` is ``"truncated_normal"`` (cut at two standard
    deviations, then rescaled to keep the variance), ``"normal"`` or
    ``"uniform"``. The initializer it returns is jax's own (the same numbers
    for the same key); but where jax checks ``mode`` and ``distribution`` only
    when the initializer is first called, a typo here fails when it is built.

    ``glorot_*``, ``he_*`` and ``lecun_*`` are this with scale 1, 2, 1 and mode
    fan_avg, fan_in, fan_in.

    Args:
      scale: the variance's numerator (> 0).
      mode: which fan divides it (see above).
      distribution: ``"truncated_normal"``, ``"normal"`` or ``"uniform"``.
      in_axis: the kernel's input axis or axes (Flax: ``-2``).
      out_axis: the kernel's output axis or axes (Flax: ``-1``).
      batch_axis: axes ignored in the fans.
      dtype: the default dtype of the weights (None: jax's default float).

    Returns:
      jax's initializer ``init(key, shape, dtype) -> jax.Array``.

    Raises:
      ValueError: ``scale`` not positive and finite, or an unknown ``mode``
        or ``distribution`` (the message lists the valid ones).

    Example:
      >>> from gradtx import init
      >>> init.variance_scaling(2.0, "fan_avg", "cauchy")
      Traceback (most recent call last):
      ...
      ValueError: variance_scaling: distribution='cauchy' is not valid; ...

    References:
      He et al., *Delving Deep into Rectifiers: Surpassing Human-Level
      Performance on ImageNet Classification*, ICCV 2015,
      https://arxiv.org/abs/1502.01852
    """
    fn = "variance_scaling"
    validate.number(fn, "scale", scale, low=0.0, low_open=True, high_open=True)
    validate.choice(fn, "mode", mode, _MODES)
    validate.choice(fn, "distribution", distribution, _DISTRIBUTIONS)
    return jax.nn.initializers.variance_scaling(
        scale,
        cast(Any, mode),
        cast(Any, distribution),
        in_axis=in_axis,
        out_axis=out_axis,
        batch_axis=batch_axis,
        dtype=dtype,
    )
