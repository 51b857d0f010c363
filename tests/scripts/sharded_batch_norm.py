"""Cross-device batch norm on 8 CPU devices; run by test_sharded_batch_norm.py.

It must run in a fresh process whose environment sets
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` before JAX starts.
It prints one JSON object: the largest difference (relative to the
largest reference value, or absolute below 1) between the
sharded computation (batch split 8 ways under ``shard_map``, statistics
averaged over the ``batch`` axis) and the same computation on one device, or
``flax.nnx.BatchNorm`` under the same map (``mask``; ``axis_index_groups``,
under ``pmap``); and, for inputs of large mean, the relative error of the
variances against float64 NumPy.
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


def _relative(value: Any, reference: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(value, np.float64) / reference - 1)))


def large_mean_cases() -> dict[str, float]:
    """Relative errors of the variances against float64 NumPy, for inputs of
    mean 3e3 / 1e4 and variance 1 (the one-pass E[x^2] - E[x]^2 is off by 3 to 19)."""
    out = {}
    noise = RNG.normal(0.0, 1.0, X.shape)

    def run(x: jax.Array, **kw: Any) -> Any:
        norm = functional.batch_renorm if "r_max" in kw else functional.batch_norm
        return norm(
            x, None, None, MEAN, VAR, momentum=0.0, training=True,
            axis_name="batch", **kw,
        )  # fmt: skip

    plain = _sharded(run, (P("batch"),))
    for mu in (3e3, 1e4):
        x = jnp.asarray(mu + noise, jnp.float32)
        ref = np.asarray(x, np.float64).var(axis=(0, 1, 2))
        out[f"large_mean_{mu:g}_var"] = _relative(plain(x)[2], ref)
    x64 = np.asarray(x, np.float64)
    ghost = _sharded(lambda x: run(x, ghost_batch_size=4), (P("batch"),))
    ghost_ref = x64.reshape(16, 4, 4, 4, 3).var(axis=(1, 2, 3)).mean(axis=0)
    out["large_mean_ghost_var"] = _relative(ghost(x)[2], ghost_ref)
    renorm = _sharded(lambda x: run(x, r_max=3.0, d_max=5.0), (P("batch"),))
    out["large_mean_renorm_var"] = _relative(renorm(x)[2], ref)

    # The module: three training steps, the running variance against the EMA.
    graphdef, state = nnx.split(
        gradtx.nn.BatchNorm(3, momentum=0.5, axis_name="batch", rngs=nnx.Rngs(0))
    )

    def step(x: jax.Array, state: Any) -> Any:
        layer = nnx.merge(graphdef, state)
        return layer(x), nnx.state(layer), jnp.zeros(())

    sharded, running = _sharded(step, (P("batch"), P())), np.ones(3)
    for i in range(3):
        _, state, _ = sharded(x + i, state)
        running = 0.5 * running + 0.5 * np.asarray(x + i, np.float64).var((0, 1, 2))
    out["large_mean_module_var"] = _relative(state["var"][...], running)
    return out


def fast_and_mask_cases() -> dict[str, float]:
    """use_fast_variance=True sharded against one device; a mask against Flax."""

    def fast(x: jax.Array, axis_name: str | None) -> Any:
        return functional.batch_norm(
            x, SCALE, BIAS, MEAN, VAR, momentum=0.9, training=True,
            axis_name=axis_name, use_fast_variance=True,
        )  # fmt: skip

    sharded_fast = _sharded(lambda x: fast(x, "batch"), (P("batch"),))
    out = {"fast_batch_norm": _max_diff(sharded_fast(X), fast(X, None))}
    # Examples kept with probabilities that differ between devices.
    keep = (
        RNG.uniform(size=(64, 1, 1, 1)) < np.linspace(0.3, 0.9, 64)[:, None, None, None]
    )
    mask = jnp.asarray(keep)
    pair = (
        gradtx.nn.BatchNorm(3, axis_name="batch", rngs=nnx.Rngs(0)),
        nnx.BatchNorm(3, axis_name="batch", use_fast_variance=False, rngs=nnx.Rngs(0)),
    )
    graphdef, state = nnx.split(pair)

    def step(x: jax.Array, mask: jax.Array, state: Any) -> Any:
        ours, theirs = nnx.merge(graphdef, state)
        y = (ours(x, mask=mask), theirs(x, mask=mask))
        return y, nnx.state((ours, theirs)), jnp.zeros(())

    sharded = _sharded(step, (P("batch"), P("batch"), P()))
    (y_ours, y_theirs), state, _ = sharded(X, mask, state)
    out["mask_module_vs_flax"] = max(
        _max_diff(y_ours, y_theirs),
        _max_diff(state[0]["mean"][...], state[1]["mean"][...]),
        _max_diff(state[0]["var"][...], state[1]["var"][...]),
    )
    return out


def axis_index_groups_cases() -> dict[str, float]:
    """pmap (JAX supports axis_index_groups there only): two groups of four
    interleaved devices normalize apart, as one device on each group's data."""
    groups = [[0, 2, 4, 6], [1, 3, 5, 7]]
    per_device = X.reshape(8, 8, 4, 4, 3)

    def norm(x: jax.Array, axis_name: str | None, **kw: Any) -> Any:
        return functional.batch_norm(
            x, SCALE, BIAS, MEAN, VAR, momentum=0.9, training=True,
            axis_name=axis_name, **kw,
        )  # fmt: skip

    def both(x: jax.Array) -> Any:
        kw: dict[str, Any] = {"axis_name": "d", "axis_index_groups": groups}
        return norm(x, **kw), norm(x, ghost_batch_size=4, **kw)

    plain, ghost = jax.pmap(both, axis_name="d")(per_device)
    one_device = jax.jit(lambda x: (norm(x, None), norm(x, None, ghost_batch_size=4)))
    diffs = []
    for group in map(np.asarray, groups):
        data = per_device[group].reshape(32, 4, 4, 3)
        (y, m, v), (_, ghost_m, ghost_v) = one_device(data)
        diffs += [_max_diff(plain[0][group].reshape(data.shape), y)]
        diffs += [_max_diff((plain[1][group[0]], plain[2][group[0]]), (m, v))]
        diffs += [
            _max_diff((ghost[1][group[0]], ghost[2][group[0]]), (ghost_m, ghost_v))
        ]
    out = {"axis_index_groups": max(diffs)}

    pair = (
        gradtx.nn.BatchNorm(
            3, axis_name="d", axis_index_groups=groups, rngs=nnx.Rngs(0)
        ),
        nnx.BatchNorm(
            3, axis_name="d", axis_index_groups=groups, use_fast_variance=False,
            rngs=nnx.Rngs(0),
        ),
    )  # fmt: skip
    graphdef, state = nnx.split(pair)

    def step(x: jax.Array, state: Any) -> Any:
        ours, theirs = nnx.merge(graphdef, state)
        return (ours(x), theirs(x)), nnx.state((ours, theirs))

    (y_ours, y_theirs), state = jax.pmap(step, axis_name="d", in_axes=(0, None))(
        per_device, state
    )
    out["axis_index_groups_module_vs_flax"] = max(
        _max_diff(y_ours, y_theirs),
        _max_diff(state[0]["var"][...], state[1]["var"][...]),
    )
    return out


if __name__ == "__main__":
    print(
        json.dumps(
            {
                **functional_cases(),
                **module_case(),
                **large_mean_cases(),
                **fast_and_mask_cases(),
                **axis_index_groups_cases(),
            }
        )
    )
