"""gradtx.nn.functional.batch_norm against NumPy and flax.nnx.BatchNorm."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from gradtx.nn import functional as fn_

RNG = np.random.default_rng(0)
X = jnp.asarray(RNG.normal(2.0, 3.0, size=(16, 5, 5, 4)), jnp.float32)
SCALE = jnp.asarray(RNG.uniform(0.5, 2.0, size=4), jnp.float32)
BIAS = jnp.asarray(RNG.normal(size=4), jnp.float32)


def _numpy_batch_norm(x: np.ndarray, scale: np.ndarray, bias: np.ndarray, eps: float):
    """From the paper's formula, in float64, features last."""
    x = x.astype(np.float64)
    mu = x.mean(axis=(0, 1, 2))
    var = x.var(axis=(0, 1, 2))  # biased, as in training
    return (x - mu) / np.sqrt(var + eps) * scale + bias, mu, var


def test_training_output_and_statistics_match_numpy() -> None:
    y, m, v = fn_.batch_norm(
        X, SCALE, BIAS, jnp.zeros(4), jnp.ones(4), momentum=0.9, training=True
    )
    ref, mu, var = _numpy_batch_norm(
        np.asarray(X), np.asarray(SCALE), np.asarray(BIAS), 1e-5
    )
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m, 0.1 * mu, rtol=1e-5)
    np.testing.assert_allclose(v, 0.9 + 0.1 * var, rtol=1e-5)


def test_matches_flax_batch_norm_in_training_eval_and_gradients() -> None:
    layer = nnx.BatchNorm(4, momentum=0.9, rngs=nnx.Rngs(0))
    layer.scale[...] = SCALE
    layer.bias[...] = BIAS
    mean, var = jnp.zeros(4), jnp.ones(4)
    for i in range(5):
        x = X * (1 + 0.1 * i) + i
        theirs = layer(x)
        ours, mean, var = fn_.batch_norm(
            x, SCALE, BIAS, mean, var, momentum=0.9, training=True
        )
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mean, layer.mean[...], rtol=1e-5)
    np.testing.assert_allclose(var, layer.var[...], rtol=1e-5)
    layer.eval()
    ours, m2, v2 = fn_.batch_norm(X, SCALE, BIAS, mean, var, training=False)
    np.testing.assert_allclose(ours, layer(X), rtol=1e-5, atol=1e-5)
    assert m2 is mean and v2 is var
    # Gradients with respect to the input, in training mode.
    layer.train()
    g_ours = jax.grad(
        lambda x: jnp.sum(
            jnp.sin(fn_.batch_norm(x, SCALE, BIAS, mean, var, training=True)[0])
        )
    )(X)

    def flax_loss(x: jax.Array) -> jax.Array:
        fresh = nnx.BatchNorm(4, rngs=nnx.Rngs(0))
        fresh.scale[...] = SCALE
        fresh.bias[...] = BIAS
        return jnp.sum(jnp.sin(fresh(x)))

    np.testing.assert_allclose(g_ours, jax.grad(flax_loss)(X), rtol=1e-4, atol=1e-5)


def test_axis_name_averages_statistics_across_shards() -> None:
    # vmap with an axis name stands in for devices: 4 shards of 4 examples.
    shards = X.reshape(4, 4, 5, 5, 4)

    def per_shard(x: jax.Array) -> tuple:
        return fn_.batch_norm(
            x, SCALE, BIAS, jnp.zeros(4), jnp.ones(4), training=True, axis_name="d"
        )

    y, m, v = jax.vmap(per_shard, axis_name="d")(shards)
    whole, wm, wv = fn_.batch_norm(
        X, SCALE, BIAS, jnp.zeros(4), jnp.ones(4), training=True
    )
    np.testing.assert_allclose(y.reshape(X.shape), whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m[0], wm, rtol=1e-6)
    np.testing.assert_allclose(v[0], wv, rtol=1e-6)


def test_bfloat16_input_keeps_float32_statistics() -> None:
    x = (X * 100 + 1000).astype(jnp.bfloat16)  # mean^2 >> var: needs float32
    stats = jnp.zeros(4, jnp.float32), jnp.ones(4, jnp.float32)
    y, m, v = fn_.batch_norm(x, None, None, *stats, momentum=0.0, training=True)
    assert y.dtype == jnp.bfloat16 and m.dtype == jnp.float32
    ref = np.asarray(x, np.float64).var(axis=(0, 1, 2))
    np.testing.assert_allclose(v, ref, rtol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"momentum": 1.5}, "momentum"),
        ({"mask": jnp.ones((16, 5), bool)}, r"\(16, 5\).*\(16, 5, 5, 4\)"),
        ({"axis_index_groups": [[0, 1]]}, "axis_name is None"),
    ],
)
def test_bad_hyperparameters(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fn_.batch_norm(
            X, None, None, jnp.zeros(4), jnp.ones(4), training=True, **kwargs
        )


def test_feature_count_mismatch_names_both_numbers() -> None:
    with pytest.raises(ValueError, match=r"shape \(3,\) but the input has 4 features"):
        fn_.batch_norm(X, jnp.ones(3), None, jnp.zeros(4), jnp.ones(4), training=True)
