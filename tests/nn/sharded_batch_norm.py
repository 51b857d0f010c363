"""Cross-device batch norm on 8 CPU devices; run by test_sharded_batch_norm.py.

It must run in a fresh process whose environment sets
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` before JAX starts.
It prints one JSON object: the largest difference (relative to the
largest reference value, or absolute below 1) between the
sharded computation (batch split 8 ways under ``shard_map``, statistics
averaged over the ``batch`` axis) and the same computation on one device.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import PartitionSpec as P

import gradtx.nn
from gradtx.nn import functional

jax.config.update("jax_numpy_rank_promotion", "raise")
assert jax.device_count() == 8, jax.devices()
MESH = jax.make_mesh((8,), ("batch",), axis_types=(jax.sharding.AxisType.Auto,))
RNG = np.random.default_rng(0)
X = jnp.asarray(RNG.normal(2.0, 3.0, (64, 4, 4, 3)), jnp.float32)
SCALE = jnp.asarray(RNG.uniform(0.5, 2.0, 3), jnp.float32)
BIAS = jnp.asarray(RNG.normal(size=3), jnp.float32)
MEAN = jnp.asarray([1.0, 2.0, 3.0], jnp.float32)
VAR = jnp.asarray([4.0, 9.0, 0.5], jnp.float32)
REPLICATED = (P("batch"), P(), P())


def _max_diff(a: Any, b: Any) -> float:
    """The largest difference, relative to each reference leaf's largest value."""
    leaves = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return max(
        float(jnp.max(jnp.abs(x - y)) / jnp.maximum(jnp.max(jnp.abs(y)), 1.0))
        for x, y in leaves
    )


def _sharded(fn: Callable[..., Any], in_specs: Any) -> Callable[..., Any]:
    return jax.jit(
        jax.shard_map(fn, mesh=MESH, in_specs=in_specs, out_specs=REPLICATED)
    )


def functional_cases() -> dict[str, float]:
    out = {}
    cases = {
        "batch_norm": (functional.batch_norm, {}),
        "batch_renorm": (functional.batch_renorm, {"r_max": 1.5, "d_max": 0.5}),
        # Ghost batches of one device's 8 examples: local statistics, shared update.
        "ghost_batch_norm": (functional.batch_norm, {"ghost_batch_size": 8}),
    }
    for name, (norm, kwargs) in cases.items():

        def run(
            x: jax.Array, s: jax.Array, axis_name: str | None, norm=norm, kw=kwargs
        ):
            return norm(
                x, s, BIAS, MEAN, VAR, momentum=0.9, training=True,
                axis_name=axis_name, **kw,
            )  # fmt: skip

        sharded = _sharded(lambda x, s, run=run: run(x, s, "batch"), (P("batch"), P()))
        out[name] = _max_diff(sharded(X, SCALE), run(X, SCALE, None))

        # Gradients through the cross-device statistics (input and scale).
        def loss(f: Callable[..., Any]) -> Callable[..., jax.Array]:
            return lambda x, s: jnp.sum(jnp.sin(f(x, s)[0]))

        g_sharded = jax.grad(loss(sharded), (0, 1))(X, SCALE)
        g_single = jax.grad(loss(lambda x, s, run=run: run(x, s, None)), (0, 1))(
            X, SCALE
        )
        out[name + "_grad"] = _max_diff(g_sharded, g_single)
    return out


def module_case() -> dict[str, float]:
    def build(axis_name: str | None) -> gradtx.nn.BatchNorm:
        layer = gradtx.nn.BatchNorm(
            3, momentum=0.9, axis_name=axis_name, rngs=nnx.Rngs(0)
        )
        layer.scale[...] = SCALE
        return layer

    graphdef, state = nnx.split(build("batch"))

    def step(x: jax.Array, state: Any) -> Any:
        layer = nnx.merge(graphdef, state)
        y = layer(x)
        return y, nnx.state(layer), jnp.zeros(())

    sharded = _sharded(step, (P("batch"), P()))
    single = build(None)
    diffs = []
    for i in range(3):  # three training steps, the statistics carried over
        x = X * (1 + 0.1 * i) + i
        y, state, _ = sharded(x, state)
        diffs.append(_max_diff(y, single(x)))
    diffs.append(_max_diff(state["mean"][...], single.mean[...]))
    diffs.append(_max_diff(state["var"][...], single.var[...]))
    return {"module_three_steps": max(diffs)}


if __name__ == "__main__":
    print(json.dumps({**functional_cases(), **module_case()}))
