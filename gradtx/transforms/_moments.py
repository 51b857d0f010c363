"""What the blocks that keep running moments of the updates share: the moment
updates inside their per-leaf kernels, and the rules for their
hyperparameters (``scale_by_adam``, ``scale_by_rms``, ``scale_by_stddev``,
``ema``).

The moments are :mod:`gradtx.tree`'s ``update_moment`` family, applied to
float32+ copies of the stored moments: the kernel goes on computing with the
unrounded new moment, and rounds it once, to its stored dtype, at the end.
"""

from __future__ import annotations

from typing import Any

import jax

from gradtx._internal.numerics import up
from gradtx.tree import update_moment, update_moment_per_elem_norm

__all__ = ["DECAY", "EPS_ZERO", "NU_DTYPE_WHY", "ema_of_squares", "ema_of_updates"]

DECAY: dict[str, Any] = {"low": 0.0, "high": 1.0, "high_open": True}
"""``validate.number``'s range of a moment's decay: :math:`[0, 1)`."""

EPS_ZERO = (
    "eps must be in (0, inf){alt}, got eps={eps!r}: with eps = 0 a coordinate "
    "whose gradients have all been 0 divides 0 by 0, and its update is NaN. Use "
    "a small eps such as 1e-8{fix}."
)
NU_DTYPE_WHY = "(it holds |g|^2, a real number)"


def ema_of_updates(g: jax.Array, mu: jax.Array, decay: Any) -> jax.Array:
    r""":math:`(1-\beta)\, g + \beta\, \mu` in at least float32 (not rounded)."""
    return update_moment(g, up(mu), decay, 1)


def ema_of_squares(g: jax.Array, nu: jax.Array, decay: Any) -> jax.Array:
    r""":math:`(1-\beta)\, |g|^2 + \beta\, \nu` in at least float32 (not rounded),
    in optax's order of operations; real also for complex ``g``."""
    return update_moment_per_elem_norm(g, up(nu), decay, 2)
