"""recompute_batch_stats against a NumPy forward pass of the same network."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import gradtx.nn

RNG = np.random.default_rng(3)
BATCHES = [
    jnp.asarray(RNG.normal(i, 1 + i, size=(16, 5)), jnp.float32) for i in range(3)
]


class Net(nnx.Module):
    """Linear -> BN -> ReLU -> Dropout -> Linear -> BN (Flax's or ours)."""

    def __init__(self, norm: type, *, dropout: float = 0.0) -> None:
        rngs = nnx.Rngs(0, dropout=1)
        self.l1 = nnx.Linear(5, 6, rngs=rngs)
        self.n1 = norm(6, rngs=rngs)
        self.drop = gradtx.nn.Dropout(dropout, rngs=rngs)
        self.l2 = nnx.Linear(6, 3, rngs=rngs)
        self.n2 = norm(3, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        h = self.drop(jax.nn.relu(self.n1(self.l1(x))))
        return self.n2(self.l2(h))


def _numpy_stats(net: Net) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-layer averages of the batch statistics, in float64, no dropout."""
    p = {
        k: np.asarray(v[...], np.float64)
        for k, v in nnx.to_flat_state(nnx.state(net, nnx.Param))
        for k in ["/".join(map(str, k))]
    }
    sums = [[0.0, 0.0], [0.0, 0.0]]
    for x in BATCHES:
        h = np.asarray(x, np.float64) @ p["l1/kernel"] + p["l1/bias"]
        mu, var = h.mean(0), h.var(0)
        sums[0][0] += mu
        sums[0][1] += var
        h = (h - mu) / np.sqrt(var + 1e-5) * p["n1/scale"] + p["n1/bias"]
        h = np.maximum(h, 0) @ p["l2/kernel"] + p["l2/bias"]
        sums[1][0] += h.mean(0)
        sums[1][1] += h.var(0)
    return [(m / len(BATCHES), v / len(BATCHES)) for m, v in sums]


@pytest.mark.parametrize("norm", [gradtx.nn.BatchNorm, nnx.BatchNorm])
def test_statistics_are_the_average_over_batches(norm: type) -> None:
    net = Net(norm, dropout=0.5)
    for layer in (net.n1, net.n2):  # non-trivial parameters and stale stats
        layer.scale[...] = jnp.linspace(0.5, 2.0, layer.num_features, dtype=jnp.float32)
        layer.bias[...] = jnp.linspace(-1.0, 1.0, layer.num_features, dtype=jnp.float32)
        layer.mean[...] = layer.mean[...] + 7.0
    params_before = nnx.clone(nnx.state(net, nnx.Param))
    assert gradtx.nn.recompute_batch_stats(net, BATCHES) == 3
    for layer, (mean, var) in zip((net.n1, net.n2), _numpy_stats(net), strict=True):
        np.testing.assert_allclose(layer.mean[...], mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(layer.var[...], var, rtol=1e-5, atol=1e-5)
    # Parameters and modes are the user's, unchanged.
    for (_, a), (_, b) in zip(
        nnx.to_flat_state(params_before),
        nnx.to_flat_state(nnx.state(net, nnx.Param)),
        strict=True,
    ):
        np.testing.assert_array_equal(a[...], b[...])
    assert net.n1.momentum == 0.99 and net.n1.use_running_average is False
    assert net.drop.deterministic is False


def test_renorm_and_ghost_layers_and_a_custom_forward() -> None:
    def build(**kwargs: object) -> nnx.Sequential:
        return nnx.Sequential(
            nnx.Linear(5, 4, rngs=nnx.Rngs(0)),
            gradtx.nn.BatchNorm(4, rngs=nnx.Rngs(0), **kwargs),  # type: ignore[arg-type]
        )

    renorm = build(renorm=True)
    steps_before = int(renorm.layers[1].renorm_steps[...])
    pairs = [(x, None) for x in BATCHES]
    gradtx.nn.recompute_batch_stats(renorm, pairs, forward=lambda m, b: m(b[0]))
    plain = build()
    gradtx.nn.recompute_batch_stats(plain, BATCHES)
    np.testing.assert_allclose(renorm.layers[1].var[...], plain.layers[1].var[...])
    assert int(renorm.layers[1].renorm_steps[...]) == steps_before
    # Ghost layers average the ghost batches' statistics.
    ghost = build(ghost_batch_size=4)
    gradtx.nn.recompute_batch_stats(ghost, BATCHES)
    kernel = np.asarray(ghost.layers[0].kernel[...], np.float64)
    hs = [np.asarray(x, np.float64) @ kernel for x in BATCHES]
    ref = np.mean([h.reshape(4, 4, 4).var(axis=1).mean(0) for h in hs], axis=0)
    np.testing.assert_allclose(ghost.layers[1].var[...], ref, rtol=1e-5)


def test_a_failing_pass_leaves_the_statistics_alone() -> None:
    net = Net(gradtx.nn.BatchNorm)
    before = nnx.clone(nnx.state(net, nnx.BatchStat))

    def batches():
        yield BATCHES[0]
        raise RuntimeError("data loader broke")

    with pytest.raises(RuntimeError, match="data loader"):
        gradtx.nn.recompute_batch_stats(net, batches())
    for (_, a), (_, b) in zip(
        nnx.to_flat_state(before),
        nnx.to_flat_state(nnx.state(net, nnx.BatchStat)),
        strict=True,
    ):
        np.testing.assert_array_equal(a[...], b[...])


def test_errors() -> None:
    with pytest.raises(ValueError, match="batches is empty"):
        gradtx.nn.recompute_batch_stats(Net(gradtx.nn.BatchNorm), [])
    with pytest.raises(ValueError, match="no BatchNorm layer"):
        gradtx.nn.recompute_batch_stats(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), BATCHES)
