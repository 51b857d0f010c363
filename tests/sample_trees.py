"""Sample params and gradients that the tests of several modules share."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

F32 = jnp.float32

# A dense kernel, a conv kernel (HWIO) and a zero bias, with gradients about 3x
# their size: for clipping, norm guards and monitors.
_RNG = np.random.default_rng(0)
LAYER_PARAMS = {
    "dense": jnp.asarray(_RNG.normal(size=(4, 3)), F32),
    "conv": jnp.asarray(_RNG.normal(size=(3, 3, 2, 5)), F32),
    "bias": jnp.zeros(3, F32),
}
LAYER_GRADS = jax.tree.map(
    lambda p: jnp.asarray(_RNG.normal(size=p.shape) * 3, p.dtype), LAYER_PARAMS
)


def norm64(tree: dict) -> float:
    """The global L2 norm of a dict of arrays, in float64 NumPy."""
    return float(
        np.sqrt(sum(np.sum(np.asarray(x, np.float64) ** 2) for x in tree.values()))
    )


def small_params() -> dict:
    """A 2x2 kernel and a bias."""
    return {
        "w": jnp.asarray([[1.0, -2.0], [0.5, 3.0]], F32),
        "b": jnp.asarray([0.1, -0.1], F32),
    }


def small_grads(i: int) -> dict:
    """Gradients for :func:`small_params`, different for each ``i``."""
    rng = np.random.default_rng(i)
    return {
        k: jnp.asarray(rng.normal(size=v.shape), F32) for k, v in small_params().items()
    }
