"""Gradient noise (``add_noise``), with its PRNG key kept in the state.

The update rule is written once, on :func:`gradtx.noisy_sgd`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.tree import split_key_like

__all__ = ["AddNoiseState", "add_noise"]

_KEY_HINT = (
    "key must be a PRNG key or an int seed, e.g. key=jax.random.key(0) or key=0; "
    "got {key!r}. The noise is drawn from it, and the state carries it on, so "
    "that a run is reproducible (optax 0.2.8 falls back to 0 with a warning)."
)


class AddNoiseState(NamedTuple):
    """State of :func:`add_noise`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    rng_key: jax.Array  # uint32[...]: the next key's data (jax.random.key_data)


def _key_data(fn: str, key: Any) -> tuple[jax.Array, Any]:
    """The data and implementation of ``key`` (a typed key, a raw key or a seed)."""
    if isinstance(key, int | np.integer) and not isinstance(key, bool | np.bool_):
        key = jax.random.key(int(key))
    elif isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jnp.uint32):
        key = jax.random.wrap_key_data(key)  # a legacy jax.random.PRNGKey
    if not (
        isinstance(key, jax.Array)
        and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        and key.shape == ()
    ):
        raise validate.error(TypeError, fn, _KEY_HINT.format(key=key))
    return jax.random.key_data(key), jax.random.key_impl(key)


def add_noise(
    eta: Any, gamma: Any, key: Any = None, *, seed: int | None = None
) -> GradientTransformation:
    r"""Adds annealed Gaussian noise to the updates (Neelakantan et al. 2015).

    .. math::
       u_t \leftarrow u_t + \mathcal N(0, \sigma_t^2), \qquad
       \sigma_t^2 = \frac{\eta}{(1 + t)^\gamma}

    with :math:`t = 0, 1, \dots` the step; see :func:`gradtx.noisy_sgd`. Each
    leaf gets its own draw, from keys split as ``optax.add_noise`` splits
    them, so the noise is optax's for float32 and complex64 leaves (complex
    noise has :math:`E|n|^2 = \sigma_t^2`); for bfloat16 and float16 leaves it
    is drawn in float32 and added before rounding. The key travels in the
    state as its data (``uint32``), so the state checkpoints and compares like
    any other array.

    Args:
      eta: :math:`\eta \ge 0`, the variance at the first step.
      gamma: :math:`\gamma \ge 0`, the annealing exponent (0.55 in the paper).
      key: a PRNG key (``jax.random.key(0)``, or a legacy
        ``jax.random.PRNGKey``) or an int seed; required (optax's default,
        None, stands for 0 with a warning).
      seed: optax's deprecated spelling of an int ``key``; give one of the two.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`AddNoiseState`.

    Raises:
      ValueError: ``eta`` or ``gamma`` is out of range.
      TypeError: ``key`` is missing or not a key.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> tx = gradtx.add_noise(eta=0.01, gamma=0.55, key=jax.random.key(0))
      >>> state = tx.init(jnp.zeros(3))
      >>> u, state = tx.update(jnp.ones(3), state)
      >>> bool(jnp.all(jnp.abs(u - 1) < 0.5)), int(state.count)
      (True, 1)

    References:
      Neelakantan, Vilnis, Le, Sutskever, Kaiser, Kurach & Martens, *Adding
      Gradient Noise Improves Learning for Very Deep Networks*, 2015,
      https://arxiv.org/abs/1511.06807
    """
    fn = validate.who("add_noise")
    validate.number(fn, "eta", eta, low=0.0)
    validate.number(fn, "gamma", gamma, low=0.0)
    if seed is not None:
        if key is not None:
            raise validate.error(
                TypeError,
                fn,
                f"give key or seed, not both; got key={key!r}, seed={seed!r}.",
            )
        key = seed
    data, impl = _key_data(fn, key)

    def init(params: Params) -> AddNoiseState:
        validate.params(fn, params)
        return AddNoiseState(count=zero_count(), rng_key=data)

    def leaf(g: jax.Array, k: jax.Array, std: jax.Array) -> jax.Array:
        wide = numerics.compute_dtype(g.dtype)
        noise = jax.random.normal(k, g.shape, wide)
        return (up(g) + std.astype(wide) * noise).astype(g.dtype)

    def update(
        updates: Updates, state: AddNoiseState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, AddNoiseState]:
        validate.updates(fn, updates, params)
        count = safe_increment(state.count)
        t = count.astype(jnp.result_type(float))
        std = jnp.sqrt(eta / t**gamma)
        rng_key, sample_key = jax.random.split(
            jax.random.wrap_key_data(state.rng_key, impl=impl)
        )
        keys = split_key_like(sample_key, updates)
        out = numerics.leafwise(leaf, updates, keys, scalars=(std,))
        return out, AddNoiseState(count=count, rng_key=jax.random.key_data(rng_key))

    return GradientTransformation(init, update)
